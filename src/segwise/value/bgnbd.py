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
    """Merge customers with the same (x, t_x, T); ``inverse`` maps each back to its row.

    Hashing, not sorting: each column is factorised, then the codes pairwise (each product
    below n squared, so int64 never overflows); linear in the number of customers.
    """
    import pandas as pd  # only here: the SQL path groups in the database

    cx, ux = pd.factorize(np.asarray(x, dtype=np.float64))
    ct, ut = pd.factorize(np.asarray(t_x, dtype=np.float64))
    cT, uT = pd.factorize(np.asarray(T, dtype=np.float64))
    pair, pairs = pd.factorize(cx.astype(np.int64) * len(ut) + ct)
    inverse, keys = pd.factorize(pair.astype(np.int64) * len(uT) + cT)
    first = pairs[keys // len(uT)]
    return Grouped(
        np.asarray(ux[first // len(ut)], dtype=np.float64),
        np.asarray(ut[first % len(ut)], dtype=np.float64),
        np.asarray(uT[keys % len(uT)], dtype=np.float64),
        np.bincount(inverse).astype(np.float64),
        inverse.astype(np.intp),
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


class LogLikelihood:
    """The weighted BG/NBD log-likelihood and its gradient in (r, alpha, a, b).

    Terms that depend on x alone (the gamma and beta functions) are computed once per
    distinct x, and the logarithms of alpha + T and alpha + t_x once per distinct time: per
    row only a few gathers, one ``logaddexp`` and one ``exp`` remain.
    """

    def __init__(self, x: Vector, t_x: Vector, T: Vector, weight: Vector) -> None:
        self.ux, self.ix = np.unique(x, return_inverse=True)
        self.wx = np.bincount(self.ix, weights=weight, minlength=len(self.ux))
        self.uT, self.iT = np.unique(T, return_inverse=True)
        self.wT = np.bincount(self.iT, weights=weight * x, minlength=len(self.uT))
        self.wT0 = np.bincount(self.iT, weights=weight, minlength=len(self.uT))
        repeat = x > 0  # only these rows have the "dropped out at t_x" term
        self.rx_ix, self.rx_iT = self.ix[repeat], self.iT[repeat]
        self.ut, self.it = np.unique(t_x[repeat], return_inverse=True)
        self.x, self.w = x[repeat], weight[repeat]

    def __call__(self, params: Vector) -> tuple[float, Vector]:
        r, alpha, a, b = (float(v) for v in params)
        ux, wx = self.ux, self.wx
        # every row: gamma/beta terms by x, and -(r + x) log(alpha + T) by T
        per_x = gammaln(r + ux) - gammaln(r) + r * np.log(alpha)
        per_x += betaln(a, b + ux) - betaln(a, b)
        log_T = np.log(alpha + self.uT)
        r_T = r * self.wT0 + self.wT  # sum of weight * (r + x) by T
        ll = float(wx @ per_x - r_T @ log_T)
        d_r = wx @ (digamma(r + ux) - digamma(r) + np.log(alpha)) - self.wT0 @ log_T
        d_alpha = r / alpha * wx.sum() - r_T @ (1.0 / (alpha + self.uT))
        common = digamma(a + b) - digamma(a + b + ux)
        d_a = wx @ common
        d_b = wx @ (common + digamma(b + ux) - digamma(b))
        # repeat rows: log(1 + exp(d)), d = log(a / (b + x - 1)) + (r + x) log((alpha + T) /
        # (alpha + t_x)), and its share w4 = expit(d), both from one exp(-|d|)
        lead = np.log(a) - np.log(b + np.maximum(ux, 1) - 1)
        rx, w = r + self.x, self.w
        gap = log_T[self.rx_iT] - np.log(alpha + self.ut)[self.it]
        d = lead[self.rx_ix] + rx * gap
        small = np.exp(-np.abs(d))
        ll += float(w @ (np.maximum(d, 0.0) + np.log1p(small)))
        ww4 = w * np.where(d >= 0, 1.0, small) / (1.0 + small)
        d_r += ww4 @ gap
        ww4_rx = ww4 * rx  # d/d alpha of (r + x)(log(alpha + T) - log(alpha + t_x)), by time
        d_alpha += np.bincount(self.rx_iT, ww4_rx, len(self.uT)) @ (1.0 / (alpha + self.uT))
        d_alpha -= np.bincount(self.it, ww4_rx, len(self.ut)) @ (1.0 / (alpha + self.ut))
        d_a += ww4.sum() / a
        dropped = np.bincount(self.rx_ix, weights=ww4, minlength=len(ux))
        d_b -= dropped @ (1.0 / (b + np.maximum(ux, 1) - 1))
        return ll, np.array([d_r, d_alpha, d_a, d_b])


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
        self.fit_: Fit = fit_positive(LogLikelihood(x, t_x, T, w), start, self.max_iter)
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
        # the unconditional part depends on (x, T) only: the costly 2F1 once per distinct pair
        ux, cx = np.unique(x, return_inverse=True)
        uT, cT = np.unique(T, return_inverse=True)
        pairs, pair = np.unique(cx.astype(np.int64) * len(uT) + cT, return_inverse=True)
        px, pT = ux[pairs // len(uT)], uT[pairs % len(uT)]
        z = t / (alpha + pT + t)
        lead = (a + b + px - 1) / (a - 1)
        power = np.exp((r + px) * (np.log(alpha + pT) - np.log(alpha + pT + t)))
        body = (lead * (1.0 - power * hyp2f1(r + px, b + px, a + b + px - 1, z)))[pair]
        log_odds = np.log(a) - np.log(b + np.maximum(x, 1) - 1)
        log_odds += (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        out: Vector = body / (1.0 + np.where(x > 0, np.exp(log_odds), 0.0))
        return out
