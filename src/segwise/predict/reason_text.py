"""How an explanation reads: a value against the training customers, chances, class names.

Words about where a value sits come only from what the fitted Preprocessor learned about its
column: the training median (the typical value), minimum and maximum, or the typical answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from segwise.features.columns import ColumnCoder, FeatureSpec

__all__ = ["class_name", "is_missing", "same_value", "say_chances", "say_other", "say_value"]


def is_missing(value: Any) -> bool:
    """None, pd.NA or a float NaN."""
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def same_value(value: Any, other: Any, coder: ColumnCoder) -> bool:
    """Whether two values of a column mean the same (answers by their code; NaN = NaN)."""
    if is_missing(value) or is_missing(other):
        return is_missing(value) and is_missing(other)
    if coder.kind != "number" and coder.levels is not None:
        return coder.levels.code(str(value)) == coder.levels.code(str(other))
    return bool(value == other)


def class_name(
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


def say_value(name: str, value: Any, coder: ColumnCoder, typical: Any, spec: FeatureSpec) -> str:
    """The column, this row's value and where it sits among the training customers:
    "income 2.1 (below the typical 2.9)", "expenditure 0 (the lowest in training; typical
    101)", "owner: yes (typical: no)"; the words come from the training median, min and max."""
    if coder.kind == "number":
        shown_typical = format_number(float(typical))
        if is_missing(value):
            return f"{name} missing (typical {shown_typical})"
        try:
            number = float(value)
        except (TypeError, ValueError):
            return f"{name} {value} (typical {shown_typical})"
        shown, shown_typical = _format_pair(number, float(typical))
        return f"{name} {shown} ({_position(number, float(typical), shown_typical, spec)})"
    answer = _answer(value, coder)
    if same_value(answer, typical, coder):
        return f"{name}: {answer} (the typical answer)"
    return f"{name}: {answer} (typical: {_answer(typical, coder)})"


def say_other(value: Any, coder: ColumnCoder, spec: FeatureSpec) -> str:
    """A contrast value in words: "0 (the lowest in training)", "east", "missing"."""
    if coder.kind != "number":
        return _answer(value, coder)
    number = float(value)
    extreme = "lowest" if number == spec.minimum else "highest"
    return f"{format_number(number)} (the {extreme} in training)"


def _answer(value: Any, coder: ColumnCoder) -> str:
    """An answer as shown: "missing", a yes/no sent as 0/1 as its label, 3.0 as 3."""
    if is_missing(value):
        return "missing"
    if isinstance(value, float | np.floating | int | np.integer) and float(value).is_integer():
        value = int(value)
        if coder.kind == "binary" and coder.levels is not None and value in (0, 1):
            value = coder.levels.levels[value]
    return str(value).strip()


def _position(number: float, typical: float, shown_typical: str, spec: FeatureSpec) -> str:
    """Where a number sits among the training customers' values: against the median (the
    typical value), and whether it is the minimum or maximum or beyond them."""
    if number == typical:
        return "the typical value"
    if spec.minimum is not None and number <= spec.minimum:
        where = "the lowest in training" if number == spec.minimum else "below the training range"
        return f"{where}; typical {shown_typical}"
    if spec.maximum is not None and number >= spec.maximum:
        where = "the highest in training" if number == spec.maximum else "above the training range"
        return f"{where}; typical {shown_typical}"
    return f"{'below' if number < typical else 'above'} the typical {shown_typical}"


def say_chances(first: float, second: float) -> tuple[str, str]:
    """Two chances as "0.41", "0.63", with more decimals when two would read the same."""
    pair = f"{first:.2f}", f"{second:.2f}"
    for digits in (3, 4, 6):
        if pair[0] != pair[1] or first == second:
            break
        pair = f"{first:.{digits}f}", f"{second:.{digits}f}"
    return pair


def _format_pair(number: float, typical: float) -> tuple[str, str]:
    """Both numbers in short form, with more digits when they would read the same."""
    shown = format_number(number), format_number(typical)
    for digits in (4, 6, 9, 12):
        if shown[0] != shown[1] or number == typical:
            break
        shown = f"{number:.{digits}g}", f"{typical:.{digits}g}"
    return shown


def format_number(number: float) -> str:
    """Short human form: 3, 2.1, 0.0345, 12,345."""
    if number.is_integer() or abs(number) >= 1000:
        return f"{number:,.0f}"
    return f"{number:.3g}"
