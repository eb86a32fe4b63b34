"""Use case: what each customer of a transaction log is worth and how likely they are to stay.

The engine reads and cleans the log as for RFM (as of the day after the calibration end),
the repeat-purchase summary is one SQL text over the kept lines, and BG/NBD + Gamma-Gamma
are fitted on its distinct rows by maximum likelihood (``segwise.value``); the scores are
joined back to the customers in SQL (``service/value_tables.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segwise.config import Settings, get_settings
from segwise.errors import InputError
from segwise.features.rfm import RfmOptions
from segwise.io.duck import connect
from segwise.service.rfm import rfm_engine
from segwise.service.value_tables import (
    LAPSED_BELOW,
    MIN_REPEAT_CUSTOMERS,
    PERIOD_DAYS,
    CustomerValue,
    SegmentValue,
    fit_checked,
    value_in_sql,
)

if TYPE_CHECKING:
    import pandas as pd

    from segwise.value.bgnbd import BgNbd
    from segwise.value.gamma_gamma import GammaGamma

__all__ = [
    "LAPSED_BELOW",
    "MIN_REPEAT_CUSTOMERS",
    "PERIOD_DAYS",
    "CustomerValue",
    "RepeatSummary",
    "SegmentValue",
    "ValueOptions",
    "compute_value",
    "fit_models",
    "parse_horizon",
    "repeat_summary",
    "value_of",
    "value_options",
]


@dataclass(frozen=True)
class ValueOptions:
    """What the user asked of the value models; checked once, here."""

    horizon_days: int = 180
    calibration_end: date | None = None
    discount_rate: float = 0.0
    holdout_days: int | None = None  # the hold-out check's length, when asked for

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
        if self.holdout_days is not None and not 7 <= self.holdout_days <= 3640:
            raise InputError(
                f"--holdout {self.holdout_days}d is out of range", hint="use 1w to 520w"
            )


def parse_horizon(text: str, flag: str = "--horizon") -> int:
    """``180d``, ``26w`` or ``180`` (days) as a number of days."""
    found = re.fullmatch(r"\s*(\d+)\s*([dw]?)\s*", text.lower())
    if not found:
        raise InputError(f"{flag} '{text}' is not a duration", hint="use e.g. 180d or 26w")
    return int(found.group(1)) * (7 if found.group(2) == "w" else 1)


def value_options(
    horizon: str = "180d",
    calibration_end: str | None = None,
    discount_rate: float = 0.0,
    holdout: str | None = None,
) -> ValueOptions:
    """The flags of ``segwise value`` (``--horizon 180d``, ``--calibration-end YYYY-MM-DD``,
    ``--discount-rate R``, ``--holdout 13w``) as checked options."""
    end = None
    if calibration_end is not None:
        try:
            end = date.fromisoformat(calibration_end)
        except ValueError:
            raise InputError(
                f"--calibration-end '{calibration_end}' is not a date", hint="use YYYY-MM-DD"
            ) from None
    days = None if holdout is None else parse_horizon(holdout, "--holdout")
    return ValueOptions(parse_horizon(horizon), end, discount_rate, days)


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
    con, summary, end = _summary(path, calibration_end, rfm, engine, settings)
    frame = con.execute(f"{summary} ORDER BY s.customer_id").df()
    con.close()
    return RepeatSummary(frame, end, Path(path).name)


def _summary(
    path: str | Path,
    calibration_end: date | None,
    rfm: RfmOptions | None,
    engine: str,
    settings: Settings | None,
) -> tuple[Any, str, date]:
    """The engine's connection, a query of the summary with rfm_segment, and the end."""
    options = rfm or RfmOptions()
    if calibration_end is not None:
        options = replace(options, as_of=calibration_end + timedelta(days=1))
    run = rfm_engine(engine)
    result = run(path, options, settings or get_settings(), summary_period=PERIOD_DAYS)
    assert result.value_summary is not None
    summary = (
        f"SELECT s.*, r.segment AS rfm_segment FROM {result.value_summary} AS s "
        f"LEFT JOIN {result.table} AS r USING (customer_id)"
    )
    return result.con, summary, result.as_of - timedelta(days=1)


def compute_value(
    path: str | Path,
    options: ValueOptions | None = None,
    rfm: RfmOptions | None = None,
    *,
    engine: str = "local",
    settings: Settings | None = None,
) -> CustomerValue:
    """P(alive), expected purchases and value over the horizon, CLV and churn risk per
    customer of a log; stops with one line when the log cannot support the models. With
    ``options.holdout_days``, also the hold-out check (``check``: service/value_check.py)."""
    options = options or ValueOptions()
    con, summary, end = _summary(path, options.calibration_end, rfm, engine, settings)
    found = value_in_sql(con, summary, options, end, str(path), by="rfm_segment")
    if options.holdout_days is not None:
        from segwise.service.value_check import check_log

        found.check = check_log(
            path, options.holdout_days, options.calibration_end, rfm, settings=settings
        )
    return found


def value_of(
    frame: pd.DataFrame,
    options: ValueOptions,
    calibration_end: date,
    source: str,
    by: str = "segment_name",
) -> CustomerValue:
    """Fit and score a repeat-purchase summary (``repeat_summary``'s columns, with a segment
    column ``by``), after the honest-limit checks."""

    con = connect()
    con.register("summary_frame", frame)
    return value_in_sql(con, "summary_frame", options, calibration_end, source, by)


def fit_models(frame: pd.DataFrame, source: str) -> tuple[BgNbd, GammaGamma]:
    """BG/NBD and Gamma-Gamma fitted on a summary frame, or a ``FitError`` saying why not."""
    import numpy as np

    x = frame["repeat_purchases"].to_numpy(dtype=np.float64)
    money = frame["mean_repeat_value"].to_numpy(dtype=np.float64)
    keep = (x > 0) & (money > 0)
    purchases = (x, frame["t_x"].to_numpy(dtype=np.float64), frame["T"].to_numpy(np.float64))
    return fit_checked(purchases, (x[keep], money[keep], np.ones(int(keep.sum()))), source)
