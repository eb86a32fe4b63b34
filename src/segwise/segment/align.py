"""Keep segment ids comparable across runs: assign with an earlier run's centres, or refit and
renumber the new segments after the earlier ones they sit closest to (Hungarian matching).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from sklearn.pipeline import Pipeline

from segwise.errors import InputError
from segwise.segment import DataKind
from segwise.segment.cluster import stability
from segwise.segment.outcomes import outcomes_by_profile
from segwise.segment.pipeline import Segmentation
from segwise.segment.profile import profile_segments
from segwise.segment.projection import project


def assign_table(
    table: pd.DataFrame,
    *,
    kind: DataKind,
    model: Pipeline,
    names: Sequence[str],
    recommendations: Sequence[str],
    rfm_segments: pd.Series | None = None,
    seed: int = 0,
) -> Segmentation:
    """Place customers in an earlier run's segments with its artifact (fitted preprocessing +
    clustering), exactly as its ``predict`` does; profiles are of the new customers, names
    and advice stay the earlier run's."""
    prepare, clusterer = model.steps[0][1], model.steps[-1][1]
    centers = clusterer.cluster_centers_
    used = list(prepare.report_.used)
    missing = [c for c in used if c not in table.columns]
    if missing:
        raise InputError(
            f"the data lacks the earlier run's features: {', '.join(missing)}",
            hint="assign data of the same kind and columns, or run without --like",
        )
    matrix = prepare.transform(table)
    labels = np.asarray(clusterer.predict(matrix), dtype=np.intp)
    empty = sorted(set(range(len(centers))) - set(np.unique(labels).tolist()))
    if empty:
        raise InputError(
            f"no customer of this data falls in the earlier segment '{names[empty[0]]}'",
            hint="refit and match instead (--match RUN), so ids stay comparable",
        )
    profiles = profile_segments(table[used], labels, rfm_segments=rfm_segments)
    by_id = {p.segment: p for p in profiles}
    return Segmentation(
        kind=kind,
        features=table,
        labels=labels,
        model=model,
        profiles=[by_id[i] for i in sorted(by_id)],
        names=[names[i] for i in sorted(by_id)],
        recommendations=[recommendations[i] for i in sorted(by_id)],
        k_selection=None,
        k_reason=f"k = {len(centers)}: the earlier run's segments, kept as they were",
        stability=stability(matrix, len(centers), seed=seed, centers=centers),
        projection=project(matrix, seed=seed),
        prep=prepare.report_,
        rfm_segments=rfm_segments,
        outcomes=outcomes_by_profile(table, labels, prepare.report_.outcome_columns, sorted(by_id)),
    )


def match_order(new_centroids: NDArray[np.float64], old_centers: NDArray[np.float64]) -> list[int]:
    """New segment ids in the order that puts each one at the id of its matched old segment.

    Hungarian matching on Euclidean distance between centroids (in the old run's scaled
    space); unmatched new segments (more than before) follow, by size order.
    """
    cost = np.linalg.norm(new_centroids[:, None, :] - old_centers[None, :, :], axis=2)
    rows, cols = linear_sum_assignment(cost)
    matched = dict(zip(rows.tolist(), cols.tolist(), strict=True))
    ranked = sorted(range(len(new_centroids)), key=lambda j: (matched.get(j, 1 << 30), j))
    return ranked


def relabel(seg: Segmentation, order: Sequence[int]) -> Segmentation:
    """The same segmentation with segment ``order[i]`` renumbered ``i`` everywhere."""
    k = seg.k
    if sorted(order) != list(range(k)):
        raise ValueError(f"order must be a permutation of 0..{k - 1}, got {list(order)}")
    new_id = np.empty(k, dtype=np.intp)
    new_id[np.asarray(order)] = np.arange(k)
    cluster = seg.model.named_steps["cluster"]
    cluster.cluster_centers_ = cluster.cluster_centers_[np.asarray(order)]
    labels = new_id[seg.labels]
    cluster.labels_ = labels
    profiles = [replace(seg.profiles[j], segment=i) for i, j in enumerate(order)]
    return replace(
        seg,
        labels=labels,
        profiles=profiles,
        names=[seg.names[j] for j in order],
        recommendations=[seg.recommendations[j] for j in order],
        outcomes=[seg.outcomes[j] for j in order] if seg.outcomes else [],
    )


def centroids(matrix: NDArray[np.float64], labels: NDArray[np.intp], k: int) -> NDArray[Any]:
    """Mean row of each segment 0..k-1."""
    sums = np.zeros((k, matrix.shape[1]))
    np.add.at(sums, labels, matrix)
    counts = np.bincount(labels, minlength=k).astype(float)[:, None]
    means: NDArray[Any] = sums / np.maximum(counts, 1.0)
    return means
