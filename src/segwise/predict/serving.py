"""Scoring a saved random forest fast and exactly: one customer in this thread, no joblib.

Used for target models and for segment classifiers saved by earlier versions; the result is
the same, bit for bit, as scikit-learn's own ``predict_proba`` (tests/test_predictor.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

#: Rows from which a forest saved with n_jobs > 1 is worth its thread pool: starting one
#: costs ~15 ms on 2 cores, more than scoring 10k rows, and pays off from about 50k rows.
_THREADED_ROWS = 50_000


def serving_pipeline(pipeline: Any) -> Any:
    """A ``[Preprocessor, RandomForestClassifier]`` pipeline as a ``_ForestPipeline`` sharing
    its fitted steps; any other pipeline as it is."""
    from sklearn.ensemble import RandomForestClassifier

    from segwise.features.prepare import Preprocessor

    if (
        type(pipeline) is Pipeline
        and len(pipeline.steps) == 2
        and isinstance(pipeline.steps[0][1], Preprocessor)
        and type(pipeline.steps[1][1]) is RandomForestClassifier
        and getattr(pipeline.steps[1][1], "n_outputs_", None) == 1
    ):
        return _ForestPipeline(list(pipeline.steps))
    return pipeline


class _ForestPipeline(Pipeline):  # type: ignore[misc]
    """Preprocessor + random forest whose ``predict_proba`` skips joblib for small inputs.

    scikit-learn scores a forest through joblib even with n_jobs=1, at ~30 us of task
    bookkeeping per tree: 3.5 ms for one customer through 100 trees that take 0.3 ms (and
    ~15 ms with n_jobs=2, which starts a thread pool). Here the trees are summed in order in
    this thread, as scikit-learn does with one job, so the probabilities are the same, bit
    for bit. Inputs it does not expect go to the forest's own ``predict_proba``.
    """

    def predict_proba(self, X: Any, **params: Any) -> Any:
        if params:
            return super().predict_proba(X, **params)
        prepare, forest = self.steps[0][1], self.steps[-1][1]
        coded = prepare.transform(X)
        if not _sequential(forest, coded):
            return forest.predict_proba(coded)
        matrix = np.asarray(coded, dtype=np.float32)  # what the forest's input check does
        proba = np.zeros((len(matrix), int(forest.n_classes_)), dtype=np.float64)
        for tree in forest.estimators_:  # DecisionTreeClassifier.predict_proba, unchecked
            proba += tree.tree_.predict(matrix)[:, : tree.n_classes_]
        proba /= len(forest.estimators_)
        return proba


def _sequential(forest: Any, coded: Any) -> bool:
    """Score in this thread: a dense finite matrix of the forest's width, with one job or
    too few rows for threads (anything else goes through scikit-learn's checks)."""
    if not isinstance(coded, np.ndarray) or coded.ndim != 2:
        return False
    if coded.shape[1] != forest.n_features_in_ or not np.isfinite(coded).all():
        return False
    return forest.n_jobs in (None, 1) or len(coded) < _THREADED_ROWS
