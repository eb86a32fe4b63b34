"""Gamma-Gamma (Fader & Hardie 2013, after Colombo & Jiang 1999): a customer's purchase values
are gamma(p, nu) with nu ~ gamma(q, gamma) across customers, independent of how often they buy.

Fit on customers with at least one repeat purchase and a positive mean repeat value.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln

from segwise.value.fit import Fit, Vector, fit_positive


class LogLikelihood:
    """The weighted Gamma-Gamma log-likelihood of mean values ``m`` over ``x`` purchases and
    its gradient in (p, q, v).

    The row terms are linear in p and q, so their sums over log m are taken once; gamma
    functions run once per distinct x and ``log(v + m x)`` once per distinct total repeat
    spend m x (customers who spent the same share one evaluation).
    """

    def __init__(self, x: Vector, m: Vector, weight: Vector) -> None:
        self.ux, self.ix = np.unique(x, return_inverse=True)
        self.wx = np.bincount(self.ix, weights=weight, minlength=len(self.ux))
        self.spend, codes = np.unique(m * x, return_inverse=True)  # distinct m x
        self.w_spend = np.bincount(codes, weights=weight, minlength=len(self.spend))
        self.wx_spend = np.bincount(codes, weights=weight * x, minlength=len(self.spend))
        log_m = np.log(m)
        self.wx_log_m = float((weight * x) @ log_m)  # sum of w x log m
        self.w_log_m = float(weight @ log_m)

    def __call__(self, params: Vector) -> tuple[float, Vector]:
        p, q, v = (float(val) for val in params)
        ux, wx = self.ux, self.wx
        pu = p * ux
        per_x = gammaln(pu + q) - gammaln(pu) - gammaln(q) + q * np.log(v) + pu * np.log(ux)
        log_vmx = np.log(v + self.spend)
        wx_log, w_log = float(self.wx_spend @ log_vmx), float(self.w_spend @ log_vmx)
        # sum over rows of (p x - 1) log m - (p x + q) log(v + m x)
        ll = float(wx @ per_x) + p * self.wx_log_m - self.w_log_m - p * wx_log - q * w_log
        d_p = wx @ (ux * (digamma(pu + q) - digamma(pu) + np.log(ux))) + self.wx_log_m - wx_log
        d_q = wx @ (digamma(pu + q) - digamma(q) + np.log(v)) - w_log
        d_v = q / v * wx.sum() - (p * self.wx_spend + q * self.w_spend) @ (1.0 / (v + self.spend))
        return ll, np.array([d_p, d_q, d_v])


class GammaGamma:
    """The Gamma-Gamma model of value per purchase; learned state in ``params_`` and ``fit_``."""

    def __init__(self, max_iter: int = 500) -> None:
        self.max_iter = max_iter

    def fit(self, x: Vector, m: Vector, weight: Vector | None = None) -> GammaGamma:
        """Maximum likelihood on the customers with x > 0 and m > 0 (others carry no value
        information); ``weight`` counts customers per row when identical rows are merged."""
        x, m = np.asarray(x, dtype=np.float64), np.asarray(m, dtype=np.float64)
        keep = (x > 0) & (m > 0)
        xs, ms = x[keep], m[keep]
        w = np.ones_like(xs) if weight is None else np.asarray(weight, dtype=np.float64)[keep]
        start = np.array([1.0, 1.0, max(float(np.average(ms, weights=w)), 1e-3)])
        self.fit_: Fit = fit_positive(LogLikelihood(xs, ms, w), start, self.max_iter)
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
