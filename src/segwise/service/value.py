"""Use case: what each customer of a transaction log is worth and how likely they are to stay.

The engine reads and cleans the log as for RFM (as of the day after the calibration end),
the repeat-purchase summary is one SQL text over the kept lines, and BG/NBD + Gamma-Gamma
are fitted on it by maximum likelihood (``segwise.value``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segwise.config import Settings, get_settings
from segwise.errors import FitError, InputError
from segwise.features.rfm import RfmOptions
from segwise.io.writers import write_frame
from segwise.service.rfm import rfm_engine
from segwise.value.bgnbd import BgNbd
from segwise.value.clv import score_customers
from segwise.value.gamma_gamma import GammaGamma

MIN_REPEAT_CUSTOMERS = 20
"""Fewer customers with a repeat purchase than this cannot pin down four BG/NBD parameters."""
LAPSED_BELOW = 0.5
"""A customer is 'likely lapsed' when P(alive) is below this."""
PERIOD_DAYS = 7
"""The models run in weeks, the unit of the literature their parameters are compared with."""


@dataclass(frozen=True)
class ValueOptions:
    """What the user asked of the value models; checked once, here."""

    horizon_days: int = 180
    calibration_end: date | None = None
    discount_rate: float = 0.0

    def __post_init__(self) -> None:
        if not 1 <= self.horizon_days <= 3650:
            raise InputError(
                f"--horizon {self.horizon_days}d is out of range", hint="use 1d to 3650d"
            )
        if not 0.0 <= self.discount_rate < 1.0:
            raise InputError(
                f"--discount-rate {self.discount_rate} is out of range",
                hint="give an annual rate between 0 and 1, e.g. 0.1 for 10%",
            )


def parse_horizon(text: str) -> int:
    """``180d``, ``26w`` or ``180`` (days) as a number of days."""
    found = re.fullmatch(r"\s*(\d+)\s*([dw]?)\s*", text.lower())
    if not found:
        raise InputError(f"--horizon '{text}' is not a duration", hint="use e.g. 180d or 26w")
    return int(found.group(1)) * (7 if found.group(2) == "w" else 1)


def value_options(
    horizon: str = "180d", calibration_end: str | None = None, discount_rate: float = 0.0
) -> ValueOptions:
    """The flags of ``segwise value`` (``--horizon 180d``, ``--calibration-end YYYY-MM-DD``,
    ``--discount-rate R``) as checked options."""
    end = None
    if calibration_end is not None:
        try:
            end = date.fromisoformat(calibration_end)
        except ValueError:
            raise InputError(
                f"--calibration-end '{calibration_end}' is not a date", hint="use YYYY-MM-DD"
            ) from None
    return ValueOptions(parse_horizon(horizon), end, discount_rate)


@dataclass(frozen=True)
class RepeatSummary:
    """Per-customer (repeat_purchases, t_x, T in weeks, mean_repeat_value, rfm_segment)."""

    customers: pd.DataFrame
    calibration_end: date
    source: str


def repeat_summary(
    path: str | Path,
    calibration_end: date | None = None,
    rfm: RfmOptions | None = None,
    *,
    engine: str = "local",
    settings: Settings | None = None,
) -> RepeatSummary:
    """The repeat-purchase summary of a log up to ``calibration_end`` (inclusive; default the
    last day of the log), with each customer's RFM segment as of the day after."""
    options = rfm or RfmOptions()
    if calibration_end is not None:
        options = replace(options, as_of=calibration_end + timedelta(days=1))
    run = rfm_engine(engine)
    result = run(path, options, settings or get_settings(), summary_period=PERIOD_DAYS)
    end = result.as_of - timedelta(days=1)
    assert result.value_summary is not None
    frame = result.con.execute(
        f"SELECT s.*, r.segment AS rfm_segment FROM {result.value_summary} AS s "
        f"LEFT JOIN {result.table} AS r USING (customer_id) ORDER BY s.customer_id"
    ).df()
    result.con.close()
    return RepeatSummary(frame, end, Path(path).name)


@dataclass(frozen=True)
class SegmentValue:
    """Value totals and averages of one RFM segment."""

    segment: str
    customers: int
    expected_purchases: float
    expected_value: float
    clv: float
    p_alive_mean: float
    likely_lapsed_share: float


@dataclass
class CustomerValue:
    """The outcome of ``compute_value``: one row per customer and the fitted models."""

    customers: pd.DataFrame
    options: ValueOptions
    calibration_end: date
    bgnbd: dict[str, float]
    gamma_gamma: dict[str, float]
    segments: list[SegmentValue]

    def write(self, path: str | Path) -> Path:
        """One row per customer, by extension (.csv .parquet .xlsx), formula-safe."""
        return write_frame(self.customers, path)

    def summary(self) -> dict[str, Any]:
        """JSON-ready: options, fitted parameters, totals and per-segment value."""
        c = self.customers
        return {
            "customers": len(c),
            "repeat_customers": int((c["repeat_purchases"] > 0).sum()),
            "calibration_end": self.calibration_end.isoformat(),
            "horizon_days": self.options.horizon_days,
            "discount_rate": self.options.discount_rate,
            "time_unit": "week",
            "bgnbd": {k: round(v, 6) for k, v in self.bgnbd.items()},
            "gamma_gamma": {k: round(v, 6) for k, v in self.gamma_gamma.items()},
            "expected_purchases": round(float(c["expected_purchases"].sum()), 2),
            "expected_value": round(float(c["expected_value"].sum()), 2),
            "clv": round(float(c["clv"].sum()), 2),
            "churn_risk": {k: int(v) for k, v in c["churn_risk"].value_counts().items()},
            "segments": [vars(s) for s in self.segments],
        }


def compute_value(
    path: str | Path,
    options: ValueOptions | None = None,
    rfm: RfmOptions | None = None,
    *,
    engine: str = "local",
    settings: Settings | None = None,
) -> CustomerValue:
    """P(alive), expected purchases and value over the horizon, CLV and churn risk per
    customer of a log; stops with one line when the log cannot support the models."""
    options = options or ValueOptions()
    found = repeat_summary(path, options.calibration_end, rfm, engine=engine, settings=settings)
    return value_of(found.customers, options, found.calibration_end, str(path))


def value_of(
    frame: pd.DataFrame, options: ValueOptions, calibration_end: date, source: str
) -> CustomerValue:
    """Fit and score a repeat-purchase summary (``repeat_summary``'s columns, with a segment
    column ``rfm_segment`` or ``segment_name``), after the honest-limit checks."""
    span_days = round(float(frame["T"].max()) * PERIOD_DAYS) if len(frame) else 0
    if span_days < options.horizon_days:
        raise InputError(
            f"the log covers {span_days} days up to {calibration_end}, shorter than the "
            f"{options.horizon_days}-day horizon",
            file=source,
            hint="use a shorter --horizon (at most the span of the log) or a longer log",
        )
    bgnbd, gamma_gamma = fit_models(frame, source)
    scores = score_customers(
        bgnbd,
        gamma_gamma,
        frame,
        horizon_days=options.horizon_days,
        discount_rate=options.discount_rate,
        period_days=PERIOD_DAYS,
    )
    customers = pd.concat([frame, scores], axis=1)
    by = "segment_name" if "segment_name" in customers else "rfm_segment"
    return CustomerValue(
        customers=customers,
        options=options,
        calibration_end=calibration_end,
        bgnbd=bgnbd.params_,
        gamma_gamma=gamma_gamma.params_,
        segments=segment_values(customers, by),
    )


def fit_models(frame: pd.DataFrame, source: str) -> tuple[BgNbd, GammaGamma]:
    """BG/NBD and Gamma-Gamma fitted on a summary, or a ``FitError`` saying why not."""
    x = frame["repeat_purchases"].to_numpy(dtype=np.float64)
    money = frame["mean_repeat_value"].to_numpy(dtype=np.float64)
    repeaters = int(((x > 0) & (money > 0)).sum())
    if repeaters < MIN_REPEAT_CUSTOMERS:
        raise FitError(
            f"only {repeaters} customers bought again (with a positive spend); the value "
            f"models need at least {MIN_REPEAT_CUSTOMERS}",
            file=source,
            hint="use a longer log, or a later --calibration-end",
        )
    bgnbd = BgNbd().fit(x, frame["t_x"].to_numpy(), frame["T"].to_numpy())
    gamma_gamma = GammaGamma().fit(x, money)
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


def segment_values(customers: pd.DataFrame, by: str = "rfm_segment") -> list[SegmentValue]:
    """Totals and averages per segment (column ``by``), most expected value first."""
    lapsed = customers["p_alive"] < LAPSED_BELOW
    grouped = customers.assign(lapsed=lapsed).groupby(by, dropna=False)
    table = grouped.agg(
        customers=("p_alive", "size"),
        expected_purchases=("expected_purchases", "sum"),
        expected_value=("expected_value", "sum"),
        clv=("clv", "sum"),
        p_alive_mean=("p_alive", "mean"),
        likely_lapsed_share=("lapsed", "mean"),
    ).sort_values("expected_value", ascending=False)
    return [
        SegmentValue(
            segment=str(name),
            customers=int(row.customers),
            expected_purchases=round(float(row.expected_purchases), 2),
            expected_value=round(float(row.expected_value), 2),
            clv=round(float(row.clv), 2),
            p_alive_mean=round(float(row.p_alive_mean), 4),
            likely_lapsed_share=round(float(row.likely_lapsed_share), 4),
        )
        for name, row in table.iterrows()
    ]
