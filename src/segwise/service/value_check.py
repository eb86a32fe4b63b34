"""Use case: how well the value models predict, checked on the log itself.

BG/NBD is fitted on a calibration period (the log up to a day) and its expected purchases in
the hold-out (the weeks after) are set beside the purchases that happened, per group of
customers by their repeat purchases in the calibration period (0, 1, ..., 7+). The summary up
to the calibration end and each customer's purchase days in the hold-out are one SQL text
over the same cleaned lines (``features/value_summary.py``); only the distinct (x, t_x, T)
rows reach Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from segwise.config import Settings, get_settings
from segwise.errors import FitError, InputError
from segwise.features.rfm import RfmOptions
from segwise.features.value_summary import holdout_rows_sql
from segwise.io.duck import connect
from segwise.io.sql import relation
from segwise.service.value_tables import MIN_REPEAT_CUSTOMERS, PERIOD_DAYS
from segwise.value.bgnbd import BgNbd
from segwise.value.holdout import HoldoutGroup, holdout_groups

if TYPE_CHECKING:
    import duckdb

HOLDOUT_DAYS = 91
"""The default hold-out: the last 13 weeks of the data."""


@dataclass(frozen=True)
class ValueCheck:
    """The hold-out check: per group, predicted beside actual purchases in the hold-out, with
    the BG/NBD parameters learned before it; or only a ``note`` saying why it cannot be made."""

    calibration_end: date
    holdout_end: date
    groups: list[HoldoutGroup] = field(default_factory=list)
    bgnbd: dict[str, float] = field(default_factory=dict)
    note: str | None = None

    @property
    def holdout_weeks(self) -> float:
        """The hold-out's length in weeks (the models' time unit)."""
        return (self.holdout_end - self.calibration_end).days / PERIOD_DAYS

    def summary(self) -> dict[str, Any]:
        """JSON-ready: the periods, then the groups and totals, or the note."""
        out: dict[str, Any] = {
            "calibration_end": self.calibration_end.isoformat(),
            "holdout_start": (self.calibration_end + timedelta(days=1)).isoformat(),
            "holdout_end": self.holdout_end.isoformat(),
            "holdout_weeks": round(self.holdout_weeks, 4),
        }
        if self.note is not None:
            return out | {"note": self.note}
        return out | {
            "customers": sum(g.customers for g in self.groups),
            "bgnbd": {k: round(v, 6) for k, v in self.bgnbd.items()},
            "groups": [
                {
                    "repeat_purchases": g.repeat_purchases,
                    "customers": g.customers,
                    "actual_mean": round(g.actual_mean, 4),
                    "predicted_mean": round(g.predicted_mean, 4),
                    "actual_total": round(g.actual_total, 2),
                    "predicted_total": round(g.predicted_total, 2),
                }
                for g in self.groups
            ],
            "actual_total": round(sum(g.actual_total for g in self.groups), 2),
            "predicted_total": round(sum(g.predicted_total for g in self.groups), 2),
        }


def check_lines(
    con: duckdb.DuckDBPyConnection,
    lines: str,
    *,
    holdout_days: int = HOLDOUT_DAYS,
    calibration_end: date | None = None,
    data_end: date | None = None,
    source: str = "log",
) -> ValueCheck:
    """The check on ``lines`` (a table or query of ``con``: customer_id, day, value,
    is_return). With ``calibration_end`` the hold-out is the ``holdout_days`` after it;
    without, the last ``holdout_days`` up to ``data_end`` (default: the last line's day).
    Data that cannot support the check (too short, too few repeat customers, no convergence)
    gives a ``ValueCheck`` with only a note saying why."""
    found = con.execute(f"SELECT min(day), max(day) FROM {relation(lines, 'l')}").fetchone()
    if found is None or found[0] is None:
        raise InputError("the log has no purchase lines", file=source)
    first, last = found[0], min(found[1], data_end or found[1])
    end = calibration_end or last - timedelta(days=holdout_days)
    check = ValueCheck(end, end + timedelta(days=holdout_days))
    try:
        groups, params = _compare(con, lines, check, first, last, source)
    except InputError as error:  # FitError is one
        return replace(check, note=f"No hold-out check: {error.message}.")
    return replace(check, groups=groups, bgnbd=params)


def _compare(
    con: duckdb.DuckDBPyConnection,
    lines: str,
    check: ValueCheck,
    first: date,
    last: date,
    source: str,
) -> tuple[list[HoldoutGroup], dict[str, float]]:
    """Fit BG/NBD up to the calibration end and set its expectation beside the hold-out."""
    end, holdout_days = check.calibration_end, (check.holdout_end - check.calibration_end).days
    if check.holdout_end > last:
        raise InputError(
            f"the log ends on {last}, before the {_length(holdout_days, True)} hold-out after "
            f"{end} ends",
            file=source,
            hint="use a shorter hold-out or an earlier calibration end",
        )
    history = max((end - first).days + 1, 0)
    if history < holdout_days:
        raise InputError(
            f"the log has only {_length(history)} of purchases before the "
            f"{_length(holdout_days, True)} hold-out; the check needs at least as long a "
            "history to learn from",
            file=source,
            hint="use a shorter hold-out or a longer log",
        )
    rows = con.execute(
        holdout_rows_sql(lines, end=end, holdout_end=check.holdout_end, period_days=PERIOD_DAYS)
    ).fetchnumpy()
    x, t_x, T, n, actual = (
        np.asarray(rows[k], dtype=np.float64) for k in ("x", "t_x", "T", "customers", "actual")
    )
    repeaters = int(n[x > 0].sum())
    if repeaters < MIN_REPEAT_CUSTOMERS:
        raise FitError(
            f"only {repeaters} customers bought again before the hold-out; the check needs at "
            f"least {MIN_REPEAT_CUSTOMERS}",
            file=source,
            hint="use a shorter hold-out or a longer log",
        )
    bgnbd = BgNbd().fit(x, t_x, T, n)
    if not bgnbd.fit_.converged:
        raise FitError(
            f"the BG/NBD fit before the hold-out did not converge ({bgnbd.fit_.message.lower()})",
            file=source,
            hint="likely the purchase timing does not fit the model (e.g. nobody stops)",
        )
    groups = holdout_groups(bgnbd, x, t_x, T, n, actual, check.holdout_weeks)
    return groups, bgnbd.params_


def check_log(
    path: str | Path,
    holdout_days: int = HOLDOUT_DAYS,
    calibration_end: date | None = None,
    rfm: RfmOptions | None = None,
    *,
    settings: Settings | None = None,
) -> ValueCheck:
    """The check on a transaction log, read and cleaned as for RFM (the whole log, by DuckDB);
    a log that cannot support it gives a ``ValueCheck`` with only a note (``check_lines``)."""
    from segwise.service.rfm import rfm_engine

    options = replace(rfm or RfmOptions(), as_of=None)
    result = rfm_engine("local")(path, options, settings or get_settings())
    assert result.lines is not None, "the local engine keeps the SELECT of the kept lines"
    try:
        return check_lines(
            result.con,
            result.lines,
            holdout_days=holdout_days,
            calibration_end=calibration_end,
            source=str(path),
        )
    finally:
        result.con.close()


def check_stored_lines(
    lines: Path | str,
    end: date,
    holdout_days: int = HOLDOUT_DAYS,
    calibration_end: date | None = None,
) -> ValueCheck:
    """The check on a dataset's stored lines: the ``holdout_days`` after ``calibration_end``,
    else the last ``holdout_days`` up to ``end`` (a run's as-of date minus a day)."""

    from segwise.service.value_columns import stored_lines_sql

    with connect() as con:
        return check_lines(
            con,
            stored_lines_sql(lines),
            holdout_days=holdout_days,
            calibration_end=calibration_end,
            data_end=None if calibration_end else end,
            source="run",
        )


def _length(days: int, adjective: bool = False) -> str:
    """'13 weeks' (or '13-week'), or days when not whole weeks."""
    number, unit = (days // 7, "week") if days % 7 == 0 else (days, "day")
    if adjective:
        return f"{number}-{unit}"
    return f"{number} {unit}" + ("" if number == 1 else "s")
