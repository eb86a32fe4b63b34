"""Outcome rates per segment: how a result set aside from clustering differs by segment.

A yes/no outcome is a rate ("churn 42% vs 26% overall"), a number a mean ("status 2.4 vs
1.9 overall"), a category the share of the segment's most common answer ("status 'late'
61% vs 48% overall"). Vectorised with one bincount per column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from segwise.features.ordinal import match_binary

__all__ = ["OutcomeRate", "describe_outcomes", "outcomes_by_profile"]

_PLAIN_YES = frozenset({"yes", "y", "true", "t", "1", "1.0"})


@dataclass(frozen=True)
class OutcomeRate:
    """One outcome in one segment against all customers.

    ``kind``: ``rate`` (share of ``level`` among the segment's answers), ``mean`` (a
    number) or ``share`` (of the segment's most common answer ``level``).
    """

    column: str
    kind: Literal["rate", "mean", "share"]
    level: str | None
    value: float
    overall: float
    text: str

    def cells(self) -> tuple[str, str, str]:
        """(outcome, this segment, everyone) for a table: rates in %, means as numbers."""
        if self.kind == "mean":
            return self.column, f"{self.value:.3g}", f"{self.overall:.3g}"
        plain = self.kind == "rate" and (self.level or "").lower() in _PLAIN_YES
        label = self.column if plain else f"{self.column}: {self.level}"
        return label, _pct(self.value), _pct(self.overall)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (NaN as None)."""
        plain = asdict(self)
        for key in ("value", "overall"):
            number = plain[key]
            plain[key] = round(number, 4) if math.isfinite(number) else None
        return plain


def describe_outcomes(outcomes: pd.DataFrame, labels: np.ndarray) -> dict[int, list[OutcomeRate]]:
    """Segment number -> its rate, mean or commonest-answer share of every outcome column."""
    codes = np.asarray(labels, dtype=np.int64)
    k = int(codes.max()) + 1 if len(codes) else 0
    found: dict[int, list[OutcomeRate]] = {g: [] for g in range(k)}
    for column in outcomes.columns:
        for g, rate in _describe(str(column), outcomes[column], codes, k).items():
            found[g].append(rate)
    return found


def _describe(name: str, values: pd.Series, codes: np.ndarray, k: int) -> dict[int, OutcomeRate]:
    """One outcome column, per segment."""
    present = values.notna().to_numpy()
    if pd.api.types.is_bool_dtype(values.dtype):
        flags = values.to_numpy(dtype=float, na_value=np.nan)  # true read as yes
        return _rates(name, "yes", flags, codes, k)
    if pd.api.types.is_numeric_dtype(values.dtype):
        x = values.to_numpy(dtype=float, na_value=np.nan)
        if bool(np.all((x == 0) | (x == 1) | np.isnan(x))):
            return _rates(name, "1", x, codes, k)
        return _means(name, x, codes, k)
    answers = values.astype(str).str.strip().where(present)
    labels = [str(label) for label in answers[present].unique()]
    found = match_binary(labels) if len(labels) == 2 else None
    if found is not None:
        yes = next(label for label in labels if found.code(label) == 1)
        flags = np.where(present, (answers == yes).to_numpy(dtype=float), np.nan)
        return _rates(name, yes, flags, codes, k)
    return _shares(name, answers, codes, k)


def _group_means(x: np.ndarray, codes: np.ndarray, k: int) -> tuple[np.ndarray, float]:
    """Mean of ``x`` per segment (NaN ignored) and over all rows."""
    valid = ~np.isnan(x)
    sums = np.bincount(codes, weights=np.where(valid, x, 0.0), minlength=k)
    nums = np.bincount(codes, weights=valid.astype(float), minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / nums
    overall = float(np.nanmean(x)) if valid.any() else math.nan
    return means, overall


def _rates(
    name: str, yes: str, flags: np.ndarray, codes: np.ndarray, k: int
) -> dict[int, OutcomeRate]:
    means, overall = _group_means(flags, codes, k)
    label = name if yes.lower() in _PLAIN_YES else f"{name} '{yes}'"
    return {
        g: OutcomeRate(
            name, "rate", yes, float(m), overall, f"{label} {_pct(m)} vs {_pct(overall)} overall"
        )
        for g, m in enumerate(means)
    }


def _means(name: str, x: np.ndarray, codes: np.ndarray, k: int) -> dict[int, OutcomeRate]:
    means, overall = _group_means(x, codes, k)
    return {
        g: OutcomeRate(
            name, "mean", None, float(m), overall, f"{name} {m:.3g} vs {overall:.3g} overall"
        )
        for g, m in enumerate(means)
    }


def _shares(name: str, answers: pd.Series, codes: np.ndarray, k: int) -> dict[int, OutcomeRate]:
    """The segment's most common answer: its share there and among everyone."""
    level_codes, levels = pd.factorize(answers, sort=True)
    known = level_codes >= 0
    m = max(len(levels), 1)
    table = np.bincount(codes[known] * m + level_codes[known], minlength=k * m).reshape(k, m)
    everyone = table.sum(axis=0)
    total = max(int(everyone.sum()), 1)
    out = {}
    for g in range(k):
        row = table[g]
        top = int(np.argmax(row)) if row.sum() else int(np.argmax(everyone))
        share = row[top] / row.sum() if row.sum() else math.nan
        overall = everyone[top] / total
        level = str(levels[top]) if len(levels) else ""
        text = f"{name} '{level}' {_pct(share)} vs {_pct(overall)} overall"
        out[g] = OutcomeRate(name, "share", level, float(share), float(overall), text)
    return out


def _pct(value: float) -> str:
    return f"{value:.0%}" if math.isfinite(value) else "n/a"


def outcomes_by_profile(
    table: pd.DataFrame, labels: np.ndarray, columns: Sequence[str], segments: Sequence[int]
) -> list[list[OutcomeRate]]:
    """The outcome rates of ``columns`` (those in ``table``) for each of ``segments``, in order."""
    present = [c for c in columns if c in table.columns]
    if not present:
        return [[] for _ in segments]
    found = describe_outcomes(table[present], labels)
    return [found.get(int(g), []) for g in segments]
