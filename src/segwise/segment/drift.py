"""How two runs differ, pure: who moved between named segments, and how far each feature
drifted (population stability index). The compare use case reads the runs; this measures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

PSI_BINS = 10
PSI_FLOOR = 1e-4  # share given to an empty bin, so the log stays finite


def psi(expected: np.ndarray, actual: np.ndarray, bins: int = PSI_BINS) -> float:
    """Population stability index of ``actual`` against ``expected``, on the deciles of
    ``expected`` (< 0.1 stable, 0.1-0.25 some shift, > 0.25 a real shift)."""
    expected = expected[~np.isnan(expected)]
    actual = actual[~np.isnan(actual)]
    if len(expected) == 0 or len(actual) == 0:
        return float("nan")
    edges = np.unique(np.quantile(expected, np.linspace(0, 1, bins + 1))[1:-1])
    e = np.bincount(np.searchsorted(edges, expected, side="right"), minlength=len(edges) + 1)
    a = np.bincount(np.searchsorted(edges, actual, side="right"), minlength=len(edges) + 1)
    e_share = np.maximum(e / e.sum(), PSI_FLOOR)
    a_share = np.maximum(a / a.sum(), PSI_FLOOR)
    return float(np.sum((a_share - e_share) * np.log(a_share / e_share)))


def migration(
    before: pd.Series, after: pd.Series, names_before: Sequence[str], names_after: Sequence[str]
) -> np.ndarray:
    """Customers per (segment before, segment after), over the customers both runs hold."""
    counts = pd.crosstab(
        pd.Categorical(before, categories=range(len(names_before))),
        pd.Categorical(after, categories=range(len(names_after))),
        dropna=False,
    )
    return counts.to_numpy().astype(int)


def kept_name(counts: np.ndarray, names_before: Sequence[str], names_after: Sequence[str]) -> int:
    """Customers whose segment has the same name in both runs."""
    return int(
        sum(
            counts[i, j]
            for i in range(len(names_before))
            for j in range(len(names_after))
            if names_before[i] == names_after[j]
        )
    )


def feature_drift(
    before: pd.DataFrame, after: pd.DataFrame, features: Sequence[str]
) -> dict[str, float]:
    """PSI of every numeric feature both tables hold, rounded to 4 places."""
    return {
        c: round(psi(_numbers(before[c]), _numbers(after[c])), 4)
        for c in features
        if pd.api.types.is_numeric_dtype(before[c]) and pd.api.types.is_numeric_dtype(after[c])
    }


def _numbers(column: pd.Series) -> np.ndarray:
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)


def largest_moves(
    counts: np.ndarray, names_a: list[str], names_b: list[str], top: int = 5
) -> list[dict[str, Any]]:
    """The biggest flows between differently named segments, in words."""
    flows = [
        (int(counts[i, j]), names_a[i], names_b[j])
        for i in range(len(names_a))
        for j in range(len(names_b))
        if names_a[i] != names_b[j] and counts[i, j] > 0
    ]
    flows.sort(key=lambda f: -f[0])
    return [
        {"from": f, "to": t, "customers": n, "text": f"{n:,} {f} became {t}"}
        for n, f, t in flows[:top]
    ]
