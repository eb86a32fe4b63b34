"""Segment classifier: raw customer rows -> segment, through the run's own fitted preprocessing.

A run's k-means labels only exist for the customers it saw; a classifier trained on them
assigns new customers (and scores forms) without refitting anything. It is trained on the
same fitted ``Preprocessor`` the clustering used, so the returned ``Pipeline`` maps raw rows
to segments exactly as the run did (DESIGN.md: one pipeline for training and serving).

Evaluation is honest: a stratified hold-out, and stratified k-fold CV on the training part
to choose how to treat small segments, class weights or SMOTE. SMOTE runs inside the CV
pipeline only (imbalanced-learn resamples training folds, never scored rows). The helpers
below are shared with ``predict.target``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import Pipeline as ResamplingPipeline
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from segwise.errors import InputError
from segwise.features.prepare import Preprocessor

__all__ = [
    "STRATEGIES",
    "ClassMetrics",
    "ClassifierReport",
    "FoldPlan",
    "HoldoutScores",
    "Strategy",
    "train_segment_classifier",
]

Strategy = Literal["class_weight", "smote"]
STRATEGIES: tuple[Strategy, ...] = ("class_weight", "smote")
Matrix = npt.NDArray[np.float64]
Indices = npt.NDArray[np.intp]
ModelFactory = Callable[[bool], Any]  # balanced? -> an unfitted classifier

MAX_SMOTE_NEIGHBORS = 5


@dataclass(frozen=True)
class ClassMetrics:
    """Hold-out precision, recall and F1 of one class, and how many rows it had."""

    label: Any
    precision: float
    recall: float
    f1: float
    support: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "class": plain(self.label),
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "support": self.support,
        }


@dataclass(frozen=True)
class HoldoutScores:
    """Macro metrics on held-out rows; the confusion matrix rows are true classes."""

    accuracy: float
    macro_f1: float
    per_class: tuple[ClassMetrics, ...]
    confusion_matrix: list[list[int]]


@dataclass(frozen=True)
class FoldPlan:
    """How to cross-validate given the smallest class: folds and SMOTE neighbours (0 = none)."""

    n_splits: int
    smote_neighbors: int
    notes: tuple[str, ...] = ()

    @property
    def strategies(self) -> tuple[Strategy, ...]:
        """The imbalance strategies this data allows."""
        return STRATEGIES if self.smote_neighbors else ("class_weight",)


@dataclass(frozen=True)
class ClassifierReport:
    """How well the segment classifier re-assigns customers, and how it was chosen."""

    strategy: Strategy
    accuracy: float
    macro_f1: float
    cv_macro_f1: dict[str, float]
    per_class: tuple[ClassMetrics, ...]
    confusion_matrix: list[list[int]]
    n_train: int
    n_test: int
    classes: tuple[Any, ...] = ()
    cv_folds: int = 0
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """The DESIGN.md ``classifier`` keys (accuracy, macro_f1, confusion_matrix) and more."""
        return {
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "confusion_matrix": self.confusion_matrix,
            "classes": [plain(c) for c in self.classes],
            "strategy": self.strategy,
            "cv_macro_f1": {k: round(v, 4) for k, v in self.cv_macro_f1.items()},
            "cv_folds": self.cv_folds,
            "per_class": [m.to_dict() for m in self.per_class],
            "n_train": self.n_train,
            "n_test": self.n_test,
            "notes": list(self.notes),
        }


def train_segment_classifier(
    features: pd.DataFrame,
    labels: npt.ArrayLike,
    prepare: Preprocessor,
    *,
    seed: int = 0,
    test_size: float = 0.2,
    cv: int = 5,
    n_estimators: int = 100,
    max_rows: int = 200_000,
    max_cv_rows: int = 20_000,
    max_model_mb: float = 20.0,
    n_jobs: int = 2,
) -> tuple[Pipeline, ClassifierReport]:
    """Train a random forest that maps raw customer rows to the run's segments.

    ``prepare`` is the run's fitted Preprocessor; it is reused as is, never refitted, and
    becomes step ``prepare`` of the returned ``Pipeline([prepare, classify])``. Runs larger
    than ``max_rows`` train on a stratified sample; the strategy comparison uses at most
    ``max_cv_rows`` training rows; trees are capped to keep the model under ``max_model_mb``.
    The final forest, refitted on all (sampled) rows, predicts with one thread.
    """
    check_is_fitted(prepare)
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) != len(features):
        raise ValueError(f"labels must be one per row of features: {len(features)}, got {y.shape}")
    if len(np.unique(y)) < 2:
        raise InputError("a segment classifier needs at least 2 segments", hint="use k >= 2")
    notes: list[str] = []
    matrix = prepare.transform(features)
    rng = np.random.default_rng(seed)
    if len(y) > max_rows:
        keep = stratified_subset(y, max_rows, rng)
        matrix, y = matrix[keep], y[keep]
        notes.append(f"trained on a stratified sample of {max_rows} of {len(features)} rows")
    train, test = holdout_split(y, test_size, seed)
    classes = tuple(np.unique(y))

    leaves = leaf_budget(len(classes), n_estimators, max_model_mb)

    def forest(balanced: bool) -> RandomForestClassifier:
        return make_forest(
            balanced, seed=seed, n_estimators=n_estimators, n_jobs=n_jobs, max_leaf_nodes=leaves
        )

    cv_rows = train
    if len(train) > max_cv_rows:
        cv_rows = train[stratified_subset(y[train], max_cv_rows, rng)]
        notes.append(f"strategies compared on a stratified sample of {max_cv_rows} rows")
    plan = plan_folds(y[cv_rows], cv)
    scores = compare_strategies(forest, matrix[cv_rows], y[cv_rows], plan, seed=seed)
    chosen = choose(scores)
    held = fit_with_strategy(forest, chosen, matrix[train], y[train], seed=seed)
    holdout = score_holdout(y[test], held.predict(matrix[test]), classes)
    final = fit_with_strategy(forest, chosen, matrix, y, seed=seed)
    final.set_params(n_jobs=1)  # serving scores a few rows at a time: threads only cost
    report = ClassifierReport(
        strategy=chosen,
        accuracy=holdout.accuracy,
        macro_f1=holdout.macro_f1,
        cv_macro_f1=scores,
        per_class=holdout.per_class,
        confusion_matrix=holdout.confusion_matrix,
        n_train=len(train),
        n_test=len(test),
        classes=classes,
        cv_folds=plan.n_splits,
        notes=(*notes, *plan.notes),
    )
    return Pipeline([("prepare", prepare), ("classify", final)]), report


def make_forest(
    balanced: bool, *, seed: int, n_estimators: int, n_jobs: int, max_leaf_nodes: int
) -> Any:
    """A seeded random forest whose trees stop at ``max_leaf_nodes`` leaves (best first)."""
    return RandomForestClassifier(
        n_estimators=n_estimators,
        min_samples_leaf=2,
        max_leaf_nodes=max_leaf_nodes,
        class_weight="balanced" if balanced else None,
        random_state=seed,
        n_jobs=n_jobs,
    )


def leaf_budget(n_classes: int, n_estimators: int, max_model_mb: float) -> int:
    """Leaves per tree that keep a forest under ``max_model_mb`` (at least 64).

    A fitted tree node takes 64 bytes plus 8 per class, and a tree of L leaves has 2L - 1
    nodes. Unbounded trees on 100k loosely separated customers reach 100+ MB; on data this
    small or well separated the cap does not bind.
    """
    node_bytes = 64 + 8 * n_classes
    usable = 0.9 * max_model_mb * 1e6  # the rest: the Preprocessor and per-tree overhead
    return max(64, int(usable / (n_estimators * 2 * node_bytes)))


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value JSON understands; anything else unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def stratified_subset(y: npt.NDArray[Any], size: int, rng: np.random.Generator) -> Indices:
    """Positions of about ``size`` rows keeping each class's share (every class kept)."""
    inverse, counts, rank = _shuffled_ranks(y, rng)
    quota = np.maximum(np.minimum(counts, 2), np.floor(counts * size / len(y)))
    return np.flatnonzero(rank < quota[inverse])


def holdout_split(y: npt.NDArray[Any], test_size: float, seed: int) -> tuple[Indices, Indices]:
    """Stratified train/test positions; a class of one row stays in training only."""
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be between 0 and 1, got {test_size}")
    inverse, counts, rank = _shuffled_ranks(y, np.random.default_rng(seed))
    n_test = np.where(counts >= 2, np.clip(np.round(counts * test_size), 1, counts - 1), 0)
    is_test = rank < n_test[inverse]
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def _shuffled_ranks(
    y: npt.NDArray[Any], rng: np.random.Generator
) -> tuple[Indices, Indices, Indices]:
    """Class of each row, class sizes, and each row's place in a random order of its class."""
    _, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    order = rng.permutation(len(y))
    by_class = order[np.argsort(inverse[order], kind="stable")]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(len(y), dtype=np.intp)
    rank[by_class] = np.arange(len(y)) - np.repeat(starts, counts)
    return inverse, counts, rank


def plan_folds(y: npt.NDArray[Any], cv: int) -> FoldPlan:
    """Folds no larger than the smallest class allows; SMOTE neighbours its fold share allows.

    A class with fewer rows than ``cv`` reduces the folds; below 2 rows there is no CV
    (class weights are used). SMOTE needs ``k_neighbors`` < the class's rows in every
    training fold; when a class has fewer than 2 there, only class weights are compared.
    """
    labels, counts = np.unique(y, return_counts=True)
    smallest, name = int(counts.min()), plain(labels[int(np.argmin(counts))])
    n_splits = min(cv, smallest)
    notes: list[str] = []
    if n_splits < 2:
        notes.append(
            f"class {name!r} has only {smallest} training row(s): no cross-validation, "
            "class weights used"
        )
        return FoldPlan(0, 0, tuple(notes))
    if n_splits < cv:
        notes.append(f"class {name!r} has {smallest} training rows: {n_splits}-fold CV")
    neighbors = min(MAX_SMOTE_NEIGHBORS, smallest - math.ceil(smallest / n_splits) - 1)
    if neighbors < 1:
        notes.append(f"class {name!r} is too small for SMOTE: only class weights compared")
        neighbors = 0
    return FoldPlan(n_splits, neighbors, tuple(notes))


def strategy_pipeline(
    factory: ModelFactory,
    strategy: Strategy,
    plan: FoldPlan,
    *,
    seed: int,
    before: Sequence[tuple[str, Any]] = (),
) -> Any:
    """The CV estimator of a strategy: class weights, or SMOTE on training folds only.

    ``before`` are steps fitted per fold ahead of resampling (e.g. a fresh Preprocessor).
    imbalanced-learn applies a sampler during ``fit`` only, so scored rows are never synthetic.
    """
    if strategy == "class_weight":
        steps = [*before, ("model", factory(True))]
        return Pipeline(steps) if before else factory(True)
    smote = SMOTE(k_neighbors=plan.smote_neighbors, random_state=seed)
    return ResamplingPipeline([*before, ("smote", smote), ("model", factory(False))])


def cross_validated_f1(
    estimator: Any, X: Any, y: npt.NDArray[Any], plan: FoldPlan, seed: int
) -> float:
    """Mean macro F1 over stratified folds (training folds fitted, test folds scored)."""
    folds = StratifiedKFold(plan.n_splits, shuffle=True, random_state=seed)
    scores = cross_val_score(estimator, X, y, cv=folds, scoring="f1_macro", n_jobs=1)
    return float(np.mean(scores))


def compare_strategies(
    factory: ModelFactory, X: Any, y: npt.NDArray[Any], plan: FoldPlan, *, seed: int
) -> dict[str, float]:
    """CV macro F1 of each strategy the data allows (none without folds: class weights)."""
    if plan.n_splits == 0:
        return {}
    return {
        strategy: cross_validated_f1(
            strategy_pipeline(factory, strategy, plan, seed=seed), X, y, plan, seed
        )
        for strategy in plan.strategies
    }


def choose(scores: dict[str, float]) -> Strategy:
    """The strategy with the best CV macro F1; class weights on ties or without CV."""
    if scores.get("smote", -1.0) > scores.get("class_weight", -1.0):
        return "smote"
    return "class_weight"


def fit_with_strategy(
    factory: ModelFactory, strategy: Strategy, X: Matrix, y: npt.NDArray[Any], *, seed: int
) -> Any:
    """Fit a model on a coded matrix; with SMOTE, on the matrix plus synthetic rows."""
    if strategy == "smote":
        smallest = int(np.unique(y, return_counts=True)[1].min())
        neighbors = min(MAX_SMOTE_NEIGHBORS, smallest - 1)
        if neighbors >= 1:
            smote = SMOTE(k_neighbors=neighbors, random_state=seed)
            X, y = smote.fit_resample(X, y)
            return factory(False).fit(X, y)
    return factory(True).fit(X, y)


def score_holdout(
    y_true: npt.NDArray[Any], y_pred: npt.NDArray[Any], classes: Sequence[Any]
) -> HoldoutScores:
    """Accuracy, macro F1, per-class metrics and confusion matrix in ``classes`` order."""
    labels = list(classes)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    per_class = tuple(
        ClassMetrics(label, float(p), float(r), float(f), int(s))
        for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
    )
    present = [c for c, s in zip(labels, support, strict=True) if s > 0]
    return HoldoutScores(
        accuracy=float(accuracy_score(y_true, y_pred)),
        macro_f1=float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        per_class=per_class,
        confusion_matrix=confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    )
