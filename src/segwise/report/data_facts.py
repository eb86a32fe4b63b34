"""The report's "Data and cleaning" section: the input, the cleaning report of a log, the
column mapping and what became of every column (used, left out, coded, filled in)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from segwise.io.validate import REASONS
from segwise.segment.pipeline import Segmentation

_INPUT_LABELS = {
    "file": "File",
    "format": "Format",
    "encoding": "Encoding",
    "delimiter": "Delimiter",
    "rows": "Rows",
    "sheet": "Sheet",
}
_ROLE_LABELS = {
    "customer": "Customer id",
    "date": "Date",
    "invoice": "Invoice",
    "quantity": "Quantity",
    "price": "Unit price",
    "amount": "Amount",
    "product": "Product code",
    "description": "Description",
}


@dataclass(frozen=True)
class Fact:
    """One labelled value of the data section; ``items`` shows a list of column names."""

    label: str
    value: str = ""
    items: list[str] = field(default_factory=list)


def thousands(value: object) -> str:
    """A number with thousands separators (cents only when not whole); other values as text."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return str(value)
    number = float(value)
    if not math.isfinite(number):
        return "–"
    return f"{number:,.0f}" if number == int(number) else f"{number:,.2f}"


def _input_facts(source: dict[str, Any]) -> list[Fact]:
    facts = []
    for key, value in source.items():
        if value is None or value == "":
            continue
        text = repr(value) if key == "delimiter" else thousands(value)
        facts.append(Fact(_INPUT_LABELS.get(key, key.replace("_", " ").capitalize()), text))
    return facts


def data_facts(seg: Segmentation, used: list[str]) -> dict[str, Any]:
    """The "Data and cleaning" section: what was read, how it was cleaned, which features."""
    prep = seg.prep
    columns = [
        Fact("Features used", items=list(used)),
        Fact("Identifier columns (left out)", items=list(prep.id_columns)),
        Fact("Constant or almost constant (left out)", items=list(prep.constant_columns)),
        Fact("Text with too many answers (left out)", items=list(prep.dropped_text_columns)),
        Fact("Dates and other unsupported types (left out)", items=list(prep.unsupported_columns)),
        Fact("Yes/no columns (coded 0/1)", items=list(prep.binary_columns)),
        Fact(
            "Ordered answers (coded by rank)",
            items=[f"{c}: {' < '.join(levels)}" for c, levels in prep.ordinal_columns.items()],
        ),
        Fact("Categories (one indicator per answer)", items=list(prep.onehot_columns)),
        Fact("Log-transformed (skewed)", items=list(prep.log_columns)),
        Fact(
            "Outcomes (described per segment, not clustered on)", items=list(prep.outcome_columns)
        ),
    ]
    n = max(len(seg.labels), 1)
    imputed = [
        Fact(column, f"{count:,} rows ({count / n:.1%})")
        for column, count in prep.imputed_columns.items()
    ]
    out: dict[str, Any] = {
        "columns": [f for f in columns if f.items],
        "imputed": imputed,
        "input": [],
        "cleaning": None,
    }
    if seg.kind == "transactions" and "rfm" in seg.extra:
        rfm = seg.extra["rfm"]
        report = rfm.get("report") or {}
        lines = max(int(report.get("lines") or 0), 1)
        out["input"] = _input_facts(rfm.get("input") or {})
        out["cleaning"] = {
            "facts": [
                Fact("Lines read", thousands(report.get("lines", 0))),
                Fact("Lines kept", thousands(report.get("kept_lines", 0))),
                Fact(
                    "Cancellations and returns (kept: they lower net spend, not purchases)",
                    thousands(report.get("returns", 0)),
                ),
                Fact(
                    "Customers with no purchase (left out)",
                    thousands(report.get("customers_without_purchase", 0)),
                ),
            ],
            "dropped": [
                (reason, int(count), count / lines, REASONS.get(reason, reason))
                for reason, count in (report.get("dropped") or {}).items()
                if count
            ],
            "mapping": [
                (_ROLE_LABELS.get(role, role), column)
                for role, column in (rfm.get("mapping") or {}).items()
            ],
            "settings": [
                Fact("Date format", str(rfm.get("date_format") or "ISO / detected")),
                Fact("As-of date", str(rfm.get("as_of", ""))),
                Fact("Score bins", str(rfm.get("bins", ""))),
                Fact("Customers", thousands(rfm.get("customers", len(seg.labels)))),
            ],
        }
    else:
        source = dict(seg.extra.get("input") or {})
        source.setdefault("rows", len(seg.labels))
        out["input"] = _input_facts(source)
        ident = seg.extra.get("id_column")
        out["input"].append(Fact("Customer id", str(ident) if ident else "row number"))
    return out
