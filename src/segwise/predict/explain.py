"""Why one prediction: the few input columns that move it most, in plain words and numbers.

A reason compares this customer with the typical training customer one column at a time:
the column is set to its typical value (the training median, or the typical answer), all
else kept, and the chance of the explained class is scored again. The difference is the
effect of the customer's value; its sign alone says "raises" or "lowers", and the text gives
both chances ("expenditure 0 (the lowest in training; typical 101): lowers the chance of
'yes' from 0.62 to 0.01"), so every claim can be checked against the model, including where
the model is not monotone. "Below"/"above" the typical value, "the lowest in training" come
from the column's own training median, minimum and maximum, which the Preprocessor keeps.

A value like the typical one changes nothing by being typical (a card holder's "yes" stays
"yes" at the typical expenditure), so for a column whose effect against the typical value is
under one percentage point the reason is a contrast instead, with the training minimum or
maximum or another answer, whichever moves the chance most, and it says what would happen,
never "raises": "expenditure 125 (above the typical 101): the chance of 'yes' is 1.00; with
expenditure 0 (the lowest in training) it would be 0.50". Reasons are ranked by how much the
chance moves; changes under one percentage point are not reasons. All variant rows go through
the pipeline in one ``predict_proba`` call, so this works for any model behind a
``Preprocessor``, and a saved pipeline carries everything needed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from segwise.errors import InputError
from segwise.features.columns import ColumnCoder
from segwise.features.prepare import Preprocessor
from segwise.predict.reason_text import class_name, same_value, say_chances, say_other, say_value

__all__ = ["MIN_EFFECT", "Reason", "contrast_values", "explain", "typical_values"]

FloatArray = npt.NDArray[np.float64]

MIN_EFFECT = 0.01  # changes under one percentage point are noise, not reasons
MAX_VARIANT_ROWS = 200_000  # rows scored per predict_proba call (rows x variants)


@dataclass(frozen=True)
class Reason:
    """One input column's push on a prediction.

    ``effect``: the chance of the explained class with this value minus the chance with the
    value the text compares it with (the typical one, or a named extreme or answer).
    """

    feature: str
    value: Any
    effect: float
    text: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        value = self.value.item() if isinstance(self.value, np.generic) else self.value
        if isinstance(value, float) and np.isnan(value):
            value = None
        return {
            "feature": self.feature,
            "value": value,
            "effect": round(self.effect, 4),
            "text": self.text,
        }


def explain(
    pipeline: Pipeline,
    rows: pd.DataFrame,
    *,
    top: int = 3,
    classes: Any = None,
    class_names: Mapping[Any, str] | Sequence[str] | None = None,
) -> list[list[Reason]]:
    """The ``top`` reasons of each row's prediction, the largest change of chance first:
    per column, its effect against the typical value, or a contrast where that is nil.

    ``pipeline`` starts with a fitted ``Preprocessor`` and ends with a classifier that has
    ``predict_proba``. ``classes``: the class to explain (None: each row's predicted class;
    one label: for every row; a sequence: one per row). ``class_names``: display names, by
    label (mapping) or by position in ``pipeline.classes_`` (sequence, e.g. segment names).
    Effects under one percentage point are left out, so a row may get fewer reasons.
    """
    prepare = _preprocessor(pipeline)
    used = [column.name for column in prepare.columns_]
    absent = [name for name in used if name not in rows.columns]
    if absent:
        raise InputError(
            "missing column", column=absent[0], hint=f"explain needs the columns {', '.join(used)}"
        )
    typical = typical_values(prepare)
    contrasts = contrast_values(prepare, typical)
    coders = {column.name: column for column in prepare.columns_}
    settings = [(j, typical[name]) for j, name in enumerate(used)]
    settings += [(j, value) for j, name in enumerate(used) for value in contrasts[name]]
    owners = np.asarray([j for j, _ in settings[len(used) :]], dtype=np.intp)
    known = list(pipeline.classes_)
    chunk = max(1, MAX_VARIANT_ROWS // (1 + len(settings)))
    out: list[list[Reason]] = []
    for first in range(0, len(rows), chunk):
        part = rows.iloc[first : first + chunk]
        wanted_part = classes
        if classes is not None and not _is_one_label(classes):
            wanted_part = list(classes)[first : first + chunk]
        own, varied, wanted = _score(pipeline, part, used, settings, coders, wanted_part)
        at_typical, at_contrast = varied[: len(used)], varied[len(used) :]
        block, at_extreme = _strongest_contrasts(own, at_contrast, owners, len(used))
        against_typical = np.abs(own[None, :] - at_typical) >= MIN_EFFECT
        compared = np.where(against_typical, at_typical, at_extreme)
        effects = own[None, :] - compared
        for i in range(len(part)):
            label = class_name(known, int(wanted[i]), class_names)
            reasons: list[Reason] = []
            for j in np.argsort(-np.abs(effects[:, i]), kind="stable")[:top]:
                if abs(effects[j, i]) < MIN_EFFECT:
                    break
                name, value = used[j], part[used[j]].iloc[i]
                spec = prepare.feature_schema_[name]
                said = say_value(name, value, coders[name], typical[name], spec)
                there, here = say_chances(float(compared[j, i]), float(own[i]))
                if against_typical[j, i]:
                    verb = "raises" if effects[j, i] > 0 else "lowers"
                    text = f"{said}: {verb} the chance of {label} from {there} to {here}"
                else:
                    other = say_other(settings[len(used) + block[j, i]][1], coders[name], spec)
                    text = (
                        f"{said}: the chance of {label} is {here}; "
                        f"with {name} {other} it would be {there}"
                    )
                reasons.append(Reason(name, value, float(effects[j, i]), text))
            out.append(reasons)
    return out


def _score(
    pipeline: Pipeline,
    rows: pd.DataFrame,
    used: list[str],
    settings: list[tuple[int, Any]],
    coders: dict[str, ColumnCoder],
    classes: Any,
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.intp]]:
    """Chance of the explained class per row as given, per (setting, row) with one column set
    to one value and all else kept, and the class explained per row, in one predict_proba."""
    n = len(rows)
    frame = {}
    for j, name in enumerate(used):
        values = _column_values(rows[name])
        variants = np.tile(values, len(settings) + 1)
        for b, (owner, value) in enumerate(settings):
            if owner == j:
                variants[(b + 1) * n : (b + 2) * n] = _fill_value(value, values, coders[name])
        frame[name] = variants
    proba = np.asarray(pipeline.predict_proba(pd.DataFrame(frame, copy=False)))
    wanted = _class_positions(classes, proba[:n], list(pipeline.classes_))
    own = np.asarray(proba[np.arange(n), wanted], dtype=np.float64)
    varied = proba[n:].reshape(len(settings), n, -1)[:, np.arange(n), wanted]
    return own, np.asarray(varied, dtype=np.float64), wanted


def _strongest_contrasts(
    own: FloatArray, at_contrast: FloatArray, owners: npt.NDArray[np.intp], n_columns: int
) -> tuple[npt.NDArray[np.intp], FloatArray]:
    """Per column and row: which contrast setting moves the chance most, and the chance there
    (the row's own chance, i.e. no contrast, for a column without contrast values)."""
    n = len(own)
    block = np.zeros((n_columns, n), dtype=np.intp)
    chance = np.tile(own, (n_columns, 1))
    for j in range(n_columns):
        mine = np.flatnonzero(owners == j)
        if mine.size:
            strongest = np.argmax(np.abs(own[None, :] - at_contrast[mine]), axis=0)
            block[j] = mine[strongest]
            chance[j] = at_contrast[block[j], np.arange(n)]
    return block, chance


def typical_values(prepare: Preprocessor) -> dict[str, Any]:
    """A typical training customer per used column: median number, median or commonest answer.

    Read from the fitted Preprocessor: numbers from the imputation median (undoing its log),
    yes/no and ordered answers from their median code, categories from the level whose
    one-hot column had the highest training mean (NaN when the commonest was "missing").
    """
    check_is_fitted(prepare)
    typical: dict[str, Any] = {}
    start = 0
    for column in prepare.columns_:
        if column.kind == "number":
            fill = column.fill
            raw = float(np.sign(fill) * np.expm1(abs(fill))) if column.log else fill
            typical[column.name] = float(f"{raw:.12g}")  # drop float noise: 2.9, not 2.8999..
        elif column.levels is not None:
            if column.kind == "category":
                shares = _one_hot_means(prepare, start, column.width)
                code = int(np.argmax(shares))
                typical[column.name] = (
                    np.nan if code == column.missing_code else column.levels.levels[code]
                )
            else:
                typical[column.name] = column.levels.levels[int(column.fill)]
        start += column.width
    return typical


def contrast_values(
    prepare: Preprocessor, typical: Mapping[str, Any] | None = None
) -> dict[str, list[Any]]:
    """Values other than the typical one that a column is set to for a contrast.

    Numbers: the training minimum and maximum. Answers: every other level (categories: NaN
    for their "missing" level).
    """
    typical = typical_values(prepare) if typical is None else typical
    contrasts: dict[str, list[Any]] = {}
    for column in prepare.columns_:
        spec = prepare.feature_schema_[column.name]
        if column.kind == "number":
            values: list[Any] = [
                v for v in dict.fromkeys((spec.minimum, spec.maximum)) if v is not None
            ]
        elif column.kind == "category" and column.levels is not None:
            values = [
                np.nan if code == column.missing_code else level
                for code, level in enumerate(column.levels.levels)
            ]
        else:
            values = list(spec.levels)
        contrasts[column.name] = [
            v for v in values if not same_value(v, typical[column.name], column)
        ]
    return contrasts


def _one_hot_means(prepare: Preprocessor, start: int, width: int) -> npt.NDArray[np.float64]:
    """Training shares of a category's levels (the scaler's means); equal when unscaled."""
    if prepare.scaler_ is None:
        return np.ones(width)
    return np.asarray(prepare.scaler_.mean_[start : start + width], dtype=np.float64)


def _preprocessor(pipeline: Pipeline) -> Preprocessor:
    """The fitted Preprocessor a pipeline starts with; TypeError for anything else."""
    first = pipeline.steps[0][1] if isinstance(pipeline, Pipeline) else None
    if not isinstance(first, Preprocessor):
        raise TypeError(
            "explain needs a Pipeline whose first step is a segwise Preprocessor, "
            f"got {type(pipeline).__name__}"
        )
    check_is_fitted(first)
    return first


def _column_values(column: pd.Series) -> npt.NDArray[Any]:
    """Numbers (and booleans) as float64, anything else as objects with NaN for missing."""
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_complex_dtype(
        column.dtype
    ):
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(column.astype(object).where(column.notna(), np.nan), dtype=object)


def _fill_value(value: Any, values: npt.NDArray[Any], coder: ColumnCoder) -> Any:
    """A setting in the column's own form: a yes/no sent as 0/1 gets its code."""
    if values.dtype != np.float64 or not isinstance(value, str):
        return value
    code = coder.levels.code(value) if coder.levels is not None else None
    if code is not None and coder.kind == "binary":
        return float(code)
    try:
        return float(value)
    except ValueError:
        return np.nan


def _class_positions(
    classes: Any, proba: npt.NDArray[Any], known: list[Any]
) -> npt.NDArray[np.intp]:
    """Column of ``proba`` to explain per row: predicted, one given class, or one per row."""
    if classes is None:
        return np.asarray(np.argmax(proba, axis=1), dtype=np.intp)
    wanted = [classes] * len(proba) if _is_one_label(classes) else list(classes)
    if len(wanted) != len(proba):
        raise ValueError(
            f"classes must be one label or one per row ({len(proba)}), got {len(wanted)}"
        )
    positions = []
    for label in wanted:
        matches = [p for p, k in enumerate(known) if k == label]
        if not matches:
            raise ValueError(f"unknown class {label!r}; the model predicts {known}")
        positions.append(matches[0])
    return np.asarray(positions, dtype=np.intp)


def _is_one_label(classes: Any) -> bool:
    """A single class label rather than one label per row."""
    return isinstance(classes, str | bytes) or np.ndim(classes) == 0
