"""k-means segmentation as a scikit-learn estimator, and a bootstrap stability check.

``SegmentClusterer`` chooses k (``kselect.select_k``) or takes it fixed, fits k-means++
on a seeded sample of at most ``fit_sample_size`` rows and then refines on all rows from
those centroids (one Lloyd run, ``n_init=1``): a million customers take about a second
instead of one full multi-start fit per k. Segment ids are ordered by size (0 = largest)
so they are stable between runs on the same data.

A customer's segment is its nearest centre, by ``predict``, for the training rows too
(``labels_`` is ``predict`` of them), so placing a run's own customers again reproduces their
segments exactly. ``predict_proba`` reads the same geometry as a confidence: the posterior of
spherical clusters of one common spread, so it is highest for the nearest centre and falls as
a customer sits between two.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted, validate_data

from segwise.errors import ConfigError, InputError
from segwise.segment.kselect import (
    FIT_SAMPLE,
    MIN_SHARE,
    KSelection,
    fit_kmeans,
    fit_many,
    select_k,
    subsample,
)

Matrix = NDArray[np.float64]
Labels = NDArray[np.intp]

UNSTABLE_BELOW = 0.75
"""Mean adjusted Rand of the bootstrap refits below which the segments are called unstable."""
WORST_REFIT_BELOW = 0.5
"""A single refit agreeing less than this (adjusted Rand) is warned about too."""
SEGMENT_UNSTABLE_BELOW = 0.6
"""A segment whose best match keeps less than this Jaccard across refits is unstable."""


class SegmentClusterer(TransformerMixin, ClusterMixin, BaseEstimator):  # type: ignore[misc]
    """k-means++ customer segments with k chosen automatically or fixed.

    Parameters
    ----------
    k : "auto" or int
        Number of segments; "auto" chooses it in ``k_min..k_max`` with ``select_k``.
    k_min, k_max : int
        Range tried when ``k="auto"``.
    seed : int
        Seed of the sampling and of k-means++; the same seed gives identical labels.
    n_init : int
        k-means++ restarts on the sample (the best inertia is kept).
    fit_sample_size : int
        Rows k-means is fitted on (per k tried) before the refinement on all rows
        (``kselect.FIT_SAMPLE``).
    sample_size : int
        Rows the silhouette is computed on when choosing k.
    min_share : float
        With ``k="auto"``, only ks whose smallest segment holds at least this share of the
        rows are chosen (``kselect.MIN_SHARE``, 3%; 0 turns the floor off).

    Attributes
    ----------
    labels_, cluster_centers_, n_clusters_, inertia_, k_selection_ (None when k is fixed),
    classes_ (the segment ids), spread_ (mean squared distance to the own centre, per
    dimension: the variance behind ``predict_proba``).
    """

    def __init__(
        self,
        k: int | Literal["auto"] = "auto",
        *,
        k_min: int = 2,
        k_max: int = 10,
        seed: int = 0,
        n_init: int = 3,
        fit_sample_size: int = FIT_SAMPLE,
        sample_size: int = 10_000,
        min_share: float = MIN_SHARE,
    ) -> None:
        self.k = k
        self.k_min = k_min
        self.k_max = k_max
        self.seed = seed
        self.n_init = n_init
        self.fit_sample_size = fit_sample_size
        self.sample_size = sample_size
        self.min_share = min_share

    def fit(self, X: Any, y: Any = None) -> SegmentClusterer:
        """Choose or take k, fit k-means and order the segments by size (0 = largest)."""
        data: Matrix = validate_data(self, X, dtype=np.float64)
        n = data.shape[0]
        selection: KSelection | None = None
        if self.k == "auto":
            selection = select_k(
                data,
                k_min=self.k_min,
                k_max=self.k_max,
                seed=self.seed,
                sample_size=min(self.sample_size, self.fit_sample_size),
                fit_sample_size=self.fit_sample_size,
                n_init=self.n_init,
                min_share=self.min_share,
            )
            k = selection.k
            centers = selection.centers
        elif isinstance(self.k, int | np.integer) and not isinstance(self.k, bool) and self.k >= 1:
            k = int(self.k)
            if n < k:
                raise ValueError(f"n_samples={n} should be >= n_clusters={k}.")
            rows = data[subsample(n, self.fit_sample_size, self.seed)]
            centers = fit_kmeans(rows, k, seed=self.seed, n_init=self.n_init).cluster_centers_
        else:
            raise ConfigError(f"k must be 'auto' or a positive integer, got {self.k!r}")
        final = KMeans(n_clusters=k, init=centers, n_init=1, random_state=self.seed).fit(data)
        _, order = _order_by_size(final.labels_, k)
        return self._set_centers(data, final.cluster_centers_[order], selection)

    @classmethod
    def from_centers(
        cls, X: Any, centers: Any, *, k_selection: KSelection | None = None, seed: int = 0
    ) -> SegmentClusterer:
        """A fitted clusterer whose centres were found elsewhere (Spark k-means||): the rows
        ``X`` are labelled and measured exactly as ``fit`` does."""
        clusterer = cls(k=len(centers), seed=seed)
        data: Matrix = validate_data(clusterer, X, dtype=np.float64)
        return clusterer._set_centers(data, centers, k_selection)

    def _set_centers(
        self, data: Matrix, centers: Any, selection: KSelection | None
    ) -> SegmentClusterer:
        self.cluster_centers_: Matrix = np.array(centers, dtype=np.float64)
        self.n_clusters_: int = len(self.cluster_centers_)
        self.classes_: Labels = np.arange(self.n_clusters_)
        distances = squared_distances(data, self.cluster_centers_)
        self.labels_: Labels = np.argmin(distances, axis=1)  # exactly what predict says
        own = distances[np.arange(len(data)), self.labels_]
        self.inertia_: float = float(own.sum())
        self.spread_: float = max(self.inertia_ / own.size / data.shape[1], 1e-12)
        self.k_selection_: KSelection | None = selection
        return self

    def predict(self, X: Any) -> Labels:
        """Segment of each row: the nearest centroid."""
        labels: Labels = np.argmin(self.transform(X), axis=1)
        return labels

    def transform(self, X: Any) -> Matrix:
        """Squared distance of each row to each segment's centre."""
        check_is_fitted(self)
        data = validate_data(self, X, dtype=np.float64, reset=False)
        return squared_distances(data, self.cluster_centers_)

    def predict_proba(self, X: Any) -> Matrix:
        """Confidence per segment: ``softmax(-d^2 / (2 spread_))`` over the centres, so the
        nearest centre is always the most likely one."""
        return proba_from_distances(self.transform(X), self.spread_)


def squared_distances(data: Matrix, centers: Matrix) -> Matrix:
    """``|x - c|^2`` of every row to every centre, one centre at a time (memory: one copy of
    ``data``). Each row's distances depend on that row alone, never on the batch it came in,
    so a customer placed alone gets the segment it got in training, bit for bit."""
    out: Matrix = np.empty((data.shape[0], centers.shape[0]), dtype=np.float64)
    for j, center in enumerate(centers):
        out[:, j] = np.square(data - center).sum(axis=1)
    return out


def proba_from_distances(distances: Matrix, spread: float) -> Matrix:
    """Posterior of spherical clusters of variance ``spread``, from squared distances."""
    logits = -(distances - distances.min(axis=1, keepdims=True)) / (2.0 * spread)
    weights = np.exp(logits)
    proba: Matrix = weights / weights.sum(axis=1, keepdims=True)
    return proba


def _order_by_size(labels: NDArray[Any], k: int) -> tuple[Labels, Labels]:
    """Relabel so that segment 0 is the largest; ties keep k-means' order."""
    counts = np.bincount(labels, minlength=k)
    order: Labels = np.argsort(-counts, kind="stable")
    new_id = np.empty(k, dtype=np.intp)
    new_id[order] = np.arange(k)
    return new_id[labels], order


@dataclass(frozen=True)
class Stability:
    """How much the segments survive resampling: adjusted Rand of bootstrap refits, the worst
    refit, and per segment the mean Jaccard of its best match in each refit."""

    mean_ari: float
    min_ari: float
    warning: str | None
    segment_jaccard: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output (``min_ari`` is the worst refit)."""
        return {
            "mean_ari": self.mean_ari,
            "min_ari": self.min_ari,
            "segments": [
                {"segment": i, "jaccard": round(j, 4) if np.isfinite(j) else None}
                for i, j in enumerate(self.segment_jaccard)
            ],
            "warning": self.warning,
        }


def best_match_jaccard(reference: Labels, other: Labels, k: int) -> NDArray[np.float64]:
    """For each reference segment, the Jaccard index of its members with the ``other``
    segment that shares most of them (NaN for a segment absent from ``reference``)."""
    width = max(k, int(other.max()) + 1)
    both = np.zeros((k, width))
    np.add.at(both, (reference, other), 1.0)
    union = both.sum(axis=1, keepdims=True) + both.sum(axis=0, keepdims=True) - both
    with np.errstate(divide="ignore", invalid="ignore"):
        jaccard = np.where(union > 0, both / union, 0.0)
    best: NDArray[np.float64] = jaccard.max(axis=1)
    best[both.sum(axis=1) == 0] = np.nan
    return best


def stability(
    X: Any,
    k: int,
    *,
    seed: int = 0,
    n_boot: int = 10,
    sample_size: int = 20_000,
    n_init: int = 3,
    centers: Any = None,
) -> Stability:
    """Refit k-means on bootstrap resamples and compare with the segments.

    On a seeded sample of at most ``sample_size`` rows, the reference labels are the nearest
    of ``centers`` (the run's segments, so segment ids match the run's) or, without centres,
    a k-means fit. Each of ``n_boot`` bootstrap resamples (rows drawn with replacement) is
    refitted with its own seed and its labels of the distinct drawn rows are compared with
    the reference: adjusted Rand for the whole partition (1 = same, about 0 = chance), and
    per reference segment the Jaccard index of its best-matching refit segment, averaged
    over refits (Hennig, 2007: a cluster found again at 0.75 or more is stable, from 0.6 to
    0.75 a pattern whose members are doubtful, below 0.6 not to be trusted).

    ``warning`` is set when the mean adjusted Rand is below ``UNSTABLE_BELOW`` (0.75), the
    worst refit below ``WORST_REFIT_BELOW`` (0.5) or any segment's Jaccard below
    ``SEGMENT_UNSTABLE_BELOW`` (0.6).
    """
    data = check_array(X, dtype=np.float64)
    base = data[subsample(data.shape[0], sample_size, seed)]
    m = base.shape[0]
    if n_boot < 1:
        raise ConfigError(f"n_boot must be at least 1, got {n_boot}")
    if centers is not None:
        k = len(centers)
    if not 1 <= k < m:
        raise InputError(f"stability of k = {k} needs more than {k} customers, got {m}")
    if centers is not None:
        given = np.asarray(centers, dtype=np.float64)
        reference: Labels = np.argmin(squared_distances(base, given), axis=1)
    else:
        reference = fit_kmeans(base, k, seed=seed, n_init=n_init).labels_
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, m, size=m) for _ in range(n_boot)]
    models = fit_many([(base[d], k, seed + 1 + b) for b, d in enumerate(draws)], n_init=n_init)
    scores, jaccards = [], []
    for drawn, model in zip(draws, models, strict=True):
        shared = np.unique(drawn)
        refit = np.asarray(model.predict(base[shared]), dtype=np.intp)
        scores.append(adjusted_rand_score(reference[shared], refit))
        jaccards.append(best_match_jaccard(reference[shared], refit, k))
    mean_ari, min_ari = float(np.mean(scores)), float(np.min(scores))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a segment absent from the sample
        per_segment = tuple(float(j) for j in np.nanmean(np.vstack(jaccards), axis=0))
    return Stability(
        mean_ari=mean_ari,
        min_ari=min_ari,
        warning=_stability_warning(mean_ari, min_ari, per_segment, n_boot, k),
        segment_jaccard=per_segment,
    )


def _stability_warning(
    mean_ari: float, min_ari: float, per_segment: tuple[float, ...], n_boot: int, k: int
) -> str | None:
    """One sentence naming every sign of instability, or None when there is none."""
    problems = []
    if mean_ari < UNSTABLE_BELOW:
        problems.append(
            f"refits on {n_boot} bootstrap resamples agree with the segments by adjusted Rand"
            f" {mean_ari:.2f} on average (below {UNSTABLE_BELOW})"
        )
    if min_ari < WORST_REFIT_BELOW:
        problems.append(
            f"the worst of {n_boot} refits agrees only {min_ari:.2f} (below {WORST_REFIT_BELOW})"
        )
    weak = [(i, j) for i, j in enumerate(per_segment) if j < SEGMENT_UNSTABLE_BELOW]
    if weak:
        listed = ", ".join(f"{i} ({math.floor(j * 100) / 100:.2f})" for i, j in weak)
        problems.append(
            f"segment{'s' if len(weak) > 1 else ''} {listed} keep{'' if len(weak) > 1 else 's'}"
            f" less than {SEGMENT_UNSTABLE_BELOW} of {'their' if len(weak) > 1 else 'its'}"
            " customers together across refits (Jaccard)"
        )
    if not problems:
        return None
    return (
        f"segments are unstable: {'; '.join(problems)}; treat these {k} segments as a rough"
        " split or try another k"
    )
