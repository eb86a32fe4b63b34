"""Outcome columns of a customer table: what the business wants to explain, not cluster on.

A column named like a result (``churn``, ``card`` accepted, ``status``, ``default``,
``response``, ``would_recommend``, ``label``, ``target``, ``y`` ...) is set aside by
default: segments are built from behaviour and described by their outcome rates. Users
choose otherwise with the column lists of a run (``--features``, ``--outcomes``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["HOW_TO_INCLUDE", "looks_like_outcome", "outcome_columns"]

HOW_TO_INCLUDE = (
    "outcome columns are described per segment, not clustered on; to cluster on one, name it "
    "in --features with the other inputs, or pass --outcomes none (or your own list of "
    "outcomes); in the dashboard, clear it from the Outcomes box"
)

#: Whole names (after dropping is/has/did/will/would and flag/yn) that are outcomes.
_EXACT = frozenset({
    "card", "y", "class", "label", "target", "outcome", "status", "result", "responded",
    "response", "recommend", "recommended", "wouldrecommend", "purchase", "purchased", "bought",
    "converted", "conversion", "subscribed", "approved", "approval", "accepted", "churn",
    "churned", "churning", "exited", "attrition", "default", "defaulted", "lapsed", "retained",
    "loanstatus", "applicationstatus", "creditstatus", "approvalstatus",
})  # fmt: skip
#: Words that make a short name an outcome when they start or end it ("loan_approval",
#: "churn_value", "default_payment_next_month", "customer_churn", "term_deposit_subscribed").
_WORDS = frozenset({
    "churn", "churned", "churning", "attrition", "exited", "approved", "approval", "default",
    "defaulted", "responded", "converted", "subscribed", "recommend",
})  # fmt: skip
_FILLER_HEAD = frozenset({"is", "has", "did", "will", "would", "was", "got", "y"})
_FILLER_TAIL = frozenset({"flag", "yn", "ind", "indicator", "label"})
_MAX_TOKENS = 4


def _tokens(name: str) -> list[str]:
    """'Attrition_Flag' -> ['attrition', 'flag']; 'HasCrCard' -> ['has', 'cr', 'card']."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name)
    return re.sub(r"[^0-9a-z]+", " ", spaced.lower()).split()


def looks_like_outcome(name: str) -> bool:
    """Whether a column's name says it is a result to explain (churn, approval, status...).

    Whole names such as ``card``, ``status``, ``y`` or ``Exited`` count; so do short names
    that start or end with a result word (``loan_approval``, ``Churn Value``,
    ``default payment next month``). ``HasCrCard`` or ``marital_status`` do not.
    """
    tokens = _tokens(name)
    if len(tokens) > 1 and tokens[0] in _FILLER_HEAD:
        tokens = tokens[1:]
    if len(tokens) > 1 and tokens[-1] in _FILLER_TAIL:
        tokens = tokens[:-1]
    if not tokens:
        return False
    if "".join(tokens) in _EXACT:
        return True
    return len(tokens) <= _MAX_TOKENS and (tokens[0] in _WORDS or tokens[-1] in _WORDS)


def outcome_columns(
    columns: Sequence[str],
    *,
    features: Sequence[str] | None = None,
    outcomes: Sequence[str] | None = None,
) -> list[str]:
    """The columns a run sets aside as outcomes, in table order.

    ``outcomes`` given: exactly those (an empty list: none). Otherwise the columns named like
    outcomes, except those chosen as inputs in ``features``.
    """
    if outcomes is not None:
        wanted = set(outcomes)
        return [c for c in columns if c in wanted]
    chosen = set(features or ())
    return [c for c in columns if c not in chosen and looks_like_outcome(str(c))]
