"""What a loaded model must be before it runs: a fitted segwise pipeline whose decision trees
and segment centres are sound, and whose names and advice are plain text (model_files.py
reads the file and refuses what these checks find)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.tree._tree import Tree

from segwise.features.prepare import Preprocessor
from segwise.segment.cluster import SegmentClusterer

MAX_NAME_CHARS = 200  # a label or segment name
MAX_ADVICE_CHARS = 2_000  # a recommendation
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def centres_problem(estimator: Any, prep: Preprocessor, labels: int) -> str | None:
    """What is wrong with a run artifact's centres, or None: one finite centre per segment
    the manifest names, as wide as the prepared rows."""
    cluster = estimator.steps[-1][1]
    if not isinstance(cluster, SegmentClusterer):
        return None
    centres = np.asarray(getattr(cluster, "cluster_centers_", None), dtype=object)
    width = sum(int(c.width) for c in prep.columns_)
    if centres.ndim != 2 or centres.shape != (labels, width):
        return "its segment centres do not match its segments and columns"
    spread = getattr(cluster, "spread_", None)
    if not np.isfinite(centres.astype(float)).all() or not (
        isinstance(spread, float) and math.isfinite(spread) and spread > 0
    ):
        return "its segment centres are not finite numbers"
    return None


def trees_problem(estimator: Any) -> str | None:
    """What is wrong with a decision tree's nodes, or None: bad indices would crash predict.

    Checks what scikit-learn indexes unchecked: the node count within the allocated
    capacity, children after their parent and inside the tree (so no cycles), split
    features inside the estimator's inputs.
    """
    for owner, tree in _trees(estimator):
        count, capacity = int(tree.node_count), int(tree.capacity)
        if not 0 < count <= capacity:  # scikit-learn clamps this today; the arrays rely on it
            return f"a decision tree has {count} nodes in room for {capacity}"
        left = np.asarray(tree.children_left)
        right = np.asarray(tree.children_right)
        feature = np.asarray(tree.feature)
        node = np.arange(count)
        leaf = left == -1
        inner = ~leaf
        if np.any(leaf != (right == -1)):
            return "a decision tree has a node with one child"
        for child in (left[inner], right[inner]):
            if np.any(child <= node[inner]) or np.any(child >= count):
                return "a decision tree has a child index out of order or out of range"
        n_features = int(getattr(owner, "n_features_in_", tree.n_features))
        if tree.n_features != n_features or np.any(
            (feature[inner] < 0) | (feature[inner] >= n_features)
        ):
            return "a decision tree splits on a feature the model does not have"
    return None


def _trees(root: Any) -> Iterator[tuple[Any, Tree]]:
    """Every ``Tree`` inside a loaded object, with the object holding it (each visited once)."""
    stack: list[tuple[Any, Any]] = [(root, None)]
    seen: set[int] = set()
    while stack:
        value, owner = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, Tree):
            yield owner, value
        elif isinstance(value, dict):
            stack.extend((item, owner) for item in value.values())
        elif isinstance(value, list | tuple):
            stack.extend((item, owner) for item in value)
        elif isinstance(value, np.ndarray) and value.dtype == object:
            stack.extend((item, owner) for item in value.ravel())
        elif hasattr(value, "__dict__") and not isinstance(value, type):
            stack.extend((item, value) for item in vars(value).values())


def fitted_preprocessor(estimator: Any) -> Preprocessor | None:
    """The fitted Preprocessor that starts a segwise pipeline, or None."""
    if not isinstance(estimator, Pipeline) or not estimator.steps:
        return None
    first = estimator.steps[0][1]
    if not isinstance(first, Preprocessor) or not hasattr(first, "feature_schema_"):
        return None
    return first


def check_text(labels: list[Any], names: list[Any], recommendations: list[Any]) -> None:
    """``ValueError`` unless labels, names and advice are plain one-line text of sane length,
    one name (and one piece of advice, when there is any) per distinct label."""
    for what, values, limit in [
        ("label", labels, MAX_NAME_CHARS),
        ("name", names, MAX_NAME_CHARS),
        ("recommendation", recommendations, MAX_ADVICE_CHARS),
    ]:
        for i, value in enumerate(values, 1):
            if what == "label" and isinstance(value, bool | int | float):
                continue  # segment ids, numeric classes
            if not isinstance(value, str):
                raise ValueError(f"the manifest's {what} {i} is not text: {value!r:.80}")
            if len(value) > limit:
                raise ValueError(
                    f"the manifest's {what} {i} is {len(value):,} characters, more than {limit:,}"
                )
            if _CONTROL.search(value):
                raise ValueError(
                    f"the manifest's {what} {i} holds control characters: {value!r:.80}"
                )
        if what != "label" and values and len(values) != len(labels):
            raise ValueError(f"the manifest has {len(values)} {what}s for {len(labels)} labels")
    if len(set(map(repr, labels))) != len(labels):
        raise ValueError("the manifest's labels are not distinct")
