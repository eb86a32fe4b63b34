"""The calibration / hold-out check of BG/NBD (Fader, Hardie & Lee 2005, Figure 5): customers
grouped by their repeat purchases in the calibration period (0, 1, ..., 7+), and per group the
purchases the model expects in the hold-out beside the ones that happened.

Pure: summary rows (distinct (x, t_x, T) with their customers and actual hold-out purchases)
in, group rows out; the rows come from the SQL of ``features/value_summary.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segwise.value.bgnbd import BgNbd
from segwise.value.fit import Vector

TOP_GROUP = 7
"""Customers with this many repeat purchases or more form one group ("7+"), as in the paper."""


@dataclass(frozen=True)
class HoldoutGroup:
    """One group of customers: repeat purchases in the calibration period ("0" .. "7+"),
    how many, and their actual and predicted purchases in the hold-out (mean and total)."""

    repeat_purchases: str
    customers: int
    actual_mean: float
    predicted_mean: float
    actual_total: float
    predicted_total: float


def holdout_groups(
    bgnbd: BgNbd,
    x: Vector,
    t_x: Vector,
    T: Vector,
    customers: Vector,
    actual: Vector,
    weeks: float,
    top: int = TOP_GROUP,
) -> list[HoldoutGroup]:
    """Per group of x (``top`` and above together): customers, actual and expected purchases
    over the ``weeks`` of the hold-out. Each row stands for ``customers`` customers with the
    same (x, t_x, T), and ``actual`` is their purchases in the hold-out, summed."""
    x = np.asarray(x, dtype=np.float64)
    per_customer = bgnbd.expected_purchases(weeks, x, t_x, T)
    group = np.minimum(x, top).astype(np.intp)
    size = top + 1
    n = np.bincount(group, weights=customers, minlength=size)
    done = np.bincount(group, weights=actual, minlength=size)
    expected = np.bincount(group, weights=per_customer * customers, minlength=size)
    return [
        HoldoutGroup(
            repeat_purchases=f"{g}+" if g == top else str(g),
            customers=int(n[g]),
            actual_mean=float(done[g] / n[g]),
            predicted_mean=float(expected[g] / n[g]),
            actual_total=float(done[g]),
            predicted_total=float(expected[g]),
        )
        for g in range(size)
        if n[g] > 0
    ]
