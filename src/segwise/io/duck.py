"""Every DuckDB connection that reads customers' data: the configured threads, memory cap and
spill folder, so no query of segwise's outgrows ``SEGWISE_MEMORY_LIMIT`` or spills where
nobody cleans up."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from segwise.config import Settings, get_settings
from segwise.io.processes import alive
from segwise.io.sql import literal

if TYPE_CHECKING:
    import duckdb

SPILL_PREFIX = "segwise-spill-"


def connect(settings: Settings | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the configured threads, memory cap (``duckdb_memory_limit``)
    and spill folder.

    The spill folder is this connection's own (``segwise-spill-<pid>-<random>`` in the temp
    folder): DuckDB creates it when a query outgrows the cap and removes it on close, and
    folders left by killed processes are removed here.
    """
    import duckdb  # here: importing this module costs nothing until a connection is opened

    settings = settings or get_settings()
    con = duckdb.connect(config={"preserve_insertion_order": True})
    if settings.threads:
        con.execute(f"SET threads = {int(settings.threads)}")
    con.execute(f"SET memory_limit = {literal(settings.duckdb_memory_limit())}")
    remove_stale_spill()
    spill = Path(tempfile.gettempdir()) / f"{SPILL_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    con.execute(f"SET temp_directory = {literal(str(spill))}")
    return con


def remove_stale_spill(folder: Path | None = None) -> list[Path]:
    """Remove the spill folders of processes that no longer run (killed mid-query)."""
    removed = []
    for path in (folder or Path(tempfile.gettempdir())).glob(f"{SPILL_PREFIX}*-*"):
        pid = path.name[len(SPILL_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed
