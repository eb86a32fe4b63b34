"""Customer value as tables in DuckDB: the models fitted on *grouped* summary rows pulled
from SQL, scored once per distinct (x, t_x, T) row, and joined back to the customers in SQL.

Millions of customers never pass through pandas on the way from the log to the output file:
only the distinct rows (thousands to hundreds of thousands) and the per-segment totals do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from segwise.errors import FitError, InputError
from segwise.features.value_summary import customer_value_sql, segment_value_sql
from segwise.io.sql import relation
from segwise.io.writers import write_relation
from segwise.value.bgnbd import BgNbd
from segwise.value.clv import CHURN_BANDS, score_rows
from segwise.value.gamma_gamma import GammaGamma

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from segwise.service.value import ValueOptions
    from segwise.service.value_check import ValueCheck

MIN_REPEAT_CUSTOMERS = 20
"""Fewer customers with a repeat purchase than this cannot pin down four BG/NBD parameters."""
LAPSED_BELOW = 0.5
"""A customer is 'likely lapsed' when P(alive) is below this."""
PERIOD_DAYS = 7
"""The models run in weeks, the unit of the literature their parameters are compared with."""


@dataclass(frozen=True)
class SegmentValue:
    """Value totals and averages of one segment."""

    segment: str
    customers: int
    expected_purchases: float
    expected_value: float
    clv: float
    p_alive_mean: float
    likely_lapsed_share: float


@dataclass
class CustomerValue:
    """The outcome of ``compute_value``: the fitted models, totals, value per segment, and
    one row per customer in table ``table`` of ``con`` (``customers`` reads it as a frame)."""

    con: duckdb.DuckDBPyConnection
    table: str
    options: ValueOptions
    calibration_end: date
    bgnbd: dict[str, float]
    gamma_gamma: dict[str, float]
    segments: list[SegmentValue]
    totals: dict[str, Any]
    check: ValueCheck | None = None  # the hold-out check, when asked for

    @cached_property
    def customers(self) -> pd.DataFrame:
        """One row per customer: the summary, then the value columns."""
        frame: pd.DataFrame = self.con.table(self.table).df()
        return frame

    def write(self, path: str | Path) -> Path:
        """One row per customer, by extension (.csv .parquet .xlsx), formula-safe."""
        return write_relation(self.con, self.table, path)

    def summary(self) -> dict[str, Any]:
        """JSON-ready: options, fitted parameters, totals and per-segment value."""
        return {
            "customers": self.totals["customers"],
            "repeat_customers": self.totals["repeat_customers"],
            "calibration_end": self.calibration_end.isoformat(),
            "horizon_days": self.options.horizon_days,
            "discount_rate": self.options.discount_rate,
            "time_unit": "week",
            "bgnbd": {k: round(v, 6) for k, v in self.bgnbd.items()},
            "gamma_gamma": {k: round(v, 6) for k, v in self.gamma_gamma.items()},
            "expected_purchases": self.totals["expected_purchases"],
            "expected_value": self.totals["expected_value"],
            "clv": self.totals["clv"],
            "churn_risk": self.totals["churn_risk"],
            "segments": [vars(s) for s in self.segments],
        } | ({"holdout": self.check.summary()} if self.check is not None else {})


def value_in_sql(
    con: duckdb.DuckDBPyConnection,
    summary: str,
    options: ValueOptions,
    calibration_end: date,
    source: str,
    by: str,
) -> CustomerValue:
    """Fit and score the repeat-purchase summary ``summary`` (a table or query of ``con``
    with customer_id, repeat_purchases, t_x, T, mean_repeat_value and a segment column
    ``by``), after the honest-limit checks; the per-customer table is ``customer_value``."""
    if relation(summary, "s") != f"{summary.strip()} AS s":  # a query: run it once, here
        con.execute(f"CREATE OR REPLACE TEMP TABLE value_input AS {summary}")
        summary = "value_input"
    span = con.execute(f'SELECT max("T") FROM {summary}').fetchone()
    span_days = round(float(span[0]) * PERIOD_DAYS) if span and span[0] is not None else 0
    if span_days < options.horizon_days:
        raise InputError(
            f"the log covers {span_days} days up to {calibration_end}, shorter than the "
            f"{options.horizon_days}-day horizon",
            file=source,
            hint="use a shorter --horizon (at most the span of the log) or a longer log",
        )
    rows = con.execute(
        'SELECT CAST(repeat_purchases AS DOUBLE) AS x, t_x, "T", count(*) AS w '
        f"FROM {relation(summary, 's')} GROUP BY ALL ORDER BY ALL"  # ordered: the same sums
    ).fetchnumpy()
    values = con.execute(
        "SELECT CAST(repeat_purchases AS DOUBLE) AS x, mean_repeat_value AS m, count(*) AS w "
        f"FROM {relation(summary, 's')} WHERE repeat_purchases > 0 AND mean_repeat_value > 0 "
        "GROUP BY ALL ORDER BY ALL"
    ).fetchnumpy()
    x, t_x, T, w = (np.asarray(rows[k], dtype=np.float64) for k in ("x", "t_x", "T", "w"))
    bgnbd, gamma_gamma = fit_checked(
        (x, t_x, T, w),
        tuple(np.asarray(values[k], dtype=np.float64) for k in ("x", "m", "w")),
        source,
    )
    p_alive, expected, discounted = score_rows(
        bgnbd,
        x,
        t_x,
        T,
        horizon_days=options.horizon_days,
        discount_rate=options.discount_rate,
        period_days=PERIOD_DAYS,
    )
    scores = pa.table(
        {
            "x": x,
            "t_x": t_x,
            "T": T,
            "p_alive": p_alive,
            "expected_purchases": expected,
            "discounted": discounted,
        }
    )
    con.register("value_scores", scores)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE customer_value AS "
        + customer_value_sql(
            summary,
            "value_scores",
            gamma_gamma=gamma_gamma.params_,
            high_below=CHURN_BANDS[0][1],
            medium_below=CHURN_BANDS[1][1],
        )
    )
    con.unregister("value_scores")
    return CustomerValue(
        con=con,
        table="customer_value",
        options=options,
        calibration_end=calibration_end,
        bgnbd=bgnbd.params_,
        gamma_gamma=gamma_gamma.params_,
        segments=segment_values(con, "customer_value", by),
        totals=_totals(con, "customer_value"),
    )


def fit_checked(
    purchases: tuple[Any, ...], values: tuple[Any, ...], source: str
) -> tuple[BgNbd, GammaGamma]:
    """BG/NBD on (x, t_x, T, weight) rows and Gamma-Gamma on (x, m, weight) rows, or a
    ``FitError`` saying why not (too few repeat customers, no convergence, q <= 1)."""
    repeaters = int(values[2].sum())
    if repeaters < MIN_REPEAT_CUSTOMERS:
        raise FitError(
            f"only {repeaters} customers bought again (with a positive spend); the value "
            f"models need at least {MIN_REPEAT_CUSTOMERS}",
            file=source,
            hint="use a longer log, or a later --calibration-end",
        )
    bgnbd = BgNbd().fit(*purchases)
    gamma_gamma = GammaGamma().fit(*values)
    checks = (
        ("BG/NBD", bgnbd.fit_, "the purchase timing does not fit the model (e.g. nobody stops)"),
        ("Gamma-Gamma", gamma_gamma.fit_, "every customer spends about the same per purchase"),
    )
    for name, fit, likely in checks:
        if not fit.converged:
            raise FitError(
                f"the {name} fit did not converge ({fit.message.lower()})",
                file=source,
                hint=f"likely {likely}; the values would not mean anything",
            )
    if gamma_gamma.params_["q"] <= 1:
        raise FitError(
            "the values per purchase are too spread out for the Gamma-Gamma model "
            f"(q = {gamma_gamma.params_['q']:.2f}, needs q > 1)",
            file=source,
            hint="check the amounts for outliers or mixed currencies",
        )
    return bgnbd, gamma_gamma


def segment_values(con: duckdb.DuckDBPyConnection, table: str, by: str) -> list[SegmentValue]:
    """Totals and averages per segment (column ``by``), most expected value first."""
    found = con.execute(segment_value_sql(table, by, LAPSED_BELOW)).fetchall()
    return [
        SegmentValue(
            segment=str(name),
            customers=int(n),
            expected_purchases=round(float(purchases), 2),
            expected_value=round(float(value), 2),
            clv=round(float(clv), 2),
            p_alive_mean=round(float(alive), 4),
            likely_lapsed_share=round(float(lapsed), 4),
        )
        for name, n, purchases, value, clv, alive, lapsed in found
    ]


def _totals(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, Any]:
    row = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE repeat_purchases > 0), "
        f"sum(expected_purchases), sum(expected_value), sum(clv) FROM {table}"
    ).fetchone()
    assert row is not None
    bands = con.execute(
        f"SELECT churn_risk, count(*) FROM {table} GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()
    return {
        "customers": int(row[0]),
        "repeat_customers": int(row[1]),
        "expected_purchases": round(float(row[2] or 0.0), 2),
        "expected_value": round(float(row[3] or 0.0), 2),
        "clv": round(float(row[4] or 0.0), 2),
        "churn_risk": {str(band): int(n) for band, n in bands},
    }
