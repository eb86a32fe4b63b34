"""When a change between two runs deserves an alert, pure: feature drift (PSI), a shift in a
segment's size, and the share of customers who moved to a worse segment. The schedule use
case reads the runs and delivers the alerts; this only measures and compares."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from segwise.errors import InputError

#: Features whose higher value is a better customer (recency: lower is better).
BETTER_HIGH = ("monetary", "frequency")
BETTER_LOW = ("recency",)
ALERT_KINDS = ("psi", "size_shift", "worse_share", "failed")


@dataclass(frozen=True)
class Thresholds:
    """The lines an alert crosses: PSI of any feature, a segment's share moving by this many
    percentage points, this share of customers moving to a worse segment."""

    psi: float = 0.25
    size_shift: float = 10.0
    worse_share: float = 0.2

    def __post_init__(self) -> None:
        for name, value, top in (
            ("--psi", self.psi, 100.0),
            ("--size-shift", self.size_shift, 100.0),
            ("--worse-share", self.worse_share, 1.0),
        ):
            if not (isinstance(value, int | float) and 0 < value <= top):
                raise InputError(
                    f"{name} {value} is out of range", hint=f"use a number above 0, at most {top:g}"
                )

    def to_dict(self) -> dict[str, float]:
        return {"psi": self.psi, "size_shift": self.size_shift, "worse_share": self.worse_share}


@dataclass(frozen=True)
class Finding:
    """One threshold crossed: its kind, a sentence, the value measured and the line."""

    kind: str
    message: str
    value: float | None = None
    threshold: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "message": self.message,
            "value": self.value,
            "threshold": self.threshold,
        }


def segment_standing(profiles: Sequence[Mapping[str, Any]]) -> list[float] | None:
    """How good each segment's customers are: the mean of its z-scores on monetary and
    frequency and minus its z-score on recency (those present); None without any of them."""
    standing = []
    for profile in profiles:
        z = profile.get("z") or {}
        parts = [float(z[f]) for f in BETTER_HIGH if z.get(f) is not None]
        parts += [-float(z[f]) for f in BETTER_LOW if z.get(f) is not None]
        if not parts:
            return None
        standing.append(sum(parts) / len(parts))
    return standing


def worse_share(counts: np.ndarray, standing: Sequence[float]) -> float:
    """Share of the customers in both runs whose segment after stands lower than before
    (segment ids shared by both runs, as a run made ``--like`` the other has them)."""
    total = int(counts.sum())
    if total == 0:
        return 0.0
    worse = sum(
        int(counts[i, j])
        for i in range(counts.shape[0])
        for j in range(counts.shape[1])
        if i < len(standing) and j < len(standing) and standing[j] < standing[i]
    )
    return worse / total


def largest_size_shift(
    before: Mapping[str, float], after: Mapping[str, float]
) -> tuple[str, float] | None:
    """The segment (by name) whose share of customers moved most, and by how many percentage
    points (signed); a segment missing from one run counts as 0 there."""
    names = list(dict.fromkeys([*before, *after]))
    if not names:
        return None
    shifts = {n: 100.0 * (after.get(n, 0.0) - before.get(n, 0.0)) for n in names}
    name = max(names, key=lambda n: (abs(shifts[n]), n))
    return name, shifts[name]


def check_change(
    drift: Mapping[str, float | None],
    shares_before: Mapping[str, float],
    shares_after: Mapping[str, float],
    moved_worse: float | None,
    thresholds: Thresholds,
) -> list[Finding]:
    """The findings of one comparison, each when its measure reaches its threshold."""
    found = []
    for feature, value in sorted(drift.items()):
        if value is not None and not math.isnan(value) and value >= thresholds.psi:
            found.append(
                Finding(
                    "psi",
                    f"{feature} drifted: PSI {value:.3f} (alert at {thresholds.psi:g})",
                    round(float(value), 4),
                    thresholds.psi,
                )
            )
    shift = largest_size_shift(shares_before, shares_after)
    if shift is not None and abs(shift[1]) >= thresholds.size_shift:
        name, points = shift
        found.append(
            Finding(
                "size_shift",
                f"segment '{name}' {'grew' if points > 0 else 'shrank'} by {abs(points):.1f} "
                f"percentage points (alert at {thresholds.size_shift:g})",
                round(points, 2),
                thresholds.size_shift,
            )
        )
    if moved_worse is not None and moved_worse >= thresholds.worse_share:
        found.append(
            Finding(
                "worse_share",
                f"{moved_worse:.1%} of returning customers moved to a worse segment "
                f"(alert at {thresholds.worse_share:.0%})",
                round(moved_worse, 4),
                thresholds.worse_share,
            )
        )
    return found
