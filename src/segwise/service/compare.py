"""Use case: compare two runs — who moved between named segments, who came and went, and how
far each feature drifted (population stability index)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from segwise.config import Settings, get_settings
from segwise.service.runs import RFM_COLUMNS, read_assignments, run_segments

PSI_BINS = 10
PSI_FLOOR = 1e-4  # share given to an empty bin, so the log stays finite
NOT_FEATURES = {"customer_id", "segment", "segment_name", "rfm_segment"} | set(RFM_COLUMNS)


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


def compare_runs(run_a: str, run_b: str, *, settings: Settings | None = None) -> dict[str, Any]:
    """Migration between the named segments of two finished runs over the customers both
    hold, the customers only one holds, and the drift of every feature both used."""
    settings = settings or get_settings()
    names_a = [s["name"] for s in run_segments(run_a, settings=settings)]
    names_b = [s["name"] for s in run_segments(run_b, settings=settings)]
    a = read_assignments(run_a, settings=settings).set_index("customer_id")
    b = read_assignments(run_b, settings=settings).set_index("customer_id")
    shared = a.index.intersection(b.index)
    counts = pd.crosstab(
        pd.Categorical(a.loc[shared, "segment"], categories=range(len(names_a))),
        pd.Categorical(b.loc[shared, "segment"], categories=range(len(names_b))),
        dropna=False,
    )
    features = [c for c in a.columns if c in b.columns and c not in NOT_FEATURES]
    drift = {
        c: round(psi(_numbers(a[c]), _numbers(b[c])), 4)
        for c in features
        if pd.api.types.is_numeric_dtype(a[c]) and pd.api.types.is_numeric_dtype(b[c])
    }
    moved = counts.to_numpy()
    stayed = int(
        sum(
            moved[i, j]
            for i in range(len(names_a))
            for j in range(len(names_b))
            if names_a[i] == names_b[j]
        )
    )
    return {
        "runs": [run_a, run_b],
        "customers": {
            "shared": len(shared),
            "new": len(b.index.difference(a.index)),
            "lost": len(a.index.difference(b.index)),
            "same_segment_name": stayed,
        },
        "migration": {"from": names_a, "to": names_b, "counts": moved.astype(int).tolist()},
        "moves": _largest_moves(moved, names_a, names_b),
        "drift": drift,
    }


def _numbers(column: pd.Series) -> np.ndarray:
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)


def _largest_moves(
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
