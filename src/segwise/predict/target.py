"""Predict a business column (yes/no, a category, a grade A-D) from the other columns.

``train_target`` compares a multinomial logistic regression and a random forest, each with
class weights and with SMOTE, by stratified cross-validated macro F1 on the training split,
then reports the chosen one on a held-out split. Every fold, the hold-out model and the final
model fit their own ``Preprocessor`` on their training rows only, so nothing about scored
rows leaks into the coding; SMOTE only ever adds rows to training folds. Importances are
given per input column, as users know them, not per coded output column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from segwise.errors import InputError
from segwise.features.ordinal import match_binary, match_ordinal
from segwise.features.prepare import Preprocessor
from segwise.predict.classifier import (
    ClassMetrics,
    FoldPlan,
    ModelFactory,
    Strategy,
    choose,
    cross_validated_f1,
    fit_with_strategy,
    holdout_split,
    leaf_budget,
    make_forest,
    plain,
    plan_folds,
    score_holdout,
    strategy_pipeline,
    stratified_subset,
)
from segwise.predict.honesty import proxy_warnings

__all__ = ["MODELS", "CVScore", "ModelName", "TargetReport", "train_target"]

ModelName = Literal["logistic_regression", "random_forest"]
MODELS: tuple[ModelName, ...] = ("logistic_regression", "random_forest")
MAX_CLASSES = 20
MIN_CLASS_ROWS = 5  # fewer rows cannot be both learned and evaluated


@dataclass(frozen=True)
class CVScore:
    """Cross-validated macro F1 of one model with one imbalance strategy."""

    model: ModelName
    strategy: Strategy
    macro_f1: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"model": self.model, "strategy": self.strategy, "macro_f1": round(self.macro_f1, 4)}


@dataclass(frozen=True)
class TargetReport:
    """How well the chosen model predicts ``target`` on held-out rows, and what drives it.

    ``importance``: drop in hold-out macro F1 when an input column is shuffled (permutation,
    through the whole pipeline). ``impurity_importance``: the forest's impurity decrease,
    summed over the coded columns of each input column (from ``impurity_source``).
    """

    target: str
    classes: tuple[Any, ...]
    ordered: bool
    model: ModelName
    strategy: Strategy
    accuracy: float
    macro_f1: float
    confusion_matrix: list[list[int]]
    per_class: tuple[ClassMetrics, ...]
    cv: tuple[CVScore, ...]
    cv_folds: int
    importance: dict[str, float]
    impurity_importance: dict[str, float]
    impurity_source: str
    features: tuple[str, ...]
    n_rows: int
    n_train: int
    n_test: int
    dropped: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # inputs that nearly determine the target (proxies)

    def to_dict(self) -> dict[str, Any]:
        """The ``segwise target --json`` contract keys (DESIGN.md) and the details."""
        return {
            "target": self.target,
            "classes": [plain(c) for c in self.classes],
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "confusion_matrix": self.confusion_matrix,
            "importance": {k: round(v, 4) for k, v in self.importance.items()},
            "model": self.model,
            "strategy": self.strategy,
            "ordered": self.ordered,
            "impurity_importance": {k: round(v, 4) for k, v in self.impurity_importance.items()},
            "impurity_source": self.impurity_source,
            "cv": [score.to_dict() for score in self.cv],
            "cv_folds": self.cv_folds,
            "per_class": [m.to_dict() for m in self.per_class],
            "features": list(self.features),
            "rows": {"used": self.n_rows, "train": self.n_train, "test": self.n_test},
            "dropped": dict(self.dropped),
            "notes": list(self.notes),
            "warnings": list(self.warnings),
        }


def train_target(
    table: pd.DataFrame,
    target: str,
    *,
    features: Sequence[str] | None = None,
    seed: int = 0,
    test_size: float = 0.2,
    cv: int = 5,
    n_estimators: int = 100,
    n_repeats: int = 5,
    max_rows: int = 200_000,
    max_cv_rows: int = 20_000,
    max_model_mb: float = 20.0,
    n_jobs: int = 2,
) -> tuple[Pipeline, TargetReport]:
    """Train the best predictor of ``target`` and return ``Pipeline([prepare, model])``.

    ``features`` are the input columns (None: all but ``target``; id-like, constant and
    free-text columns are then left out). Rows without a target are dropped, and so are
    classes with fewer than 5 rows; both are counted in ``report.dropped``. The returned
    pipeline is refitted on all remaining rows and maps raw rows to the target's classes.
    """
    X, y, dropped, notes = _rows_with_target(table, target, features)
    classes, ordered = _class_order(y)
    rng = np.random.default_rng(seed)
    if len(y) > max_rows:
        keep = stratified_subset(y, max_rows, rng)
        X, y = X.iloc[keep], y[keep]
        notes.append(f"trained on a stratified sample of {max_rows} rows")
    train, test = holdout_split(y, test_size, seed)
    leaves = leaf_budget(len(classes), n_estimators, max_model_mb)
    factories: dict[ModelName, ModelFactory] = {
        "logistic_regression": _logistic,
        "random_forest": lambda balanced: make_forest(
            balanced, seed=seed, n_estimators=n_estimators, n_jobs=n_jobs, max_leaf_nodes=leaves
        ),
    }
    cv_rows = train
    if len(train) > max_cv_rows:
        cv_rows = train[stratified_subset(y[train], max_cv_rows, rng)]
        notes.append(f"models compared on a stratified sample of {max_cv_rows} rows")
    plan = plan_folds(y[cv_rows], cv)
    notes.extend(plan.notes)
    scores = _compare(factories, features, X.iloc[cv_rows], y[cv_rows], plan, seed)
    model, strategy = _best(scores)
    factory = factories[model]
    held = _fit(factory, strategy, features, X.iloc[train], y[train], seed)
    X_test, y_test = X.iloc[test], y[test]
    holdout = score_holdout(y_test, held.predict(X_test), classes)
    importance = _permutation_importance(held, X_test, y_test, n_repeats, seed)
    warned = proxy_warnings(
        X.iloc[train],
        y[train],
        X_test,
        y_test,
        target=target,
        model_f1=holdout.macro_f1,
        ranked=list(importance),
        seed=seed,
    )
    final = _fit(factory, strategy, features, X, y, seed)
    prepare: Preprocessor = final.named_steps["prepare"]
    forest, source = final.named_steps["model"], f"{model} ({strategy})"
    if model != "random_forest":
        matrix = prepare.transform(X)
        forest = fit_with_strategy(factories["random_forest"], "class_weight", matrix, y, seed=seed)
        source = "random_forest (class_weight), fitted for importance only"
    report = TargetReport(
        target=target,
        classes=classes,
        ordered=ordered,
        model=model,
        strategy=strategy,
        accuracy=holdout.accuracy,
        macro_f1=holdout.macro_f1,
        confusion_matrix=holdout.confusion_matrix,
        per_class=holdout.per_class,
        cv=tuple(scores),
        cv_folds=plan.n_splits,
        importance=importance,
        impurity_importance=_by_input_column(prepare, forest.feature_importances_),
        impurity_source=source,
        features=prepare.report_.used,
        n_rows=len(y),
        n_train=len(train),
        n_test=len(test),
        dropped=dropped,
        notes=tuple(notes),
        warnings=tuple(warned),
    )
    return final, report


def _logistic(balanced: bool) -> LogisticRegression:
    """Multinomial logistic regression (lbfgs) on the standardised coded columns."""
    return LogisticRegression(max_iter=2000, class_weight="balanced" if balanced else None)


def _rows_with_target(
    table: pd.DataFrame, target: str, features: Sequence[str] | None
) -> tuple[pd.DataFrame, npt.NDArray[Any], dict[str, int], list[str]]:
    """Input columns and target of the usable rows; what was dropped and why."""
    if target not in table.columns:
        listed = ", ".join(str(c) for c in list(table.columns)[:12])
        raise InputError("target column not found", column=target, hint=f"columns: {listed}")
    if features is not None and target in features:
        raise InputError(
            "the target cannot also be a feature",
            column=target,
            hint="leave it out of --features",
        )
    values = table[target]
    if values.dtype == object or isinstance(values.dtype, pd.StringDtype | pd.CategoricalDtype):
        values = values.astype(object).where(values.notna())
        values = values.map(lambda v: v.strip() if isinstance(v, str) else v)
        values = values.where(values != "")  # a blank answer is a missing target
    present = values.notna().to_numpy()
    counts = values[present].value_counts()
    if len(counts) > MAX_CLASSES:
        kind = "numbers" if pd.api.types.is_numeric_dtype(values.dtype) else "answers"
        raise InputError(
            f"target has {len(counts)} distinct {kind}; at most {MAX_CLASSES} classes",
            column=target,
            hint="predict a yes/no, category or grade column, or band the numbers first",
        )
    rare = counts.index[counts < MIN_CLASS_ROWS]
    keep = present & ~values.isin(rare).to_numpy()
    dropped = {"missing target": int((~present).sum()), "rare class": int((present & ~keep).sum())}
    notes = [f"class {plain(c)!r} has fewer than {MIN_CLASS_ROWS} rows: dropped" for c in rare]
    if values[keep].nunique() < 2:
        raise InputError(
            "target needs at least 2 classes with 5 or more rows each",
            column=target,
            hint=f"found {', '.join(f'{plain(c)!r}: {n}' for c, n in counts.items())}",
        )
    X = table.loc[keep].drop(columns=[target])
    y = values[keep].to_numpy()
    if y.dtype == object and all(isinstance(v, bool | np.bool_) for v in y[:1000]):
        y = y.astype(bool)
    return X, y, {k: v for k, v in dropped.items() if v}, notes


def _class_order(y: npt.NDArray[Any]) -> tuple[tuple[Any, ...], bool]:
    """Classes in their natural order (no before yes, a scale's order, else sorted); ordered
    for a scale's answers and for small whole-number targets such as counts."""
    labels = list(pd.unique(y))
    spelled = [str(label) for label in labels]
    for found, ordered in ((match_binary(spelled), False), (match_ordinal(spelled), True)):
        if found is not None:
            codes = [found.code(text) for text in spelled]
            if None not in codes:
                rank = {label: code or 0 for label, code in zip(labels, codes, strict=True)}
                return tuple(sorted(labels, key=rank.__getitem__)), ordered
    try:
        in_order = sorted(labels)
    except TypeError:  # mixed types
        return tuple(sorted(labels, key=str)), False
    return tuple(in_order), _small_counts(in_order)


def _small_counts(labels: list[Any]) -> bool:
    """Three or more whole numbers close together (0-6 visits, a 1-10 score): a count or a
    scale, so its classes are ordered."""
    numbers = [
        v
        for v in labels
        if isinstance(v, int | float | np.number) and not isinstance(v, bool | np.bool_)
    ]
    if len(numbers) != len(labels) or len(labels) < 3:
        return False
    if not all(float(v).is_integer() for v in numbers):
        return False
    return float(max(numbers)) - float(min(numbers)) + 1 <= 2 * len(numbers)


def _compare(
    factories: dict[ModelName, ModelFactory],
    features: Sequence[str] | None,
    X: pd.DataFrame,
    y: npt.NDArray[Any],
    plan: FoldPlan,
    seed: int,
) -> list[CVScore]:
    """CV macro F1 of every model x strategy, a fresh Preprocessor fitted in each fold."""
    if plan.n_splits == 0:
        return []
    scores = []
    for model in MODELS:
        for strategy in plan.strategies:
            before = [("prepare", Preprocessor(features=features))]
            estimator = strategy_pipeline(
                factories[model], strategy, plan, seed=seed, before=before
            )
            score = cross_validated_f1(estimator, X, y, plan, seed)
            scores.append(CVScore(model, strategy, score))
    return scores


def _best(scores: list[CVScore]) -> tuple[ModelName, Strategy]:
    """Highest CV macro F1 (earlier, simpler combos win ties); a forest without CV."""
    if not scores:
        return "random_forest", "class_weight"
    best = max(scores, key=lambda score: score.macro_f1)
    by_strategy: dict[str, float] = {
        s.strategy: s.macro_f1 for s in scores if s.model == best.model
    }
    return best.model, choose(by_strategy)


def _fit(
    factory: ModelFactory,
    strategy: Strategy,
    features: Sequence[str] | None,
    X: pd.DataFrame,
    y: npt.NDArray[Any],
    seed: int,
) -> Pipeline:
    """Preprocessor fitted on these rows, then the model (SMOTE on the coded rows if chosen)."""
    prepare = Preprocessor(features=features)
    matrix = prepare.fit_transform(X)
    model = fit_with_strategy(factory, strategy, matrix, y, seed=seed)
    if hasattr(model, "n_jobs"):
        model.set_params(n_jobs=1)  # serving scores a few rows at a time: threads only cost
    return Pipeline([("prepare", prepare), ("model", model)])


def _permutation_importance(
    pipeline: Pipeline, X: pd.DataFrame, y: npt.NDArray[Any], n_repeats: int, seed: int
) -> dict[str, float]:
    """Mean drop in hold-out macro F1 when one raw input column is shuffled, largest first."""
    used = list(pipeline.named_steps["prepare"].report_.used)
    result = permutation_importance(
        pipeline, X[used], y, scoring="f1_macro", n_repeats=n_repeats, random_state=seed
    )
    means = [float(v) for v in result.importances_mean]
    return dict(sorted(zip(used, means, strict=True), key=lambda pair: -pair[1]))


def _by_input_column(prepare: Preprocessor, values: npt.NDArray[np.float64]) -> dict[str, float]:
    """Sum coded-column values (one-hots, missing flags) back to their input column."""
    totals: dict[str, float] = {}
    start = 0
    for column in prepare.columns_:
        totals[column.name] = float(np.sum(values[start : start + column.width]))
        start += column.width
    return dict(sorted(totals.items(), key=lambda pair: -pair[1]))
