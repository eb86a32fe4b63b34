"""Why one prediction: the few input columns that pushed it most, in plain words.

For each row and each used input column, the column's value is replaced by reference
values of the training customers (for numbers the median, minimum and maximum; for answers
each level, categories weighted by how common they were), and the drop in the probability
of the explained class, averaged over the references, is that value's effect. A single
typical value alone would explain nothing when the typical customer gets the same class
(a confident "yes" stays "yes"); the low and high references still show what moves it.
Every row x reference variant goes through the pipeline in one ``predict_proba`` call, so
it works for any model behind a ``Preprocessor`` and one customer takes a few milliseconds.
The references come from the fitted Preprocessor itself (imputation medians, ranges and its
scaler's one-hot means), so a saved pipeline carries everything needed.
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
from segwise.features.columns import ColumnCoder, FeatureSpec
from segwise.features.prepare import Preprocessor

__all__ = ["MIN_EFFECT", "Reason", "explain", "reference_values", "typical_values"]

FloatArray = npt.NDArray[np.float64]

MIN_EFFECT = 0.01  # changes under one percentage point are noise, not reasons
MAX_VARIANT_ROWS = 200_000  # rows scored per predict_proba call (rows x reference values)


@dataclass(frozen=True)
class Reason:
    """One input column's push on a prediction: ``effect`` is the probability it adds."""

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
    """The ``top`` reasons of each row's prediction, strongest first.

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
    references = reference_values(prepare, typical)
    coders = {column.name: column for column in prepare.columns_}
    known = list(pipeline.classes_)
    chunk = max(1, MAX_VARIANT_ROWS // (1 + sum(len(v) for v, _ in references.values())))
    out: list[list[Reason]] = []
    for first in range(0, len(rows), chunk):
        part = rows.iloc[first : first + chunk]
        wanted_part = classes
        if classes is not None and not _is_one_label(classes):
            wanted_part = list(classes)[first : first + chunk]
        effects, wanted = _effects(pipeline, part, used, references, coders, wanted_part)
        for i in range(len(part)):
            label = _class_name(known, int(wanted[i]), class_names)
            reasons = []
            for j in np.argsort(-np.abs(effects[:, i]), kind="stable")[:top]:
                effect = float(effects[j, i])
                if abs(effect) < MIN_EFFECT:
                    break
                name, value = used[j], part[used[j]].iloc[i]
                spec = prepare.feature_schema_[name]
                said = _say_value(name, value, coders[name], typical[name], spec)
                verb = "raises" if effect > 0 else "lowers"
                text = f"{said}: {verb} the chance of {label}"
                reasons.append(Reason(name, value, effect, text))
            out.append(reasons)
    return out


def _effects(
    pipeline: Pipeline,
    rows: pd.DataFrame,
    used: list[str],
    references: dict[str, tuple[list[Any], FloatArray]],
    coders: dict[str, ColumnCoder],
    classes: Any,
) -> tuple[FloatArray, npt.NDArray[np.intp]]:
    """Effect of each column on each row (columns x rows), and the class explained per row.

    One block of rows per (column, reference value), all scored in one predict_proba call;
    a column's effect is the row's probability minus the weighted mean over its blocks.
    """
    n = len(rows)
    blocks = [(j, value) for j, name in enumerate(used) for value in references[name][0]]
    frame = {}
    for j, name in enumerate(used):
        values = _column_values(rows[name])
        variants = np.tile(values, len(blocks) + 1)
        for b, (owner, value) in enumerate(blocks):
            if owner == j:
                variants[(b + 1) * n : (b + 2) * n] = _fill_value(value, values, coders[name])
        frame[name] = variants
    proba = np.asarray(pipeline.predict_proba(pd.DataFrame(frame, copy=False)))
    wanted = _class_positions(classes, proba[:n], list(pipeline.classes_))
    base = proba[np.arange(n), wanted]
    replaced = proba[n:].reshape(len(blocks), n, -1)[:, np.arange(n), wanted]
    weights = np.zeros((len(used), len(blocks)))
    owners = np.asarray([owner for owner, _ in blocks], dtype=np.intp)
    weights[owners, np.arange(len(blocks))] = np.concatenate([references[c][1] for c in used])
    effects: FloatArray = base[None, :] - weights @ replaced
    return effects, wanted


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


def reference_values(
    prepare: Preprocessor, typical: Mapping[str, Any] | None = None
) -> dict[str, tuple[list[Any], FloatArray]]:
    """Values each used column is set to when measuring an effect, and their weights.

    Numbers: the training median, minimum and maximum, equally weighted. Categories: every
    level, weighted by its training share. Yes/no and ordered answers: every level, equally.
    """
    typical = typical_values(prepare) if typical is None else typical
    references: dict[str, tuple[list[Any], FloatArray]] = {}
    start = 0
    for column in prepare.columns_:
        spec = prepare.feature_schema_[column.name]
        if column.kind == "number":
            values = [typical[column.name], spec.minimum, spec.maximum]
            weights = np.full(3, 1 / 3)
        elif column.kind == "category" and column.levels is not None:
            shares = _one_hot_means(prepare, start, column.width)
            values = [
                np.nan if code == column.missing_code else level
                for code, level in enumerate(column.levels.levels)
            ]
            weights = shares / shares.sum() if shares.sum() > 0 else np.full(len(values), 1.0)
        else:
            values = list(spec.levels)
            weights = np.full(len(values), 1 / len(values))
        references[column.name] = (values, np.asarray(weights, dtype=np.float64))
        start += column.width
    return references


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
    """A reference value in the column's own form: a yes/no sent as 0/1 gets its code."""
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


def _class_name(
    known: list[Any], position: int, names: Mapping[Any, str] | Sequence[str] | None
) -> str:
    """Quoted display name of a class."""
    label = known[position]
    if isinstance(names, Mapping):
        shown = names.get(label, str(label))
    elif names is not None:
        shown = names[position]
    else:
        shown = label.item() if isinstance(label, np.generic) else label
    return f"'{shown}'"


def _say_value(name: str, value: Any, coder: ColumnCoder, typical: Any, spec: FeatureSpec) -> str:
    """The column and this row's value, in words: "income 2.1 (low)", "owner: yes"."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return f"{name} missing"
    if coder.kind == "number":
        try:
            number = float(value)
        except (TypeError, ValueError):
            return f"{name} {value}"
        return f"{name} {_format_number(number)} ({_position(number, typical, spec)})"
    if isinstance(value, float | np.floating | int | np.integer) and float(value).is_integer():
        value = int(value)
        if coder.kind == "binary" and coder.levels is not None and value in (0, 1):
            value = coder.levels.levels[value]  # a yes/no sent as 0/1 reads as its answer
    return f"{name}: {str(value).strip()}"


def _position(number: float, typical: float, spec: FeatureSpec) -> str:
    """Where a number sits among the training customers' values."""
    if spec.minimum is not None and number <= spec.minimum:
        return "lowest"
    if spec.maximum is not None and number >= spec.maximum:
        return "highest"
    if number == typical:
        return "typical"
    return "low" if number < typical else "high"


def _format_number(number: float) -> str:
    """Short human form: 3, 2.1, 0.0345, 12,345."""
    if number.is_integer() or abs(number) >= 1000:
        return f"{number:,.0f}"
    return f"{number:.3g}"
