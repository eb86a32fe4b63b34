"""The k rules ``bench_kselect.py`` compares with the shipped one, and its CDNOW-scaled log.

Each rule takes the per-k scores of ``segment.kselect.select_k`` (or a sample of the prepared
matrix, for the gap statistic and prediction strength) and returns its k.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OLD_COMMIT = "044c9eb"  # the last commit with the old rule
MIN_SHARE = 0.03


def today(scores: list[Any], elbow: int | None) -> int:
    """The rule before this benchmark: silhouette within 0.1 of the best, then highest CH,
    unless silhouette, Davies-Bouldin and the elbow all agree on another candidate."""
    by_sil = max(scores, key=lambda s: s.silhouette)
    near = [s for s in scores if s.silhouette >= by_sil.silhouette - 0.1]
    by_ch = max(near, key=lambda s: s.calinski_harabasz).k
    by_db = min(near, key=lambda s: s.davies_bouldin).k
    return int(by_sil.k if by_sil.k == by_db == elbow and by_sil.k != by_ch else by_ch)


def near_then_ch(scores: list[Any], _: Any) -> int:
    """Silhouette within 5% of the best (segments >= 3%), then the highest CH."""
    useful = [s for s in scores if s.min_share >= MIN_SHARE] or scores
    best = max(s.silhouette for s in useful)
    near = [s for s in useful if s.silhouette >= 0.95 * best]
    return int(max(near, key=lambda s: s.calinski_harabasz).k)


def consensus(scores: list[Any], _: Any) -> int:
    """Best summed rank of silhouette (high), CH (high) and DB (low)."""
    n = len(scores)
    total = np.zeros(n)
    for key, sign in (("silhouette", -1), ("calinski_harabasz", -1), ("davies_bouldin", 1)):
        values = np.array([sign * getattr(s, key) for s in scores])
        total += np.argsort(np.argsort(values))
    return int(scores[int(np.argmin(total))].k)


def gap_statistic(X: np.ndarray, ks: list[int], *, seed: int = 0, refs: int = 5) -> int:
    """Tibshirani, Walther & Hastie (2001), uniform reference boxes, the 1-SE rule."""
    from segwise.segment.kselect import fit_kmeans

    rng = np.random.default_rng(seed)
    low, high = X.min(axis=0), X.max(axis=0)
    gaps, errs = [], []
    for k in ks:
        logw = np.log(fit_kmeans(X, k, seed=seed, n_init=1).inertia_)
        ref = [
            np.log(fit_kmeans(rng.uniform(low, high, X.shape), k, seed=seed, n_init=1).inertia_)
            for _ in range(refs)
        ]
        gaps.append(np.mean(ref) - logw)
        errs.append(np.std(ref) * np.sqrt(1 + 1 / refs))
    for i in range(len(ks) - 1):
        if gaps[i] >= gaps[i + 1] - errs[i + 1]:
            return ks[i]
    return ks[-1]


def prediction_strength(X: np.ndarray, ks: list[int], *, seed: int = 0) -> int:
    """Tibshirani & Walther (2005): largest k whose test clusters are co-predicted >= 0.8."""
    from segwise.segment.kselect import fit_kmeans

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X))
    train, test = X[order[: len(X) // 2]], X[order[len(X) // 2 :]]
    best = ks[0]
    for k in ks:
        by_train = fit_kmeans(train, k, seed=seed, n_init=1).predict(test)
        own = fit_kmeans(test, k, seed=seed, n_init=1).labels_
        strength = 1.0
        for j in range(k):
            members = np.flatnonzero(own == j)
            if len(members) < 2:
                continue
            same = by_train[members][:, None] == by_train[members][None, :]
            pairs = len(members) * (len(members) - 1)
            strength = min(strength, (same.sum() - len(members)) / pairs)
        if strength >= 0.8:
            best = k
    return best


def cdnow_scaled(tmp: Path, copies: int = 15) -> Path:
    """CDNOW repeated ``copies`` times as new customers (ids suffixed, dates shifted by up to
    30 days, amounts scaled by up to +-20%): about 1M lines and 350k customers."""
    import lifetimes
    import pandas as pd

    raw = pd.read_csv(
        Path(lifetimes.__file__).parent / "datasets" / "CDNOW_master.txt",
        sep=r"\s+",
        dtype={"customer_id": str},
    )
    day = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    rng = np.random.default_rng(1)
    parts = []
    for c in range(copies):
        shift = pd.to_timedelta(rng.integers(0, 31, len(raw)), unit="D")
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": raw["customer_id"] + f"-{c:02d}",
                    "date": (day - shift).dt.strftime("%Y-%m-%d"),
                    "amount": (raw["dollar_value"] * rng.uniform(0.8, 1.2, len(raw))).round(2),
                }
            )
        )
    path = tmp / "cdnow_1M.parquet"
    pd.concat(parts, ignore_index=True).to_parquet(path, index=False)
    return path


def old_select_k(tmp: Path) -> Any:
    """``select_k`` as it was before this rule (commit 044c9eb), imported from git."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{OLD_COMMIT}:src/segwise/segment/kselect.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = tmp / "kselect_old.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("kselect_old", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["kselect_old"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module.select_k
