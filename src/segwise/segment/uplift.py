"""Treatment against control: the uplift of a campaign with a 95% confidence interval.

Shares (who bought again) use Newcombe's interval for a difference of two independent
proportions, means (spend, change in RFM score) Welch's t interval, both from statsmodels.
Groups too small to tell are said to be so instead of given a number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

MIN_ARM = 30  # customers each arm needs before an uplift is worth a number
MIN_EVENTS = 5  # buyers both arms together need for a share's uplift
LEVEL = 0.95

Kind = Literal["share", "mean"]


@dataclass(frozen=True)
class Uplift:
    """One measure, treatment against control: each arm's value, the difference and its
    95% interval (None when the groups are too small to tell)."""

    measure: str
    kind: Kind
    treatment: float | None
    control: float | None
    n_treatment: int
    n_control: int
    uplift: float | None
    low: float | None
    high: float | None
    verdict: str  # "more", "less", "no clear difference" or "too few to tell"

    def to_dict(self) -> dict[str, Any]:
        return {
            "measure": self.measure,
            "kind": self.kind,
            "treatment": _round(self.treatment),
            "control": _round(self.control),
            "n_treatment": self.n_treatment,
            "n_control": self.n_control,
            "uplift": _round(self.uplift),
            "ci_low": _round(self.low),
            "ci_high": _round(self.high),
            "level": LEVEL,
            "verdict": self.verdict,
        }


def share_uplift(measure: str, treated: ArrayLike, control: ArrayLike) -> Uplift:
    """Difference of the share of 1s (treatment - control), Newcombe's 95% interval."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    t, c = np.asarray(treated, dtype=bool), np.asarray(control, dtype=bool)
    n_t, n_c, e_t, e_c = len(t), len(c), int(t.sum()), int(c.sum())
    p_t = e_t / n_t if n_t else None
    p_c = e_c / n_c if n_c else None
    if min(n_t, n_c) < MIN_ARM or e_t + e_c < MIN_EVENTS:
        return _too_few(measure, "share", p_t, p_c, n_t, n_c)
    low, high = confint_proportions_2indep(
        e_t, n_t, e_c, n_c, method="newcombe", compare="diff", alpha=1 - LEVEL
    )
    assert p_t is not None and p_c is not None
    return _estimate(measure, "share", p_t, p_c, n_t, n_c, float(low), float(high))


def mean_uplift(measure: str, treated: ArrayLike, control: ArrayLike) -> Uplift:
    """Difference of means (treatment - control), Welch's 95% t interval."""
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    t, c = np.asarray(treated, dtype=float), np.asarray(control, dtype=float)
    t, c = t[np.isfinite(t)], c[np.isfinite(c)]
    m_t = float(t.mean()) if len(t) else None
    m_c = float(c.mean()) if len(c) else None
    if min(len(t), len(c)) < MIN_ARM:
        return _too_few(measure, "mean", m_t, m_c, len(t), len(c))
    assert m_t is not None and m_c is not None
    if t.var() == 0 and c.var() == 0:  # no spread at all: the difference is exact
        low = high = m_t - m_c
    else:
        compare = CompareMeans(DescrStatsW(t), DescrStatsW(c))
        low, high = compare.tconfint_diff(alpha=1 - LEVEL, usevar="unequal")
    return _estimate(measure, "mean", m_t, m_c, len(t), len(c), float(low), float(high))


def _estimate(
    measure: str, kind: Kind, a: float, b: float, n_t: int, n_c: int, low: float, high: float
) -> Uplift:
    verdict = "more" if low > 0 else "less" if high < 0 else "no clear difference"
    return Uplift(measure, kind, a, b, n_t, n_c, a - b, low, high, verdict)


def _too_few(
    measure: str, kind: Kind, a: float | None, b: float | None, n_t: int, n_c: int
) -> Uplift:
    return Uplift(measure, kind, a, b, n_t, n_c, None, None, None, "too few to tell")


def sentence(uplift: Uplift, who: str = "customers") -> str:
    """The uplift in plain words, e.g. 'the offer brought back 4.1 more customers per 100
    (95% CI 1.2 to 7.0)'."""
    if uplift.uplift is None or uplift.low is None or uplift.high is None:
        if min(uplift.n_treatment, uplift.n_control) < MIN_ARM:
            why = f"{uplift.n_treatment} treated, {uplift.n_control} in control; "
            why += f"at least {MIN_ARM} each are needed"
        else:
            why = f"fewer than {MIN_EVENTS} {who} to count in both groups together"
        return f"{uplift.measure}: too few to tell ({why})"
    scale, unit = (100.0, f" {who} per 100") if uplift.kind == "share" else (1.0, "")
    value, low, high = (x * scale for x in (uplift.uplift, uplift.low, uplift.high))
    digits = 1 if uplift.kind == "share" else 2
    interval = f"(95% CI {low:.{digits}f} to {high:.{digits}f})"
    if uplift.kind == "share":
        more = "more" if value >= 0 else "fewer"
        text = f"the offer brought back {abs(value):.1f} {more}{unit} {interval}"
    else:
        more = "higher" if value >= 0 else "lower"
        text = f"{uplift.measure} was {abs(value):.2f} {more} with the offer {interval}"
    if uplift.verdict == "no clear difference":
        text += ", which could also be no effect"
    return text


def _round(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 6)
