"""Use case: what the customers of a finished run are worth, per segment of the run.

The run's dataset keeps its cleaned lines (Parquet), so the repeat-purchase summary is the
same SQL text as ``segwise value`` runs, read from there; each customer carries the run's
segment name. Results are kept in memory per run and options (runs never change).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb

from segwise.config import Settings, get_settings
from segwise.errors import InputError
from segwise.io.duck import connect
from segwise.io.sql import literal
from segwise.service.datasets import open_catalog
from segwise.service.runs import done_run
from segwise.service.value import CustomerValue, ValueOptions, value_of
from segwise.service.value_columns import stored_summary_sql


def run_value(
    run_id: str, options: ValueOptions | None = None, *, settings: Settings | None = None
) -> CustomerValue:
    """P(alive), expected purchases and value, CLV and churn risk of a run's customers, with
    totals per segment of the run (``segments``); a run of a customer table is refused. With
    ``options.holdout_days``, also the hold-out check on the run's stored lines (``check``)."""
    settings = settings or get_settings()
    return _run_value(str(settings.home), settings.database_url, run_id, options or ValueOptions())


@lru_cache(maxsize=16)
def _run_value(home: str, url: str | None, run_id: str, options: ValueOptions) -> CustomerValue:
    catalog = open_catalog(
        get_settings().model_copy(update={"home": Path(home), "database_url": url})
    )
    run = done_run(catalog, run_id)
    dataset = run.dataset
    if dataset.kind != "transactions":
        raise InputError(
            f"run {run.id} segments a customer table, which has no purchases to value",
            hint="value needs a run on a transaction log",
        )
    assert run.path is not None
    lines = literal(str(Path(home) / dataset.path))
    assignments = literal(str(Path(home) / run.path / "assignments.parquet"))
    with connect() as con:
        end = options.calibration_end or _last_day(con, lines)
        summary = stored_summary_sql(Path(home) / dataset.path, end)
        frame = con.execute(
            f"SELECT s.*, a.segment_name FROM ({summary}) AS s "
            f"JOIN read_parquet({assignments}) AS a USING (customer_id) ORDER BY s.customer_id"
        ).df()
    if frame.empty:
        raise InputError(
            f"run {run.id} has no customer with a purchase up to {end}",
            hint="use a later calibration end",
        )
    found = value_of(frame, options, end, f"run {run.id}")
    if options.holdout_days is not None:
        from segwise.service.value_check import check_stored_lines

        found.check = check_stored_lines(
            Path(home) / dataset.path, end, options.holdout_days, options.calibration_end
        )
    return found


def _last_day(con: duckdb.DuckDBPyConnection, lines: str) -> date:
    row = con.execute(f"SELECT max(day) FROM read_parquet({lines})").fetchone()
    day: Any = row[0] if row else None
    if not isinstance(day, date):
        raise InputError("the run's dataset has no purchase lines", hint="ingest the log again")
    return day
