"""BG/NBD (Fader, Hardie & Lee 2005): purchases while alive are Poisson with gamma(r, alpha)
rates; after each purchase a customer drops out with a beta(a, b) probability.

The fit maximises the closed-form likelihood over *grouped* rows: customers with the same
(x, t_x, T) share one row and a weight, so millions of customers cost thousands of rows.
``x`` = repeat purchases, ``t_x`` = time of the last one and ``T`` = time since the first
purchase, both from the first purchase, in one unit (days or weeks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import betaln, digamma, gammaln, hyp2f1

from segwise.errors import InputError
from segwise.value.fit import Fit, Vector, fit_positive


@dataclass(frozen=True)
class Grouped:
    """Identical (x, t_x, T) rows merged: unique rows, their counts, and each input row's group."""

    x: Vector
    t_x: Vector
    T: Vector
    weight: Vector
    inverse: NDArray[np.intp]


def group_rows(x: Vector, t_x: Vector, T: Vector) -> Grouped:
    """Merge customers with the same (x, t_x, T); ``inverse`` maps each back to its row."""
    rows = np.column_stack([x, t_x, T]).astype(np.float64)
    unique, inverse, counts = np.unique(rows, axis=0, return_inverse=True, return_counts=True)
    return Grouped(
        unique[:, 0], unique[:, 1], unique[:, 2], counts.astype(np.float64), inverse.ravel()
    )


def check_summary(x: Vector, t_x: Vector, T: Vector) -> None:
    """A summary the model can read: 0 <= t_x <= T, x a count, t_x = 0 exactly when x = 0."""
    bad = (x < 0) | (t_x < 0) | (t_x > T) | (x != np.floor(x)) | ((x == 0) != (t_x == 0))
    if np.any(bad):
        i = int(np.argmax(bad))
        raise InputError(
            f"summary row {i + 1} is not a repeat-purchase summary "
            f"(x={x[i]}, t_x={t_x[i]}, T={T[i]})",
            hint="x counts repeat purchases, 0 <= t_x <= T, and t_x = 0 when x = 0",
        )


def log_likelihood(
    params: Vector, x: Vector, t_x: Vector, T: Vector, weight: Vector
) -> tuple[float, Vector]:
    """The weighted BG/NBD log-likelihood and its gradient in (r, alpha, a, b)."""
    r, alpha, a, b = (float(v) for v in params)
    repeat = x > 0
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.where(
        repeat,
        np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    tail = np.logaddexp(a3, a4)
    w3, w4 = np.exp(a3 - tail), np.exp(a4 - tail)  # shares of the two terms, summing to 1
    ll = float(np.sum(weight * (a1 + a2 + tail)))
    d_r = digamma(r + x) - digamma(r) + np.log(alpha)
    d_r -= w3 * np.log(alpha + T) + w4 * np.log(alpha + t_x)
    d_alpha = r / alpha - (r + x) * (w3 / (alpha + T) + w4 / (alpha + t_x))
    common = digamma(a + b) - digamma(a + b + x)
    d_a = common + w4 / a
    d_b = common + digamma(b + x) - digamma(b) - w4 / (b + np.maximum(x, 1) - 1)
    grad = np.array([np.sum(weight * d) for d in (d_r, d_alpha, d_a, d_b)])
    return ll, grad


class BgNbd:
    """The BG/NBD model: ``fit`` on a repeat-purchase summary, then P(alive) and expected
    purchases per customer. Learned state ends in ``_`` (``params_``, ``fit_``)."""

    def __init__(self, max_iter: int = 500) -> None:
        self.max_iter = max_iter

    def fit(self, x: Vector, t_x: Vector, T: Vector, weight: Vector | None = None) -> BgNbd:
        """Maximum likelihood over the grouped rows; ``weight`` counts customers per row."""
        x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
        check_summary(x, t_x, T)
        if weight is None:
            g = group_rows(x, t_x, T)
            x, t_x, T, weight = g.x, g.t_x, g.T, g.weight
        w = np.asarray(weight, dtype=np.float64)
        start = np.array([1.0, max(float(np.average(T, weights=w)) / 10, 1e-3), 1.0, 1.0])
        self.fit_: Fit = fit_positive(
            lambda p: log_likelihood(p, x, t_x, T, w), start, self.max_iter
        )
        self.params_ = dict(zip(("r", "alpha", "a", "b"), self.fit_.params.tolist(), strict=True))
        return self

    def _params(self) -> tuple[float, float, float, float]:
        if not hasattr(self, "params_"):
            raise RuntimeError("BgNbd is not fitted yet: call fit first")
        p = self.params_
        return p["r"], p["alpha"], p["a"], p["b"]

    def p_alive(self, x: Vector, t_x: Vector, T: Vector) -> Vector:
        """P(still active at T | x, t_x, T); 1 for customers without a repeat purchase (the
        model lets customers drop out only right after a purchase)."""
        r, alpha, a, b = self._params()
        x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
        log_odds = np.log(a) - np.log(b + np.maximum(x, 1) - 1)
        log_odds += (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        out: Vector = np.where(x > 0, 1.0 / (1.0 + np.exp(log_odds)), 1.0)
        return out

    def expected_purchases(self, t: float, x: Vector, t_x: Vector, T: Vector) -> Vector:
        """Expected purchases in the next ``t`` time units, given each customer's history."""
        r, alpha, a, b = self._params()
        x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
        if t <= 0:
            return np.zeros_like(x)
        z = t / (alpha + T + t)
        lead = (a + b + x - 1) / (a - 1)
        power = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
        body = lead * (1.0 - power * hyp2f1(r + x, b + x, a + b + x - 1, z))
        log_odds = np.log(a) - np.log(b + np.maximum(x, 1) - 1)
        log_odds += (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        out: Vector = body / (1.0 + np.where(x > 0, np.exp(log_odds), 0.0))
        return out
