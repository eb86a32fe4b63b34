"""Choose the number of segments k: the best-separated k whose segments are all big enough.

For each k in ``k_min..k_max`` k-means (k-means++, seeded) is fitted and scored by
inertia, silhouette, Calinski-Harabasz (CH), Davies-Bouldin (DB) and the share of rows in
its smallest segment; the elbow of the inertia curve is found with the kneedle method (on
log inertia) and shown, but does not decide.

Scale: above ``fit_sample_size`` rows the k-means fits run on one seeded sample of that
many rows (the reported inertia is scaled up to all rows); the silhouette, which is
quadratic, is always computed on a seeded sample of at most ``sample_size`` of those rows,
from one pass over its pairwise distances shared by every k. The centroids of the chosen
k are returned so that a final fit on all rows can start from them (see ``cluster.py``).

The rule (its outcome is stated, in plain words, in every returned ``reason``):

1. A k is *useful* when its smallest segment holds at least ``min_share`` of the customers
   (default 3%): a segment smaller than that is rarely worth its own campaign, and is
   often a handful of outliers. When no k is useful, the k whose smallest segment is
   largest is taken, and the reason says so.
2. If Calinski-Harabasz (CH) peaks at a useful k *inside* the useful range (not at its
   smallest or largest k) and that k's silhouette is at least ``PEAK_SHARE`` (0.9) of the
   best useful silhouette, that k is chosen: an interior CH peak is the mark of compact
   groups, where the silhouette tends to merge neighbouring groups (six planted groups, two
   of them close: best silhouette at 5, CH peak at the planted 6).
3. Otherwise the useful k with the best silhouette is chosen.

On data without compact groups (most real customer tables) CH simply falls with k, so step
3 decides and the choice never gives up separation. The earlier rule (silhouette within 0.1
of the best, then highest CH) let every k in on such tables, whose silhouettes are 0.1 to
0.3, and CH then chose k = 2 on all six real tables tried. ``benchmarks/bench_kselect.py``
compares rules (that one, silhouette alone, CH alone, a consensus of indices, the gap
statistic, prediction strength) on planted tables and logs, scikit-learn's wine, iris and
breast cancer, and real customer tables: this rule recovers every planted k and keeps the
best silhouette of the useful ks on every real table (``docs/benchmarks-segment.md``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score
from sklearn.utils import check_array
from threadpoolctl import threadpool_limits

from segwise.errors import ConfigError, InputError

Matrix = NDArray[np.float64]

#: a k is useful when its smallest segment holds at least this share of customers (step 1)
MIN_SHARE = 0.03
#: a Calinski-Harabasz peak inside the range wins when its silhouette is this close (step 2)
PEAK_SHARE = 0.9


@dataclass(frozen=True)
class KScore:
    """The criteria for one k.

    Inertia is the within-segment sum of squares over all rows (estimated from the sample
    when k was chosen on one); ``min_share`` is the share of the (sampled) rows in the
    smallest segment. A criterion that cannot be computed (fewer distinct rows than k) is
    NaN, and None in ``to_dict``.
    """

    k: int
    inertia: float
    silhouette: float
    calinski_harabasz: float
    davies_bouldin: float
    min_share: float = float("nan")

    def to_dict(self) -> dict[str, float | int | None]:
        """Plain dict for JSON output (NaN becomes None, as JSON has no NaN)."""
        values = {
            "inertia": self.inertia,
            "silhouette": self.silhouette,
            "calinski_harabasz": self.calinski_harabasz,
            "davies_bouldin": self.davies_bouldin,
            "min_share": self.min_share,
        }
        clean = {name: v if math.isfinite(v) else None for name, v in values.items()}
        return {"k": self.k, **clean}


@dataclass(frozen=True)
class KSelection:
    """The chosen k, the scores behind it, the elbow and one sentence saying why.

    ``sample_size`` is how many rows the k-means fits ran on (all, or the seeded sample);
    ``centers`` holds the centroids of the chosen k fitted on those rows, so the final
    fit on all rows starts where the choice was made.
    """

    k: int
    scores: list[KScore]
    elbow: int | None
    reason: str
    sample_size: int = 0
    centers: Matrix | None = field(default=None, compare=False, repr=False)


def subsample(n: int, size: int, seed: int) -> NDArray[np.intp]:
    """Seeded, sorted row indices of at most ``size`` of ``n`` rows (all rows if n <= size)."""
    if n <= size:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=size, replace=False))


FIT_SAMPLE = 20_000
"""Rows each candidate k is fitted on (a seeded sample; the chosen k is then refined on all
rows). On the 338k customers of a CDNOW-scaled log, samples of 10k, 20k and 100k chose the
same k for three seeds each, and the silhouettes per k moved less between sample sizes than
between seeds of one size; 20k costs a fifth of 100k."""

TOL = 1e-3
"""Lloyd stops when centres move less than this (relative to the data's variance): 10 times
sklearn's default, for the fits that compare ks and refits; on 30k CDNOW customers it halves
the iterations and changes inertia by < 0.5%. The final fit on all rows keeps the default."""


def fit_kmeans(X: Matrix, k: int, *, seed: int, n_init: int) -> KMeans:
    """k-means++ with a fixed seed, so the same data and seed give the same centroids.

    On one thread: these fits run on samples (at most ``FIT_SAMPLE`` rows), too small for
    OpenMP threads to share out; on 2 cores their threads spun, and nine ks with three starts
    each took 2.5x the wall time and 5x the CPU of one thread (``fit_many`` runs several fits
    side by side instead)."""
    model = KMeans(n_clusters=k, init="k-means++", n_init=n_init, random_state=seed, tol=TOL)
    with threadpool_limits(limits=1):
        return model.fit(X)


def fit_many(jobs: Sequence[tuple[Matrix, int, int]], *, n_init: int) -> list[KMeans]:
    """``fit_kmeans`` of each ``(rows, k, seed)``, in order, a fit per core at a time.

    k-means works outside the interpreter lock, so the fits of the candidate ks (or of the
    bootstrap refits) run side by side on the machine's cores; each is seeded, so the
    result does not depend on how they were shared out. BLAS, whose thread count is one
    setting for the whole process, is held at one thread around all of them (each fit's own
    limit then finds it there and leaves it there); OpenMP's is each thread's own."""
    workers = min(len(jobs), os.cpu_count() or 1)
    if workers <= 1:
        return [fit_kmeans(rows, k, seed=seed, n_init=n_init) for rows, k, seed in jobs]
    with (
        threadpool_limits(limits=1, user_api="blas"),
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="segwise-kmeans") as pool,
    ):
        return list(
            pool.map(lambda job: fit_kmeans(job[0], job[1], seed=job[2], n_init=n_init), jobs)
        )


def find_elbow(ks: list[int], inertia: list[float], *, min_gain: float = 0.05) -> int | None:
    """The knee of the decreasing inertia curve, by the kneedle method on its logarithm.

    Both axes are scaled to [0, 1]; the knee is the k whose point lies furthest above
    the straight line from the first to the last point (Satopaa et al., 2011). The log
    matters: on well-separated groups inertia falls by orders of magnitude and the linear
    curve bends too early (on planted groups the linear knee was the planted k about 4
    times in 10, the log knee 8 in 10). None when the curve is too short, not decreasing,
    or nearly straight (bends by less than ``min_gain``).
    """
    x = np.asarray(ks, dtype=np.float64)
    raw = np.asarray(inertia, dtype=np.float64)
    if len(x) < 3 or not raw[0] > raw[-1] or not raw[0] > 0:
        return None
    y = np.log(np.maximum(raw, raw[0] * 1e-12))
    gain = (y[0] - y) / (y[0] - y[-1]) - (x - x[0]) / (x[-1] - x[0])
    best = int(np.argmax(gain))
    if best in (0, len(x) - 1) or gain[best] < min_gain:
        return None
    return ks[best]


def silhouettes(D_rows: Matrix, labelings: list[NDArray[np.intp]]) -> list[float]:
    """Mean silhouette of several labelings of the same points in one pass over distances.

    ``D_rows`` are the points; their pairwise distances are computed in row chunks and
    multiplied once by the stacked one-hot labelings, giving each point's distance sums
    to every cluster of every labeling. Same definition as scikit-learn's
    ``silhouette_score`` (a singleton's silhouette is 0), at the cost of one distance pass
    instead of one per k. The distances are computed in single precision on the centred
    points (|x|^2 + |y|^2 - 2 x.y, as scikit-learn does): half the memory traffic of double,
    2.5x faster on 10,000 points, and within 1e-5 of the double-precision silhouette, far
    below the sampling error of a 10,000-point sample.
    """
    points = np.asarray(D_rows, dtype=np.float64)
    points = (points - points.mean(axis=0)).astype(np.float32)
    norms = np.einsum("ij,ij->i", points, points)
    n = points.shape[0]
    widths = [int(labels.max()) + 1 for labels in labelings]
    offsets = np.concatenate([[0], np.cumsum(widths)]).astype(np.intp)
    onehot = np.zeros((n, int(offsets[-1])), dtype=np.float32)
    for labels, offset in zip(labelings, offsets[:-1], strict=True):
        onehot[np.arange(n), offset + labels] = 1.0
    sums = np.empty(onehot.shape, dtype=np.float64)
    chunk = max(1, 4_000_000 // max(n, 1))
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        dist = points[start:stop] @ points.T
        dist *= -2.0
        dist += norms[start:stop, None]
        dist += norms[None, :]
        np.maximum(dist, 0.0, out=dist)
        np.sqrt(dist, out=dist)
        dist[np.arange(stop - start), np.arange(start, stop)] = 0.0
        sums[start:stop] = dist @ onehot
    counts = onehot.sum(axis=0, dtype=np.float64)
    result = []
    rows = np.arange(n)
    for labels, offset, width in zip(labelings, offsets[:-1], widths, strict=True):
        block = sums[:, offset : offset + width]
        size = counts[offset : offset + width]
        if np.count_nonzero(size) < 2 or np.count_nonzero(size) >= n:
            result.append(float("nan"))
            continue
        own = size[labels]
        with np.errstate(divide="ignore", invalid="ignore"):
            a = block[rows, labels] / np.maximum(own - 1, 1)
            mean_to = block / size
        mean_to[rows, labels] = np.inf
        mean_to[:, size == 0] = np.inf
        b = mean_to.min(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(own > 1, (b - a) / np.maximum(a, b), 0.0)
        result.append(float(np.mean(np.nan_to_num(s, nan=0.0))))
    return result


def smallest_share(labels: NDArray[np.intp], k: int) -> float:
    """Share of the rows in the smallest of ``k`` segments (0 when one is empty)."""
    return float(np.bincount(labels, minlength=k).min() / max(len(labels), 1))


def _ks(ks: list[int]) -> str:
    """'7', '7 and 9', '6, 7 and 9'."""
    text = [str(k) for k in sorted(ks)]
    return text[0] if len(text) == 1 else ", ".join(text[:-1]) + " and " + text[-1]


def _percent(share: float) -> str:
    return f"{share:.0%}" if round(share * 100, 6) == round(share * 100) else f"{share:.1%}"


def choose_k(
    scores: list[KScore], elbow: int | None = None, *, min_share: float = MIN_SHARE
) -> tuple[int, str]:
    """Apply the module's rule to computed scores; return k and the one-sentence reason.

    ``elbow`` is only used when no silhouette could be computed at all.
    """
    valid = [s for s in scores if np.isfinite(s.silhouette) and np.isfinite(s.calinski_harabasz)]
    if not valid:
        k = scores[0].k if elbow is None else elbow
        return k, f"k = {k}: no separation could be measured, so the bend of the inertia decides."
    floor = _percent(min_share)
    useful = [s for s in valid if not s.min_share < min_share]  # NaN (unknown) counts as useful
    if not useful:
        chosen = max(valid, key=lambda s: (s.min_share, -s.k))
        return chosen.k, (
            f"k = {chosen.k}: every k tried leaves a segment under {floor} of the customers, and"
            f" k = {chosen.k} has the largest smallest segment ({chosen.min_share:.1%});"
            " lower the minimum share or set k to choose otherwise."
        )
    best = max(useful, key=lambda s: s.silhouette)
    by_ch = max(useful, key=lambda s: s.calinski_harabasz)
    tried = f"k = {valid[0].k}..{valid[-1].k}" if len(valid) > 1 else f"k = {valid[0].k}"
    said = 0  # the k already named as runner-up, if any
    peak = min(s.k for s in useful) < by_ch.k < max(s.k for s in useful)
    close = by_ch.silhouette >= (PEAK_SHARE * best.silhouette if best.silhouette > 0 else 0.0)
    if by_ch.k != best.k and peak and close:
        chosen = by_ch
        lead = (
            f"the segments are compact groups: Calinski-Harabasz (how far apart segments stand"
            f" for their spread) peaks at {by_ch.k}, inside {tried}, and its separation"
            f" (silhouette {by_ch.silhouette:.3f}) is within {1 - PEAK_SHARE:.0%} of the best"
            f" ({best.silhouette:.3f} at k = {best.k}, which merges groups that sit close together)"
        )
    else:
        chosen = best
        lead = (
            f"customers are best separated into {best.k} segments (silhouette"
            f" {best.silhouette:.3f}, the highest of {tried}"
        )
        others = [s for s in useful if s is not best]
        if others:
            runner = max(others, key=lambda s: s.silhouette)
            lead += f"; next {runner.silhouette:.3f} at k = {runner.k}"
            said = runner.k
        lead += ")"
    k = chosen.k
    small = [s.k for s in valid if s.min_share < min_share]
    if small:
        lead += (
            f"; k = {_ks(small)} {'was' if len(small) == 1 else 'were'} left out because a"
            f" segment would hold under {floor} of the customers"
        )
    finer = [s for s in useful if s.k > k]
    if finer:
        alt = max(finer, key=lambda s: s.silhouette)
        if alt.k == said:
            lead += f"; k = {alt.k} is also the best finer split"
        else:
            lead += (
                f"; for more segments, k = {alt.k} separates best (silhouette {alt.silhouette:.3f})"
            )
    return k, f"k = {k}: {lead}."


def select_k(
    X: Any,
    *,
    k_min: int = 2,
    k_max: int = 10,
    seed: int = 0,
    sample_size: int = 10_000,
    fit_sample_size: int = FIT_SAMPLE,
    n_init: int = 3,
    min_share: float = MIN_SHARE,
) -> KSelection:
    """Score k-means for every k in ``k_min..k_max`` and choose k by the module's rule.

    ``X`` is the preprocessed (scaled) float matrix, one row per customer. ``k_max`` is
    lowered to ``n - 1`` when there are fewer customers than that. Seeded: the same data
    and seed give the same choice.
    """
    data = check_array(X, dtype=np.float64)
    n = data.shape[0]
    if k_min < 2 or k_max < k_min:
        raise ConfigError(f"need 2 <= k_min <= k_max, got k_min={k_min}, k_max={k_max}")
    if sample_size < 3 or fit_sample_size < sample_size:
        raise ConfigError(
            f"need 3 <= sample_size <= fit_sample_size, got {sample_size} and {fit_sample_size}"
        )
    if not 0.0 <= min_share <= 1.0 / k_min:
        raise ConfigError(f"need 0 <= min_share <= 1/k_min, got min_share={min_share}")
    if n < k_min + 1:
        raise InputError(
            f"{n} customers are too few to try k = {k_min}",
            hint=f"segments need at least {k_min + 1} customers",
        )
    k_max = min(k_max, n - 1)
    fit_rows = data[subsample(n, fit_sample_size, seed)]
    sil_idx = subsample(len(fit_rows), sample_size, seed + 1)
    scale = n / len(fit_rows)
    ks = range(k_min, k_max + 1)
    models = dict(zip(ks, fit_many([(fit_rows, k, seed) for k in ks], n_init=n_init), strict=True))
    sils = silhouettes(fit_rows[sil_idx], [models[k].labels_[sil_idx] for k in models])
    scores = []
    for (k, model), sil in zip(models.items(), sils, strict=True):
        labels = model.labels_
        distinct = len(np.unique(labels))
        ok = 2 <= distinct < len(fit_rows)
        scores.append(
            KScore(
                k=k,
                inertia=float(model.inertia_) * scale,
                silhouette=sil,
                calinski_harabasz=float(calinski_harabasz_score(fit_rows, labels))
                if ok
                else float("nan"),
                davies_bouldin=float(davies_bouldin_score(fit_rows, labels))
                if ok
                else float("nan"),
                min_share=smallest_share(labels, k),
            )
        )
    elbow = find_elbow([s.k for s in scores], [s.inertia for s in scores])
    k, reason = choose_k(scores, elbow, min_share=min_share)
    return KSelection(
        k=k,
        scores=scores,
        elbow=elbow,
        reason=reason,
        sample_size=len(fit_rows),
        centers=np.asarray(models[k].cluster_centers_, dtype=np.float64),
    )
