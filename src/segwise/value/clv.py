"""Per-customer value over a horizon: P(alive), expected purchases, expected value, discounted
CLV and a churn-risk band, from a fitted BG/NBD and Gamma-Gamma pair.

Scores are computed once per distinct (x, t_x, T) row and mapped back to customers, so the
hypergeometric terms cost thousands of evaluations, not millions.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from segwise.value.bgnbd import BgNbd, group_rows
from segwise.value.fit import Vector
from segwise.value.gamma_gamma import GammaGamma

if TYPE_CHECKING:
    import pandas as pd

STEP_DAYS = 30
"""CLV discounts the purchases expected in each 30-day step at the step's end."""

CHURN_BANDS = (("high", 0.3), ("medium", 0.7), ("low", 1.0))
"""churn_risk from P(alive): high below 0.3, medium below 0.7, low from 0.7 up."""
ONE_TIME = "one-time"
"""churn_risk of customers with a single purchase day: BG/NBD lets customers drop out only
after a repeat purchase, so their P(alive) is 1 by assumption and says nothing about risk."""

VALUE_COLUMNS = ("p_alive", "expected_purchases", "expected_value", "clv", "churn_risk")


def churn_band(p_alive: Vector, x: Vector) -> NDArray[np.object_]:
    """The churn-risk band of each customer (see ``CHURN_BANDS`` and ``ONE_TIME``)."""
    bands = np.where(p_alive < CHURN_BANDS[0][1], "high", "medium")
    bands = np.where(p_alive >= CHURN_BANDS[1][1], "low", bands)
    out: NDArray[np.object_] = np.where(x > 0, bands, ONE_TIME).astype(object)
    return out


def score_rows(
    bgnbd: BgNbd,
    x: Vector,
    t_x: Vector,
    T: Vector,
    *,
    horizon_days: int,
    discount_rate: float,
    period_days: int,
) -> tuple[Vector, Vector, Vector]:
    """P(alive), purchases expected over the horizon and the same discounted (each 30-day
    step at its end, ``discount_rate`` annual) of summary rows (times in ``period_days``)."""
    p_alive = bgnbd.p_alive(x, t_x, T)
    ends = [
        min(STEP_DAYS * k, horizon_days) for k in range(1, math.ceil(horizon_days / STEP_DAYS) + 1)
    ]
    discounted = np.zeros_like(x)
    before = np.zeros_like(x)
    for end in ends:
        upto = bgnbd.expected_purchases(end / period_days, x, t_x, T)
        discounted += (upto - before) / (1.0 + discount_rate) ** (end / 365.0)
        before = upto
    return p_alive, before, discounted


def score_customers(
    bgnbd: BgNbd,
    gamma_gamma: GammaGamma,
    summary: pd.DataFrame,
    *,
    horizon_days: int,
    discount_rate: float,
    period_days: int,
) -> pd.DataFrame:
    """The value columns for a summary (repeat_purchases, t_x, T, mean_repeat_value; times in
    ``period_days`` units). ``discount_rate`` is annual; expected_value is undiscounted."""
    import pandas as pd

    x = summary["repeat_purchases"].to_numpy(dtype=np.float64)
    t_x = summary["t_x"].to_numpy(dtype=np.float64)
    T = summary["T"].to_numpy(dtype=np.float64)
    g = group_rows(x, t_x, T)
    p_alive, expected, discounted = score_rows(
        bgnbd,
        g.x,
        g.t_x,
        g.T,
        horizon_days=horizon_days,
        discount_rate=discount_rate,
        period_days=period_days,
    )
    per_purchase = gamma_gamma.expected_value(x, summary["mean_repeat_value"].to_numpy())
    p_alive, expected = p_alive[g.inverse], expected[g.inverse]
    return pd.DataFrame(
        {
            "p_alive": p_alive,
            "expected_purchases": expected,
            "expected_value": expected * per_purchase,
            "clv": discounted[g.inverse] * per_purchase,
            "churn_risk": churn_band(p_alive, x),
        },
        index=summary.index,
    )
