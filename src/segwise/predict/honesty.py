"""Warnings that a target predictor's score is too good to trust: proxies of the target.

A column that predicts the target on its own almost as well as the whole model, or whose
*missing* values say what the target is, is most likely recorded with or after the target
(``expenditure`` of a card only card holders have; ``time_to_work`` left blank for anyone
not working). The model is right on such data and useless for deciding anything before the
fact, so the user is told, with the numbers, and how to leave the column out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.metrics import f1_score
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier

from segwise.features.prepare import Preprocessor

__all__ = ["proxy_warnings"]

CLOSE = 0.95  # a single column scoring this share of the model's macro F1 nearly determines it
MIN_MODEL_F1 = 0.7  # below this the model itself is no oracle to be close to
MAX_CHECKED = 10  # columns tried alone: the most important ones
MISSING_PURITY = 0.95  # share of one class among rows missing a column
MISSING_LIFT = 0.3  # ... that much above its share among the other rows
MIN_MISSING = 5


def proxy_warnings(
    X_train: pd.DataFrame,
    y_train: npt.NDArray[Any],
    X_test: pd.DataFrame,
    y_test: npt.NDArray[Any],
    *,
    target: str,
    model_f1: float,
    ranked: Sequence[str],
    seed: int = 0,
) -> list[str]:
    """Plain-words warnings about columns that nearly determine ``target``.

    ``ranked``: the model's input columns, most important first (the first ``MAX_CHECKED``
    are each tried alone in a shallow tree, trained on the training rows, scored on the
    held-out ones). Missing values are checked for every input column.
    """
    found = [*_missing_encodes(X_train, y_train, ranked, target)]
    if model_f1 < MIN_MODEL_F1 or len(X_test) == 0:
        return found
    present = list(pd.unique(y_test))
    for column in ranked[:MAX_CHECKED]:
        alone = _alone(X_train, y_train, X_test, column, seed)
        if alone is None:
            continue
        score = float(f1_score(y_test, alone, labels=present, average="macro", zero_division=0))
        if score >= CLOSE * model_f1:
            found.append(
                f"{column} alone predicts {target} almost as well as the whole model (macro F1 "
                f"{score:.2f} vs {model_f1:.2f} on held-out rows): it may be recorded with or "
                f"after {target}; check it, or leave it out of the features"
            )
    return found


def _alone(
    X_train: pd.DataFrame,
    y_train: npt.NDArray[Any],
    X_test: pd.DataFrame,
    column: str,
    seed: int,
) -> npt.NDArray[Any] | None:
    """Held-out predictions of a depth-3 tree on one column (None if it cannot be coded)."""
    tree = DecisionTreeClassifier(max_depth=3, class_weight="balanced", random_state=seed)
    model = Pipeline([("prepare", Preprocessor(features=[column])), ("tree", tree)])
    try:
        model.fit(X_train[[column]], y_train)
    except ValueError:
        return None
    return np.asarray(model.predict(X_test[[column]]))


def _missing_encodes(
    X: pd.DataFrame, y: npt.NDArray[Any], columns: Sequence[str], target: str
) -> list[str]:
    """Columns whose missing rows are almost all one class that the other rows are not."""
    found = []
    labels = pd.Series(y, index=X.index)
    for column in columns:
        if column not in X.columns:
            continue
        absent = X[column].isna().to_numpy()
        if absent.sum() < MIN_MISSING or absent.all():
            continue
        shares = labels[absent].value_counts(normalize=True)
        top, purity = shares.index[0], float(shares.iloc[0])
        elsewhere = float((labels[~absent] == top).mean())
        if purity >= MISSING_PURITY and purity - elsewhere >= MISSING_LIFT:
            found.append(
                f"missing values of {column} encode {target}: {purity:.0%} of the "
                f"{int(absent.sum()):,} rows without it are {_said(top)!r} (vs {elsewhere:.0%} "
                f"of the others); the model may learn the blank, not the customer"
            )
    return found


def _said(label: Any) -> Any:
    return label.item() if isinstance(label, np.generic) else label
