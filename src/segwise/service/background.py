"""Use case: segmentation runs executed in the background of a long-lived process (the
dashboard's server), queued in the catalog like the API's runs.

A page records a queued run (``start_run``) and hands its id to the process's one
``BackgroundRuns``; a thread executes it (``execute_run``), so leaving or reloading the page
never stops it, and every session of the process sees its stage and result. ``cancel_run``
marks a queued or running run cancelled in the catalog; the worker checks between stages and
stops at the next one, leaving no file behind. A run whose process died is marked failed at
the next ``list_runs``, as before.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from segwise.config import Settings, get_settings
from segwise.errors import SegwiseError
from segwise.service.datasets import open_catalog
from segwise.store.catalog import now

if TYPE_CHECKING:
    from segwise.segment.pipeline import Segmentation

log = logging.getLogger("segwise.service")

ACTIVE = ("queued", "running")
CANCELLED = "cancelled"
KEEP_RESULTS = 4
"""Finished runs whose in-memory result (charts' data) a process keeps for its pages."""


class RunCancelledError(SegwiseError):
    """A run was cancelled while it worked; it stops at the next stage."""


@dataclass(frozen=True)
class RunStage:
    """Where a background run is: its catalog status and, while it works, its stage."""

    run_id: str
    status: str
    stage: str
    error: str | None


def cancel_run(run_id: str, *, settings: Settings | None = None) -> RunStage:
    """Mark a queued or running run cancelled (analysts and admins; audited). A run that has
    already ended is left as it is and returned."""
    from segwise.service.audit import record_event, require

    require("run")
    settings = settings or get_settings()
    catalog = open_catalog(settings)
    run = catalog.run(run_id)
    if run.status in ACTIVE:
        catalog.update_run(run.id, status=CANCELLED, error="cancelled", finished=now())
        record_event("run.cancel", run.id, {}, settings=settings)
        run = catalog.run(run.id)
    return RunStage(run.id, run.status, "", run.error)


class BackgroundRuns:
    """Executes queued runs in threads of this process, ``workers`` at a time, and keeps the
    stage of each and the results of the last few (one instance per server process)."""

    def __init__(self, settings: Settings | None = None, *, workers: int = 1) -> None:
        self.settings = settings or get_settings()
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="segwise-background")
        self._lock = threading.Lock()
        self._stages: dict[str, str] = {}
        self._results: OrderedDict[str, Segmentation] = OrderedDict()

    def submit(self, run_id: str) -> Future[str]:
        """Execute a queued run in the background; the future gives its final status."""
        from segwise.service.audit import current_actor

        with self._lock:
            self._stages[run_id] = "waiting for its turn"
        return self._executor.submit(self._work, run_id, current_actor())

    def stage(self, run_id: str) -> RunStage:
        """The run's status (from the catalog) and, while it works here, its stage."""
        run = open_catalog(self.settings).run(run_id)
        with self._lock:
            stage = self._stages.get(run_id, "") if run.status in ACTIVE else ""
        return RunStage(run.id, run.status, stage, run.error)

    def result(self, run_id: str) -> Segmentation | None:
        """The in-memory result of a run this process finished lately, else None."""
        with self._lock:
            return self._results.get(run_id)

    def shutdown(self) -> None:
        """Stop taking runs; a run still working is marked failed at the next start."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _work(self, run_id: str, actor: object) -> str:
        from segwise.service.audit import Actor, acting_as
        from segwise.service.runs import execute_run

        assert isinstance(actor, Actor)
        catalog = open_catalog(self.settings)

        def progress(stage: str) -> None:
            with self._lock:
                self._stages[run_id] = stage
            if catalog.run(run_id).status == CANCELLED:
                raise RunCancelledError(f"run {run_id} was cancelled")

        try:
            with acting_as(actor):
                if catalog.run(run_id).status != "queued":
                    return catalog.run(run_id).status  # cancelled before its turn
                seg = execute_run(run_id, settings=self.settings, progress=progress)
            with self._lock:
                self._results[run_id] = seg
                while len(self._results) > KEEP_RESULTS:
                    self._results.popitem(last=False)
            return "done"
        except RunCancelledError:  # execute_run removed its files; it stays cancelled
            return CANCELLED
        except SegwiseError:
            return "failed"  # recorded in the catalog with its message
        except Exception:
            log.exception("background run %s failed", run_id)
            return "failed"
        finally:
            with self._lock:
                self._stages.pop(run_id, None)
