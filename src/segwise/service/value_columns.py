"""Use case step: the value columns of a segmentation run on a transaction log.

A run's dataset keeps the log's cleaned lines (Parquet, sorted by customer), so the
repeat-purchase summary is the one SQL text of ``features/value_summary.py`` read from there,
up to the day before the run's as-of date; BG/NBD + Gamma-Gamma are fitted on it and every
customer of the run gets p_alive, expected_purchases, expected_value, clv and churn_risk,
with totals per segment of the run. When the log cannot support the models the run goes on
without them, with a note saying why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from segwise.errors import InputError
from segwise.features.value_summary import value_summary_sql
from segwise.io.duck import connect
from segwise.io.sql import literal
from segwise.service.value import LAPSED_BELOW, PERIOD_DAYS, SegmentValue, ValueOptions
from segwise.service.value_tables import value_in_sql
from segwise.value.clv import CHURN_BANDS, VALUE_COLUMNS

if TYPE_CHECKING:
    from segwise.segment.pipeline import Segmentation

RUN_VALUE = ValueOptions(horizon_days=180, discount_rate=0.1)
"""A run's value columns: the next 180 days, CLV discounted at 10% a year."""


@dataclass
class RunValue:
    """Per-customer value columns (``columns``: customer_id and ``VALUE_COLUMNS``, or None with
    a ``note`` saying why not), the run-level ``summary`` and value per segment number."""

    columns: pd.DataFrame | None
    summary: dict[str, Any]
    segments: dict[int, dict[str, Any]] = field(default_factory=dict)


def stored_lines_sql(lines: Path | str) -> str:
    """A stored log's lines (Parquet) as the summary reads them: customer_id, day, value,
    is_return."""
    return (
        "SELECT customer_id, day, value, quantity < 0 AS is_return "
        f"FROM read_parquet({literal(str(lines))})"
    )


def stored_summary_sql(lines: Path | str, end: date) -> str:
    """The repeat-purchase summary (weeks) of a stored log's lines up to ``end``, inclusive."""
    kept = f"{stored_lines_sql(lines)} WHERE day <= DATE '{end.isoformat()}'"
    return value_summary_sql(kept, end=end, period_days=PERIOD_DAYS)


def run_value_columns(
    lines: Path | str,
    end: date,
    assignments: pd.DataFrame,
    options: ValueOptions | None = None,
    *,
    currency: str | None = None,
) -> RunValue:
    """The value of a run's customers (``assignments``: customer_id, segment, segment_name)
    learned from the stored ``lines`` up to ``end`` (the run's as-of date minus a day).

    Customers without a purchase day up to ``end`` (only returns) get empty value columns.
    A log the models cannot read (shorter than the horizon, too few repeat customers, a fit
    that does not converge) gives no columns and a ``note``: the run itself still succeeds.
    """
    options = options or RUN_VALUE
    base = {
        "horizon_days": options.horizon_days,
        "discount_rate": options.discount_rate,
        "calibration_end": end.isoformat(),
        "currency": currency,
    }
    assigned = assignments[["customer_id", "segment", "segment_name"]]
    with connect() as con:
        con.register("assigned", assigned.assign(row_=np.arange(len(assigned))))
        con.execute(
            "CREATE TEMP TABLE run_summary AS "
            f"SELECT s.*, a.segment FROM ({stored_summary_sql(lines, end)}) AS s "
            "JOIN assigned AS a USING (customer_id)"
        )
        try:
            if not con.execute("SELECT count(*) FROM run_summary").fetchone()[0]:  # type: ignore[index]
                raise InputError(f"no customer of the run has a purchase day up to {end}")
            found = value_in_sql(con, "run_summary", options, end, "run", by="segment")
        except InputError as error:  # FitError is one: the run goes on without value columns
            return RunValue(None, base | {"note": _plain_note(error)})
        listed = ", ".join(f"v.{c}" for c in VALUE_COLUMNS)
        columns = con.execute(
            f"SELECT a.customer_id, {listed} FROM assigned AS a "
            "LEFT JOIN customer_value AS v USING (customer_id) ORDER BY a.row_"
        ).df()
        fitted = found.summary()
    per_segment = found.segments
    keep = ["customers", "repeat_customers", "time_unit", "bgnbd", "gamma_gamma"]
    keep += ["expected_purchases", "expected_value", "clv", "churn_risk"]
    summary = base | {key: fitted[key] for key in keep}
    summary |= {
        "lapsed_below": LAPSED_BELOW,
        "churn_bands": {name: edge for name, edge in CHURN_BANDS},
    }
    names = dict(zip(assigned["segment"].astype(int), assigned["segment_name"], strict=False))
    segments = {
        int(s.segment): _segment_entry(s, names.get(int(s.segment), s.segment), options, currency)
        for s in per_segment
    }
    return RunValue(columns, summary, segments)


def _segment_entry(
    s: SegmentValue, name: str, options: ValueOptions, currency: str | None
) -> dict[str, Any]:
    """One segment's value as stored and shown: the totals and averages and a headline."""
    entry = vars(s) | {"segment": str(name)}
    entry["expected_value_mean"] = round(s.expected_value / s.customers, 2) if s.customers else 0.0
    entry["headline"] = value_headline(str(name), s, options.horizon_days, currency)
    return entry


def value_headline(name: str, s: SegmentValue, horizon_days: int, currency: str | None) -> str:
    """'At Risk: 1,204 customers, expected value 3.1M over 180 days, 58% likely lapsed'."""
    money = compact_number(s.expected_value)
    if currency:
        money = f"{currency} {money}"
    return (
        f"{name}: {s.customers:,} customers, expected value {money} over {horizon_days} days, "
        f"{s.likely_lapsed_share:.0%} likely lapsed"
    )


def compact_number(value: float) -> str:
    """3.1M, 42K, 950: a total at a glance (the exact figure is in the JSON and the tables)."""
    size = abs(value)
    for edge, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if size >= edge:
            return f"{value / edge:.1f}{suffix}".replace(".0" + suffix, suffix)
    return f"{value:,.0f}"


def _plain_note(error: InputError) -> str:
    """The reason as one plain sentence for the run's summary (no flags, files or hints)."""
    return f"No customer value for this run: {error.message}."


def add_run_value(seg: Segmentation, lines: Path | str, as_of: date) -> None:
    """Give a log's segmentation its value columns, per-segment value and ``extra["value"]``
    (or only the note saying why not), learned up to the day before ``as_of``, and the
    hold-out check of the last 13 weeks before that day (``extra["value_check"]``)."""
    from segwise.service.value_check import check_stored_lines

    end = as_of - timedelta(days=1)
    found = run_value_columns(lines, end, seg.assignments())
    seg.extra["value"] = found.summary
    seg.extra["value_check"] = check_stored_lines(lines, end).summary()
    if found.columns is not None:
        seg.value_columns = found.columns
        seg.segment_value = found.segments
