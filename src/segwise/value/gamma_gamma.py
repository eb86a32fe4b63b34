"""Gamma-Gamma (Fader & Hardie 2013, after Colombo & Jiang 1999): a customer's purchase values
are gamma(p, nu) with nu ~ gamma(q, gamma) across customers, independent of how often they buy.

Fit on customers with at least one repeat purchase and a positive mean repeat value.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln

from segwise.value.fit import Fit, Vector, fit_positive


def log_likelihood(params: Vector, x: Vector, m: Vector, weight: Vector) -> tuple[float, Vector]:
    """The weighted Gamma-Gamma log-likelihood of mean values ``m`` over ``x`` purchases, and
    its gradient in (p, q, v)."""
    p, q, v = (float(val) for val in params)
    px = p * x
    log_vmx = np.log(v + m * x)
    ll_rows = gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
    ll_rows += (px - 1) * np.log(m) + px * np.log(x) - (px + q) * log_vmx
    d_p = x * (digamma(px + q) - digamma(px) + np.log(m) + np.log(x) - log_vmx)
    d_q = digamma(px + q) - digamma(q) + np.log(v) - log_vmx
    d_v = q / v - (px + q) / (v + m * x)
    grad = np.array([np.sum(weight * d) for d in (d_p, d_q, d_v)])
    return float(np.sum(weight * ll_rows)), grad


class GammaGamma:
    """The Gamma-Gamma model of value per purchase; learned state in ``params_`` and ``fit_``."""

    def __init__(self, max_iter: int = 500) -> None:
        self.max_iter = max_iter

    def fit(self, x: Vector, m: Vector) -> GammaGamma:
        """Maximum likelihood on the customers with x > 0 and m > 0 (others carry no value
        information), identical (x, m) pairs grouped."""
        x, m = np.asarray(x, dtype=np.float64), np.asarray(m, dtype=np.float64)
        keep = (x > 0) & (m > 0)
        rows, counts = np.unique(np.column_stack([x[keep], m[keep]]), axis=0, return_counts=True)
        xs, ms, w = rows[:, 0], rows[:, 1], counts.astype(np.float64)
        start = np.array([1.0, 1.0, max(float(np.average(ms, weights=w)), 1e-3)])
        self.fit_: Fit = fit_positive(lambda p: log_likelihood(p, xs, ms, w), start, self.max_iter)
        self.params_ = dict(zip(("p", "q", "v"), self.fit_.params.tolist(), strict=True))
        return self

    def expected_value(self, x: Vector, m: Vector) -> Vector:
        """E(value per purchase | x, m): the customer's mean shrunk towards the population's.

        Customers without a repeat purchase (x = 0) get the population mean p v / (q - 1);
        a non-positive mean (returns outweighing purchases) counts as 0.
        """
        if not hasattr(self, "params_"):
            raise RuntimeError("GammaGamma is not fitted yet: call fit first")
        p, q, v = self.params_["p"], self.params_["q"], self.params_["v"]
        x = np.asarray(x, dtype=np.float64)
        m = np.clip(np.asarray(m, dtype=np.float64), 0.0, None)
        out: Vector = p * (v + m * x) / (p * x + q - 1)
        return out
