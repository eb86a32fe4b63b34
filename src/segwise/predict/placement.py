"""Placing customers with a run's own fitted pipeline, and saying why, from its geometry.

The run artifact is ``Pipeline([("prepare", Preprocessor), ("cluster", SegmentClusterer)])``:
a customer's segment is the nearest centre in the prepared space, exactly as in training.
Confidence and reasons come from the same distances: a feature argues for the segment when
the customer sits nearer that segment's centre than the runner-up's along it. Reasons are
told in the data's own units, next to both segments' averages.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from segwise.predict.reason_text import format_number
from segwise.segment.cluster import SegmentClusterer, proba_from_distances, squared_distances

Matrix = NDArray[np.float64]


@dataclass(frozen=True)
class Placement:
    """Where each row lands: segment, confidence, runner-up segment, and the distances."""

    segment: NDArray[np.intp]
    probability: NDArray[np.float64]
    runner_up: NDArray[np.intp]
    prepared: Matrix  # the rows in the prepared (clustering) space
    distances: Matrix  # squared distance of each row to each centre


def is_placement_model(pipeline: Any) -> bool:
    """True for a run artifact (prepare + clusterer), False for a classifier pipeline."""
    steps = getattr(pipeline, "steps", None) or [(None, None)]
    return isinstance(steps[-1][1], SegmentClusterer)


def place(pipeline: Any, frame: pd.DataFrame) -> Placement:
    """The nearest centre of each row (its segment), with a geometric confidence."""
    prepare, cluster = pipeline.steps[0][1], pipeline.steps[-1][1]
    prepared = prepare.transform(frame)
    distances = squared_distances(
        prepared, cluster.cluster_centers_
    )  # cluster.transform, unchecked
    segment = np.argmin(distances, axis=1)  # what ``predict`` returns, the training labels
    ranked = np.argsort(distances, axis=1, kind="stable")  # ranked[:, 0] is ``segment``
    runner_up = ranked[:, 1] if ranked.shape[1] > 1 else segment
    proba = proba_from_distances(distances, cluster.spread_)
    return Placement(
        segment=segment,
        probability=proba[np.arange(len(segment)), segment],
        runner_up=runner_up,
        prepared=prepared,
        distances=distances,
    )


def placement_reasons(
    pipeline: Any,
    frame: pd.DataFrame,
    *,
    names: Mapping[int, str],
    means: Mapping[int, Mapping[str, float]],
    top: int = 3,
) -> list[list[str]]:
    """Per row, the ``top`` inputs that place it in its segment rather than the runner-up.

    A column's weight is how much nearer it brings the customer to the own centre than to the
    runner-up's (squared distances, summed over the column's prepared parts); columns that
    pull the other way are left out. ``means`` holds each segment's averages in original
    units (a profile's ``mean``), ``col=answer`` shares for categories.
    """
    prepare, cluster = pipeline.steps[0][1], pipeline.steps[-1][1]
    found = place(pipeline, frame)
    owner = _owners(prepare)
    columns = list(dict.fromkeys(owner))
    centers = cluster.cluster_centers_
    own = centers[found.segment]
    other = centers[found.runner_up]
    gain = (found.prepared - other) ** 2 - (found.prepared - own) ** 2
    per_column = np.stack(
        [gain[:, [j for j, o in enumerate(owner) if o == c]].sum(axis=1) for c in columns], axis=1
    )
    kinds = {c.name: c.kind for c in prepare.columns_}
    out: list[list[str]] = []
    for i in range(len(frame)):
        seg, alt = int(found.segment[i]), int(found.runner_up[i])
        if seg == alt:
            out.append([])
            continue
        ranked = np.argsort(-per_column[i], kind="stable")
        texts = []
        for j in ranked[:top]:
            if per_column[i, j] <= 0:
                break
            column = columns[j]
            value = frame.iloc[i][column]
            alt_name = names.get(alt, str(alt))
            texts.append(
                _reason(
                    column, value, kinds[column], means.get(seg, {}), means.get(alt, {}), alt_name
                )
            )
        out.append(texts)
    return out


def _owners(prepare: Any) -> list[str]:
    """The input column behind each prepared column (one-hots and indicators included)."""
    return [c.name for c in prepare.columns_ for _ in range(c.width)]


def _reason(
    column: str,
    value: Any,
    kind: str,
    own: Mapping[str, float],
    other: Mapping[str, float],
    other_name: str,
) -> str:
    """``recency 36 (this segment averages 40; 'Lost' 290)``, in the data's own words."""
    shown = f"{column} {_text(value)}"
    if kind in ("category", "binary"):
        key = f"{column}={value}" if f"{column}={value}" in own else column
        share, alt = own.get(key), other.get(key)
        if share is None or alt is None:
            return shown
        label = key.replace("=", " ")  # the share is of this answer, or of "yes"
        return f"{shown} ({label}: {share:.0%} of this segment, {alt:.0%} of '{other_name}')"
    mean, alt = own.get(column), other.get(column)
    if mean is None or alt is None:
        return shown
    return f"{shown} (this segment averages {_text(mean)}; '{other_name}' {_text(alt)})"


def _text(value: Any) -> str:
    """A number as people write it (no float noise); anything else as it is."""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return "blank" if math.isnan(float(value)) else format_number(float(value))
    return str(value)


def segment_means(profiles: Sequence[Any]) -> dict[int, dict[str, float]]:
    """Each segment's averages in original units, from its profile (for the manifest)."""
    return {
        int(p.segment): {
            str(k): round(float(v), 6) for k, v in p.mean.items() if v is not None and v == v
        }
        for p in profiles
    }
