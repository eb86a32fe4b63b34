"""Maximum likelihood on positive parameters: L-BFGS on their logarithms, with a gradient."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

Vector = NDArray[np.float64]


@dataclass(frozen=True)
class Fit:
    """The optimum: parameters, the weighted log-likelihood there, and whether it converged."""

    params: Vector
    log_likelihood: float
    converged: bool
    iterations: int
    message: str


def fit_positive(
    loglik_grad: Callable[[Vector], tuple[float, Vector]], start: Vector, max_iter: int = 500
) -> Fit:
    """Maximise a log-likelihood over positive parameters, given ``(ll, d ll / d params)``.

    Works in log space (positivity for free); converged means L-BFGS met its tolerance with
    a finite likelihood and finite, moderate parameters (an estimate running off to 0 or
    infinity is a model the data cannot pin down).
    """

    def objective(log_params: Vector) -> tuple[float, Vector]:
        params = np.exp(log_params)
        ll, grad = loglik_grad(params)
        if not np.isfinite(ll):
            return 1e300, np.zeros_like(log_params)
        return -ll, -grad * params  # chain rule for log parameters

    # the likelihoods' dot products are short: BLAS threads only spin (4-5x the CPU on a
    # shared machine), so the fit runs them on one thread
    with threadpool_limits(limits=1, user_api="blas"):
        result = minimize(
            objective,
            np.log(start),
            jac=True,
            method="L-BFGS-B",
            bounds=[(-20.0, 20.0)] * len(start),
            options={"maxiter": max_iter, "gtol": 1e-6, "ftol": 1e-11},
        )
    log_params = np.asarray(result.x, dtype=np.float64)
    at_bound = bool(np.any(np.abs(log_params) > 19.0))
    ll = -float(result.fun)
    converged = bool(result.success) and np.isfinite(ll) and not at_bound
    message = str(result.message)
    if at_bound:
        message = "a parameter ran off towards 0 or infinity"
    return Fit(np.exp(log_params), ll, converged, int(result.nit), message)
