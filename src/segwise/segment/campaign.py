"""Splitting a campaign's audience into treatment and control: random, stratified by
segment, reproducible from a seed.

Each segment gets its own control group of round(share × n) customers (half up), so every
segment's control share is within one customer of the share asked for, and a read-out can
compare treatment with control segment by segment as well as overall.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from segwise.errors import InputError

MIN_SHARE = 0.01
MAX_SHARE = 0.9


def check_share(share: float) -> float:
    """The control share, which must leave both groups non-empty in any sizeable segment."""
    if not (isinstance(share, int | float) and math.isfinite(share)):
        raise InputError(f"the control share must be a number, got {share!r}")
    if not MIN_SHARE <= share <= MAX_SHARE:
        raise InputError(
            f"the control share {share:g} is outside {MIN_SHARE:g}..{MAX_SHARE:g}",
            hint="give a fraction such as 0.1 for a control group of 10%",
        )
    return float(share)


def control_size(n: int, share: float) -> int:
    """How many of a segment's ``n`` customers go to control: share × n rounded half up."""
    return math.floor(share * n + 0.5)


def split_arms(
    customer_ids: Sequence[str], segments: Sequence[str], share: float, seed: int
) -> np.ndarray:
    """True for the customers drawn into control, per segment, in the order given.

    The draw does not depend on the order of the input: customers are sorted by id within
    their segment and segments by name before one seeded generator draws each segment's
    control group, so the same seed and the same customers always give the same split.
    """
    share = check_share(share)
    if len(customer_ids) != len(segments):
        raise ValueError("customer_ids and segments differ in length")
    ids = np.asarray([str(c) for c in customer_ids], dtype=object)
    segs = np.asarray([str(s) for s in segments], dtype=object)
    control = np.zeros(len(ids), dtype=bool)
    rng = np.random.default_rng(seed)
    for name in sorted(set(segs.tolist())):
        where = np.flatnonzero(segs == name)
        where = where[np.argsort(ids[where], kind="stable")]
        chosen = rng.choice(len(where), size=control_size(len(where), share), replace=False)
        control[where[chosen]] = True
    return control


def grid_advice(name: str) -> str:
    """The default advice for an RFM grid segment (``At Risk``, ...), for campaigns chosen by
    the RFM segments of a log's run rather than by its clusters."""
    from segwise.segment.recommend import GENERIC, default_rules

    for rule in default_rules().rules:
        if rule.segment == name:
            return rule.recommendation
    return GENERIC


def grid_ranks(cells: Mapping[tuple[int, int], str]) -> dict[str, float]:
    """How good each segment of an RFM grid is: the mean R + FM of its cells (Lost 2,
    Hibernating 3, ..., Champions about 9.7); a customer whose segment's rank rises moved to a
    better segment."""
    sums: dict[str, list[int]] = {}
    for (r, fm), name in cells.items():
        sums.setdefault(name, []).append(r + fm)
    return {name: sum(v) / len(v) for name, v in sums.items()}
