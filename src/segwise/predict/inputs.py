"""Check rows sent for prediction against what the model was trained on, naming the culprit.

The fitted Preprocessor tolerates nearly anything (unknown answers and unparsable numbers
become missing values and are imputed), which is right inside a pipeline and wrong at the
boundary: "42 years" in an age column or a negative recency would be scored silently.
``check_rows`` is that boundary: it refuses what cannot be meant (a missing column, text in
a number column, a negative value where training never saw one, a yes/no column holding
another word) with one ``InputError`` naming file, row and column, and notes what is merely
unusual (unseen answers, values outside the training range, blanks, extra columns).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from segwise.errors import InputError
from segwise.features.ordinal import LevelMap, match_binary, match_ordinal, normalize_label

__all__ = ["CheckedRows", "check_rows"]

FloatArray = npt.NDArray[np.float64]

_BLANK = frozenset({"", "na", "n/a", "nan", "null", "none"})
FAR = 100
"""A number more than this many training ranges beyond the range is refused, not placed: the
model learned nothing there (slightly outside is placed, with a note)."""
_YES_NO = match_binary(["no", "yes"])
_BINARY_CODES: Mapping[str, int] = _YES_NO.keys if _YES_NO is not None else {}
_EXAMPLES = 3


@dataclass(frozen=True)
class CheckedRows:
    """Rows ready for the model, and what was unusual about them.

    ``frame`` holds the model's columns only, in its order, with the input's index:
    numbers and yes/no answers as float64 (yes = 1), other answers as text; NaN is missing.
    ``unseen`` counts, per column, rows whose answer the model never saw.
    """

    frame: pd.DataFrame
    notes: tuple[str, ...] = ()
    unseen: Mapping[str, int] = field(default_factory=dict)


def check_rows(
    frame: pd.DataFrame,
    features: Mapping[str, Mapping[str, Any]],
    *,
    file: str | None = None,
) -> CheckedRows:
    """Restrict ``frame`` to the model's columns, coerced to their trained types.

    ``features`` is a model manifest's column -> spec (``FeatureSpec.to_dict()``: kind,
    levels, minimum, maximum). Rows are numbered from 1 in errors, as in the input file.
    """
    # labels looked up in a plain list and set: a one-row frame's text Index builds its hash
    # engine on first use, which was most of the time of placing one customer
    labels = frame.columns.tolist()
    present = set(labels)
    absent = [name for name in features if name not in present]
    if absent:
        raise InputError(
            f"missing {_plural(len(absent), 'column')} the model needs: {', '.join(absent)}",
            file=file,
            column=absent[0] if len(absent) == 1 else None,
            hint=f"send the columns {_listed(list(features), 12)} (values may be blank)",
        )
    duplicated = []
    if len(present) < len(labels):  # counted only then: once per feature is slow on wide tables
        duplicated = [name for name in features if labels.count(name) > 1]
    if duplicated:
        raise InputError("column appears more than once", file=file, column=duplicated[0])
    if frame.empty:
        raise InputError("no rows to predict", file=file, hint="send at least one row")
    notes: list[str] = []
    extra = [str(name) for name in labels if name not in features]
    if extra:
        notes.append(
            f"ignored {_plural(len(extra), 'column')} the model does not use: " + _listed(extra, 8)
        )
    out: dict[str, FloatArray | pd.Series] = {}  # float64 arrays; answers as object Series
    unseen: dict[str, int] = {}
    blanks: dict[str, int] = {}
    given = {name: column for name, column in frame.items() if name in features}
    for name, spec in features.items():
        column = given[name]
        kind = spec.get("kind")
        if kind == "number":
            out[name] = _numbers(column, name, spec, file, notes)
        elif kind == "binary":
            out[name] = _yes_no(column, name, file)
        elif kind in ("ordinal", "category"):
            out[name], count, example = _answers(column, kind, spec.get("levels") or ())
            if count:
                unseen[name] = count
                fate = "filled as in training" if kind == "ordinal" else "counted in no category"
                notes.append(
                    f"'{name}': {_plural(count, 'row')} with answers the model never saw "
                    f"(e.g. {example!r}); they are {fate}"
                )
        else:
            raise ValueError(f"feature '{name}' has unknown kind {kind!r}")
        n_blank = int(pd.isna(np.asarray(out[name])).sum())
        if n_blank:
            blanks[name] = n_blank
    if blanks:
        notes.append(
            "blank values, filled as in training: "
            + ", ".join(f"'{name}' {n}" for name, n in blanks.items())
        )
    names = pd.Index(list(out), dtype=object)  # a plain Index: the model reads it by label
    if all(isinstance(values, np.ndarray) for values in out.values()):  # numbers: one block
        matrix = np.column_stack(list(out.values())) if out else np.empty((len(frame), 0))
        checked = pd.DataFrame(matrix, index=frame.index, columns=names, copy=False)
    else:
        checked = pd.DataFrame(out, index=frame.index, columns=names)
    return CheckedRows(checked, tuple(notes), unseen)


def _numbers(
    column: pd.Series,
    name: str,
    spec: Mapping[str, Any],
    file: str | None,
    notes: list[str],
) -> FloatArray:
    """Values as float64; refuses text and negatives the training data never had."""
    if pd.api.types.is_bool_dtype(column.dtype) or (
        pd.api.types.is_numeric_dtype(column.dtype)
        and not pd.api.types.is_complex_dtype(column.dtype)
    ):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        codes, distinct = _distinct(column)
        given = [str(value).strip() for value in distinct]
        blank = np.array([text.lower() in _BLANK for text in given], dtype=bool)
        parsed = pd.to_numeric(pd.Series(given, dtype=object), errors="coerce")
        table = np.append(parsed.to_numpy(dtype=np.float64, na_value=np.nan), np.nan)
        table[:-1][blank] = np.nan
        wrong = np.flatnonzero(~blank & np.isnan(table[:-1]))
        if wrong.size:
            row = int(np.flatnonzero(np.isin(codes, wrong))[0])
            raise InputError(
                f"expected a number, got {given[codes[row]]!r}",
                file=file,
                row=row + 1,
                column=name,
                hint="write plain numbers such as 1234.5 (no units or thousands separators),"
                " or leave the cell blank",
            )
        values = table[codes]
    low, high = spec.get("minimum"), spec.get("maximum")
    refusals = [
        (np.isinf(values), "expected a number, got {}", "write a finite number, or leave it blank")
    ]
    if low is not None and float(low) >= 0:
        refusals.append(
            (
                values < 0,
                "negative value {} where training never had one below 0",
                f"'{name}' was at least {_number(low)} in training; "
                "fix the value or leave it blank",
            )
        )
    if low is not None and high is not None:
        span = max(float(high) - float(low), abs(float(high)), 1.0) * FAR
        refusals.append(
            (
                (values < float(low) - span) | (values > float(high) + span),
                f"{{}} is far outside what the model learned from ({_number(low)} to "
                f"{_number(high)})",
                "check the value and its unit; the model cannot say anything about it",
            )
        )
    for wrong, message, hint in refusals:
        if wrong.any():
            row = int(np.flatnonzero(wrong)[0])
            raise InputError(
                message.format(_number(values[row])), file=file, row=row + 1, column=name, hint=hint
            )
    if low is not None and high is not None:
        outside = np.flatnonzero((values < float(low)) | (values > float(high)))
        if outside.size:
            row = int(outside[0])
            notes.append(
                f"'{name}': {_plural(outside.size, 'value')} outside the training range "
                f"{_number(low)} to {_number(high)} (first: row {row + 1}, "
                f"{_number(values[row])})"
            )
    return values


def _yes_no(column: pd.Series, name: str, file: str | None) -> FloatArray:
    """Yes/no answers as 1/0: yes/no, y/n, true/false, t/f, 1/0, on/off in any case."""
    codes, distinct = _distinct(column)
    table = np.full(len(distinct) + 1, np.nan)  # the last entry serves blanks (code -1)
    for index, value in enumerate(distinct):
        key = normalize_label(str(value))
        if isinstance(value, bool | np.bool_):
            table[index] = float(value)
        elif key in _BINARY_CODES:
            table[index] = _BINARY_CODES[key]
        elif key not in _BLANK:
            row = int(np.flatnonzero(codes == index)[0])
            raise InputError(
                f"expected a yes/no answer, got {value!r}",
                file=file,
                row=row + 1,
                column=name,
                hint="use yes/no, true/false or 1/0 (any case), or leave the cell blank",
            )
    result: FloatArray = table[codes]
    return result


def _answers(column: pd.Series, kind: str, levels: Any) -> tuple[pd.Series, int, str]:
    """Answers as text (blank -> NaN), with the count and an example of unseen ones."""
    scale, known = _known_answers(kind, tuple(str(level) for level in levels))
    codes, distinct = _distinct(column)
    labels = [_text(value) for value in distinct]
    sizes = np.bincount(codes[codes >= 0], minlength=len(labels))
    count, example = 0, ""
    for label, size in zip(labels, sizes, strict=True):
        if isinstance(label, str) and not (
            normalize_label(label) in known or (scale is not None and scale.code(label) is not None)
        ):
            count += int(size)
            example = example or label
    table = np.array([*labels, np.nan], dtype=object)
    return pd.Series(table[codes], index=column.index, dtype=object), count, example


@lru_cache(maxsize=256)
def _known_answers(kind: str, levels: tuple[str, ...]) -> tuple[LevelMap | None, frozenset[str]]:
    """The scale of an ordered column's trained levels and their normalised spellings.

    Worked out once per model column rather than per call: one customer at a time would
    otherwise match the scale again each time.
    """
    scale = match_ordinal(list(levels)) if kind == "ordinal" else None
    return scale, frozenset(normalize_label(level) for level in levels)


def _distinct(column: pd.Series) -> tuple[npt.NDArray[np.intp], list[Any]]:
    """Code of each cell (-1 when missing) and the distinct values: work once per value."""
    try:
        codes, uniques = pd.factorize(column)
    except TypeError:  # unhashable cells such as lists: compare their text
        codes, uniques = pd.factorize(column.astype(str).where(column.notna()))
    return np.asarray(codes, dtype=np.intp), list(uniques)


def _text(value: Any) -> Any:
    """A cell as stripped text, whole floats without ``.0``; blanks as NaN."""
    if _missing(value):
        return np.nan
    if isinstance(value, float | np.floating) and float(value).is_integer():
        value = int(value)
    text = str(value).strip()
    return np.nan if text.lower() in _BLANK else text


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # arrays and other containers are values, not blanks
        return False


def _number(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:g}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _listed(names: list[str], limit: int) -> str:
    more = len(names) - limit
    return ", ".join(names[:limit]) + (f" and {more} more" if more > 0 else "")
