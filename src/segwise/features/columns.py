"""One column of a customer table: judged once from training data, then coded the same way.

``plan_column`` looks at a column's values and decides: leave it out (id-like, constant,
free text, unsupported) or code it as a number, a 0/1 answer, a ranked answer or a category.
The resulting ``ColumnCoder`` turns that column, in training or in new rows, into one float
array with NaN for missing or unknown values. Vectorised per column; labels are matched
once per distinct value, never per row.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal, NamedTuple, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from segwise.errors import InputError
from segwise.features.ordinal import (
    MAX_LEVELS,
    LevelMap,
    match_binary,
    match_ordinal,
    normalize_label,
)

ColumnKind = Literal["number", "binary", "ordinal", "category"]
Reason = Literal["use", "id", "constant", "text", "unsupported"]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

MISSING_LEVEL = "missing"
_MIN_ROWS_FOR_VALUE_ID = 20  # below this, one distinct value per row is no evidence of an id
_MIN_DISTINCT_TO_LOG = 10  # below this, a skewed column is a small count, not a long tail
_ID_NAME = re.compile(
    r"^(?:id|ids|idx|index|rownames|row_names|rowname|uuid|guid|customer|customers|client"
    r"|unnamed(?:_\d+)?|level_\d+)$|_id$"
    r"|^(?:customer|client|user|member|account|cust|person|respondent|record|household"
    r"|subscriber)_?(?:id|no|number|num|key|code)$"
)


@dataclass(frozen=True)
class FeatureSpec:
    """What one used input column accepts, for model manifests and prediction forms.

    ``levels``: the answers of a non-number (binary: the 0 answer then the 1 answer;
    ordinal: lowest first). ``minimum``/``maximum``: the range a number had in training.
    """

    kind: ColumnKind
    levels: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**asdict(self), "levels": list(self.levels)}


@dataclass(frozen=True)
class ColumnCoder:
    """Fitted recipe for one used column: its values -> float codes, NaN when missing."""

    name: str
    kind: ColumnKind
    levels: LevelMap | None = None  # binary, ordinal and category columns
    log: bool = False
    fill: float = 0.0  # replaces missing values: the median (code) in training
    indicator: bool = False  # emit a 0/1 "was missing" column next to the value
    missing_code: int = -1  # category: code of the "missing" level, -1 when none

    @property
    def width(self) -> int:
        """Output columns this input column becomes."""
        if self.kind == "category":
            return len(self.levels.levels) if self.levels else 0
        return 1 + self.indicator

    def output_names(self, base: str) -> list[str]:
        """Output column names, ``base`` standing for the input column's name."""
        if self.kind == "category" and self.levels is not None:
            return [f"{base}={level}" for level in self.levels.levels]
        return [base, f"{base}={MISSING_LEVEL}"] if self.indicator else [base]

    def encode(self, column: pd.Series) -> FloatArray:
        """Values (numbers), 0/1, ranks or category codes; NaN for missing or unknown."""
        if self.kind == "number":
            values = _to_float(column)
            return np.sign(values) * np.log1p(np.abs(values)) if self.log else values
        if self.levels is None:
            raise AssertionError(f"column {self.name} has no levels")
        if self.kind == "binary" and _is_number(column):
            values = _to_float(column)
            return np.where((values == 0) | (values == 1), values, np.nan)
        codes, labels = _factorize(column)
        missing = float(self.missing_code) if self.missing_code >= 0 else np.nan
        table: FloatArray = np.append(self.levels.codes(labels), missing)
        return table[codes]


class ColumnPlan(NamedTuple):
    """What ``plan_column`` decided: a reason, and for used columns a coder and a spec."""

    reason: Reason
    coder: ColumnCoder | None = None
    spec: FeatureSpec | None = None
    n_missing: int = 0


def plan_column(
    column: pd.Series,
    name: str,
    *,
    explicit: bool,
    force_log: bool,
    max_categories: int,
    skew_threshold: float,
    near_constant: float,
) -> ColumnPlan:
    """Decide whether and how to use one column, from its values in the training table."""
    if not explicit and _ID_NAME.search(re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")):
        return ColumnPlan("id")
    if _is_number(column):
        return _plan_numbers(
            _to_float(column),
            name,
            explicit=explicit,
            force_log=force_log,
            labels=("False", "True") if pd.api.types.is_bool_dtype(column.dtype) else ("0", "1"),
            skew_threshold=skew_threshold,
            near_constant=near_constant,
        )
    if (
        not isinstance(column.dtype, pd.CategoricalDtype | pd.StringDtype)
        and column.dtype != object
    ):
        return ColumnPlan("unsupported")
    codes, labels = _factorize(column)
    counts = np.bincount(codes[codes >= 0], minlength=len(labels))
    n_rows, distinct = len(column), int(np.count_nonzero(counts))
    n_missing = n_rows - int(counts.sum())
    if not explicit and n_missing == 0 and distinct == n_rows >= _MIN_ROWS_FOR_VALUE_ID:
        return ColumnPlan("id")
    if _is_constant(int(counts.max(initial=0)), n_missing, distinct, n_rows, near_constant):
        return ColumnPlan("constant")
    order = np.argsort(-counts, kind="stable")[:distinct]
    readable = distinct <= max(MAX_LEVELS, max_categories)  # else free text: skip the words
    observed = [str(label) for label in labels[order]] if readable else []
    ordered = isinstance(column.dtype, pd.CategoricalDtype) and column.dtype.ordered
    found = None if force_log or ordered else match_binary(observed)
    if found is not None:
        return _answers(name, "binary", found, n_missing)
    numeric = bool(pd.to_numeric(pd.Series(labels[order]), errors="coerce").notna().all())
    if force_log and not numeric:
        raise InputError(
            "cannot log-transform a text column",
            column=name,
            hint="log_columns takes numeric columns such as recency or monetary",
        )
    if numeric and not ordered:
        return _plan_numbers(
            _to_float(column),
            name,
            explicit=explicit,
            force_log=force_log,
            labels=("0", "1"),
            skew_threshold=skew_threshold,
            near_constant=near_constant,
        )
    if ordered:
        found = _level_map("categorical", [str(c) for c in column.cat.categories])
    else:
        found = match_ordinal(observed)
    if found is not None:
        return _answers(name, "ordinal", found, n_missing)
    if distinct > max_categories:
        return ColumnPlan("text")
    shown: dict[str, str] = {}
    for label in observed:
        shown.setdefault(normalize_label(label), label.strip())
    keys = sorted(shown)
    missing_code = -1
    if n_missing:
        missing_code = keys.index(MISSING_LEVEL) if MISSING_LEVEL in shown else len(keys)
    levels = _level_map("category", [shown[key] for key in keys], missing=n_missing > 0)
    spec = FeatureSpec("category", tuple(shown[key] for key in keys))
    return ColumnPlan(
        "use", ColumnCoder(name, "category", levels, missing_code=missing_code), spec, n_missing
    )


def _plan_numbers(
    values: FloatArray,
    name: str,
    *,
    explicit: bool,
    force_log: bool,
    labels: tuple[str, str],
    skew_threshold: float,
    near_constant: float,
) -> ColumnPlan:
    """Decide how to use a numeric column: id, constant, binary 0/1 or number (logged?).

    Avoids hashing a million distinct floats: the commonest value, when it fills more than
    half the rows, is the median, and only integer columns spanning 1..n can be row numbers.
    """
    absent = np.isnan(values)
    n_rows, n_missing = len(values), int(absent.sum())
    present = values[~absent] if n_missing else values
    if present.size == 0:
        return ColumnPlan("constant")
    low, high = float(present.min()), float(present.max())
    if (
        not explicit
        and n_missing == 0
        and n_rows >= _MIN_ROWS_FOR_VALUE_ID
        and high - low + 1 == n_rows
        and np.all(present == np.floor(present))
        and len(pd.unique(present)) == n_rows
    ):
        return ColumnPlan("id")  # 1..n or 0..n-1 in some order: a row number
    if near_constant >= 0.5:
        top = int(np.count_nonzero(present == np.median(present)))
    else:
        top = int(np.bincount(pd.factorize(present)[0]).max())
    if _is_constant(top, n_missing, 1 if low == high else 2, n_rows, near_constant):
        return ColumnPlan("constant")
    if not force_log and np.all((present == 0) | (present == 1)):
        found = match_binary(list(labels))
        if found is not None:
            return _answers(name, "binary", found, n_missing)
    skew = cast(float, pd.Series(present).skew()) if _has_distinct(present) else 0.0
    coder = ColumnCoder(name, "number", log=force_log or skew > skew_threshold)
    return ColumnPlan("use", coder, FeatureSpec("number", minimum=low, maximum=high), n_missing)


def _has_distinct(values: FloatArray, count: int = _MIN_DISTINCT_TO_LOG) -> bool:
    """At least ``count`` distinct values (looks at a head first: most columns have them)."""
    return len(pd.unique(values[:10_000])) >= count or len(pd.unique(values)) >= count


def learn_fill(column: ColumnCoder, raw: FloatArray, n_missing: int) -> ColumnCoder:
    """Add the training median (numbers) or median code (answers) that replaces NaN."""
    if column.kind == "category":
        return column
    if column.kind == "number":
        fill = float(np.nanmedian(raw))
    else:  # a code that exists, not a value between two codes
        fill = float(np.nanquantile(raw, 0.5, method="lower"))
    return replace(column, fill=fill, indicator=n_missing > 0)


def _is_constant(top: int, n_missing: int, distinct: int, n_rows: int, share: float) -> bool:
    """One value (missing counts as one) in all rows, or in more than ``share`` of them.

    ``top`` counts the commonest value; ``distinct`` values other than missing (at least).
    """
    return distinct + (n_missing > 0) <= 1 or max(top, n_missing) > share * n_rows


def _answers(name: str, kind: ColumnKind, levels: LevelMap, n_missing: int) -> ColumnPlan:
    """Plan for a binary or ordinal column: coded by ``levels``, which its spec lists."""
    return ColumnPlan(
        "use", ColumnCoder(name, kind, levels), FeatureSpec(kind, levels.levels), n_missing
    )


def _level_map(scale: str, levels: list[str], *, missing: bool = False) -> LevelMap:
    """Levels in the given order, matched by normalised spelling; ``missing`` adds a level."""
    keys = {normalize_label(level): code for code, level in enumerate(levels)}
    if missing and MISSING_LEVEL not in keys:
        keys[MISSING_LEVEL] = len(levels)
        levels = [*levels, MISSING_LEVEL]
    return LevelMap(scale, tuple(levels), keys)


def _is_number(column: pd.Series) -> bool:
    """Numeric or boolean dtype (not complex): read as numbers, not as labels."""
    dtype = column.dtype
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype)


def _to_float(column: pd.Series) -> FloatArray:
    """Numbers as float64 with NaN for missing, unparsable and infinite values."""
    if not _is_number(column):
        column = pd.to_numeric(column, errors="coerce")
    values: FloatArray = column.to_numpy(dtype=np.float64, na_value=np.nan)
    infinite = np.isinf(values)
    return np.where(infinite, np.nan, values) if infinite.any() else values


def _factorize(column: pd.Series) -> tuple[IntArray, pd.Index]:
    """Codes per row (-1: missing or blank) and the distinct labels as strings."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy(dtype=np.intp)
        labels = pd.Index(column.cat.categories.astype(str))
    else:
        try:
            codes, uniques = pd.factorize(column)
        except TypeError:  # unhashable values such as dicts
            codes, uniques = pd.factorize(column.astype(str).where(column.notna()))
        labels = pd.Index(uniques).astype(str)
    blank = np.asarray(labels.str.strip() == "")
    if blank.any():
        codes = np.append(np.where(blank, -1, np.arange(len(labels))), -1)[codes]
    return np.asarray(codes, dtype=np.intp), labels
