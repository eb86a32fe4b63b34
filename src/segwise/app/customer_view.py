"""The Customer page's pieces: the value numbers a look-up carries, the features to draw
against the segment, example ids, from the look-up and the run's assignments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

VALUE_COLUMNS = {
    "p_alive": ("Still a customer", "{:.0%}", "chance the customer has not left for good"),
    "expected_purchases": ("Expected purchases", "{:,.1f}", "over the value horizon"),
    "expected_value": ("Expected spend", "{:,.2f}", "over the value horizon"),
    "clv": ("Customer value", "{:,.2f}", "discounted value of future purchases (CLV)"),
    "churn_risk": ("Churn risk", "{:.0%}", "chance the customer has left"),
}
"""Value columns a look-up may carry (runs on logs with customer value), in order."""
DISTRIBUTED = ("recency", "frequency", "monetary")
MAX_DISTRIBUTIONS = 3


def value_numbers(found: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(label, shown value, help) of the value columns the look-up returned, if any."""
    values = dict(found.get("features") or {}) | dict(found.get("value") or {})
    shown = []
    for column, (words, fmt, meaning) in VALUE_COLUMNS.items():
        value = values.get(column)
        if isinstance(value, int | float) and not isinstance(value, bool):
            shown.append((words, fmt.format(value), meaning))
    return shown


def plain_features(found: Mapping[str, Any]) -> dict[str, Any]:
    """The customer's features without the value columns (they show as numbers above)."""
    return {k: v for k, v in (found.get("features") or {}).items() if k not in VALUE_COLUMNS}


def distributed(found: Mapping[str, Any], kind: str) -> list[str]:
    """Features to draw: recency, frequency and spend for a log; else the first numbers."""
    features = plain_features(found)
    numeric = [
        k for k, v in features.items() if isinstance(v, int | float) and not isinstance(v, bool)
    ]
    if kind == "transactions":
        return [f for f in DISTRIBUTED if f in numeric]
    return numeric[:MAX_DISTRIBUTIONS]


def segment_values(assignments: pd.DataFrame, segment: int, feature: str) -> list[float]:
    """The values of ``feature`` among the segment's customers."""
    import pandas as pd

    members = assignments.loc[assignments["segment"] == segment, feature]
    return [float(v) for v in pd.to_numeric(members, errors="coerce").dropna()]


def examples(known: pd.DataFrame) -> str:
    """A few ids of the run as code spans (shown exactly as they are to be typed)."""
    shown = (str(c).replace("`", "'") for c in known["customer_id"].head(5))
    return ", ".join(f"`{c}`" for c in shown)


def kind_of(known: pd.DataFrame | None) -> str:
    """A run's kind from its assignments: a log's carry recency, frequency and monetary."""
    has_rfm = known is not None and {"recency", "frequency", "monetary"} <= set(known.columns)
    return "transactions" if has_rfm else "customers"


def product_rows(products: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Top products by their names where the log had them, the code beside."""
    return [
        {
            "product": p.get("name") or p["product"],
            "code": p["product"] if p.get("name") else "",
            "lines": p["lines"],
            "spend": p["spend"],
        }
        for p in products
    ]
