"""Import the modelling libraries in a background thread while the data is read.

scikit-learn, SciPy and skops take one to two seconds to import, about as long as DuckDB takes
to read, clean and aggregate a million lines, and DuckDB releases the interpreter while it
works: importing them meanwhile takes that time off a segmentation. Only third-party modules
are warmed, so the thread never holds a lock on a segwise module the caller may import.

The first time, the collector rests while they import and the objects then alive are frozen
(``gc.freeze``): the modules' functions, classes and tables live as long as the process, and
the full collections the imports set off walked all of them again and again (0.3 s of a
one-million-line segmentation).
"""

from __future__ import annotations

import gc
import importlib
import logging
import threading

log = logging.getLogger("segwise")

MODELLING = (
    "sklearn.cluster",
    "sklearn.metrics",
    "sklearn.pipeline",
    "skops.io",
    "pyarrow.parquet",
)
"""What a segmentation imports after its data is read (pyarrow.parquet: the RFM kept by the
ingest is read back with it, ~0.1 s the first time)."""


def warm(modules: tuple[str, ...] = MODELLING) -> threading.Thread:
    """Start importing ``modules`` in a daemon thread and return it (joining is optional: the
    caller's own import of a module waits for the thread to finish it)."""
    thread = threading.Thread(target=_import_all, args=(modules,), name="segwise-warm", daemon=True)
    thread.start()
    return thread


_frozen = threading.Event()


def _import_all(modules: tuple[str, ...]) -> None:
    first = not _frozen.is_set()
    collecting = first and gc.isenabled()
    if collecting:
        gc.disable()  # imports make no garbage worth collecting, only long-lived objects
    try:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # the caller's own import raises it where it can be reported
                log.debug("warming %s failed", name, exc_info=True)
                return
    finally:
        if first:
            _frozen.set()
            gc.freeze()
        if collecting:
            gc.enable()
