"""Use case on transaction logs: RFM per customer."""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path

from segwise.config import Settings, get_settings
from segwise.engines.result import RfmEngine, RfmResult
from segwise.errors import InputError
from segwise.features.rfm import DEFAULT_GRID, RfmOptions, SegmentGrid
from segwise.io.grid import read_grid


def compute_rfm(
    path: str | Path,
    options: RfmOptions | None = None,
    *,
    engine: str = "local",
    settings: Settings | None = None,
) -> RfmResult:
    """RFM per customer from a transaction log file (CSV/TSV/XLSX/Parquet); the file is read
    once, its kept lines not kept (``RfmResult.lines`` is None)."""
    run = rfm_engine(engine)
    return run(path, options or RfmOptions(), settings or get_settings(), keep_lines=False)


def rfm_engine(engine: str) -> RfmEngine:
    """The engine of that name, its module imported only now (PySpark only for ``spark``)."""
    check_engine(engine)
    module = importlib.import_module(f"segwise.engines.{engine}")
    found: RfmEngine = module.compute_rfm
    return found


def check_engine(engine: str) -> None:
    """Accept ``local`` and ``spark``; PySpark is imported only for ``spark`` and, when it is
    not installed, that is one line saying how to install it."""
    if engine not in ("local", "spark"):
        raise InputError(f"unknown engine '{engine}'", hint="use --engine local or --engine spark")
    if engine == "spark" and importlib.util.find_spec("pyspark") is None:
        raise InputError(
            "--engine spark needs PySpark, which is not installed",
            hint="install segwise[spark] (pip install 'segwise[spark]')",
        )


def load_grid(path: str | Path | None) -> SegmentGrid:
    """The segment grid of a file (``--segments``), or the standard grid."""
    if path is None:
        return DEFAULT_GRID
    return SegmentGrid.from_mapping(read_grid(path), source=Path(path).name)


def parse_as_of(text: str | None) -> date | None:
    """``--as-of YYYY-MM-DD`` as a date (None keeps the default: the day after the last line)."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"--as-of '{text}' is not a date", hint="use YYYY-MM-DD") from None
