"""From widget values to service inputs and back: pure functions, tested without a browser.

Pages call these to build ``RfmOptions``/``SegmentOptions`` from what the user picked, to
lay out a prediction form from a model's feature schema, and to ask a model about one
customer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from segwise.service import RfmOptions, SegmentOptions

if TYPE_CHECKING:
    from segwise.service import Predictor

ROLE_LABELS = {
    "customer": "Customer id",
    "date": "Date",
    "invoice": "Invoice",
    "quantity": "Quantity",
    "price": "Unit price",
    "amount": "Line amount",
    "product": "Product code",
    "description": "Product name",
}
"""Roles of a transaction log's columns the user may correct, with their names on screen."""

UNITS = {
    "recency": "days since the last purchase",
    "frequency": "purchases",
    "monetary": "net spend",
}
"""What the RFM inputs of a model count, shown with their names."""
MODEL_NAMES = {"logistic_regression": "Logistic regression", "random_forest": "Random forest"}
STRATEGIES = {
    "class_weight": "weighted by their size",
    "smote": "small ones topped up with made-up neighbours (SMOTE)",
}

KINDS = {"auto": "Detect", "transactions": "Transaction log", "customers": "Customer table"}
NOT_IN_FILE = "(not in the file)"
RFM_FEATURES = ["recency", "frequency", "monetary"]


def role_overrides(
    chosen: Mapping[str, str | None], detected: Mapping[str, str]
) -> dict[str, str | None]:
    """Only the roles set to another column than detected: the same file with the detected
    roles gets the same dataset id as ``segwise ingest FILE``."""
    return {
        role: column
        for role, column in chosen.items()
        if column and column != NOT_IN_FILE and column != detected.get(role)
    }


def rfm_options(
    chosen: Mapping[str, str | None], detected: Mapping[str, str], date_format: str = ""
) -> RfmOptions:
    """What ``service.ingest`` takes from the roles form."""
    return RfmOptions(
        columns=role_overrides(chosen, detected) or None,
        date_format=date_format.strip() or None,
    )


def segment_options(
    *,
    kind: str,
    features: Sequence[str],
    k: int | None,
    outcomes: Sequence[str] | None = None,
    k_max: int = 10,
    min_percent: float = 3.0,
    seed: int = 0,
    bins: int = 5,
) -> SegmentOptions:
    """What ``service.run_segment`` takes from the segments form; ``k`` None means auto,
    ``outcomes`` None the columns named like outcomes (a list: exactly those)."""
    return SegmentOptions(
        kind="transactions" if kind == "transactions" else "customers",
        features=list(features) or None,
        outcomes=None if outcomes is None or kind == "transactions" else list(outcomes),
        k="auto" if k is None else int(k),
        k_max=int(k_max),
        min_share=float(min_percent) / 100,
        seed=int(seed),
        rfm=RfmOptions(bins=int(bins)),
    )


def model_words(name: str) -> str:
    """A model's name as a person says it (``random_forest`` -> ``Random forest``)."""
    return MODEL_NAMES.get(name, name.replace("_", " ").capitalize())


def yes_no_columns(frame: Any) -> Any:
    """A table with its true/false columns as "yes"/"no" words (a grid shows booleans as
    checkboxes, which read as something to tick)."""
    bools = [c for c in frame.columns if str(frame[c].dtype) in ("bool", "boolean")]
    if not bools:
        return frame
    words = {True: "yes", False: "no"}
    return frame.assign(**{str(c): frame[c].map(words) for c in bools})


@dataclass(frozen=True)
class InputField:
    """One input of a prediction form: a number (with the range seen in training), or a
    choice among known answers."""

    name: str
    kind: Literal["number", "choice"]
    value: Any
    minimum: float | int | None = None
    maximum: float | int | None = None
    step: float | int | None = None
    format: str | None = None
    options: list[str] = field(default_factory=list)

    @property
    def unit(self) -> str:
        """What the number counts, when known (shown after the name)."""
        return UNITS.get(self.name, "")

    @property
    def range_words(self) -> str:
        """The training range in words, for the field's help."""
        if self.minimum is None or self.maximum is None:
            return "any number"
        return f"customers the model learned from: {self.minimum:,} to {self.maximum:,}"

    @property
    def index(self) -> int:
        """Position of the starting answer among ``options``."""
        return self.options.index(self.value) if self.value in self.options else 0


def input_fields(
    features: Mapping[str, Mapping[str, Any]], typical: Mapping[str, Any]
) -> list[InputField]:
    """A form field per model input: numbers bounded by the range seen in training and
    starting at the typical (median) customer; answers as choices, the commonest first."""
    fields: list[InputField] = []
    for name, spec in features.items():
        start = typical.get(name)
        if spec.get("kind") == "number":
            fields.append(_number_field(name, spec, start))
        else:
            levels = [str(level) for level in spec.get("levels", [])]
            shown = str(start) if _present(start) else (levels[0] if levels else "")
            fields.append(InputField(name, "choice", shown, options=levels))
    return fields


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _number_field(name: str, spec: Mapping[str, Any], start: Any) -> InputField:
    low, high = spec.get("minimum"), spec.get("maximum")
    value = float(start) if _present(start) else float(low if low is not None else 0.0)
    if low is not None and high is not None and high < low:
        low, high = high, low
    if low is not None:
        value = max(value, float(low))
    if high is not None:
        value = min(value, float(high))
    whole = all(v is None or float(v).is_integer() for v in (low, high))
    if whole and low is not None and high is not None:
        return InputField(
            name,
            "number",
            round(value),
            minimum=int(low),
            maximum=int(high),
            step=1,
            format="%d",
        )
    span = float(high) - float(low) if low is not None and high is not None else abs(value)
    exponent = math.floor(math.log10(span / 100)) if span > 0 else -2
    decimals = max(2, -exponent)
    return InputField(
        name,
        "number",
        round(value, decimals),
        minimum=float(low) if low is not None else None,
        maximum=float(high) if high is not None else None,
        step=10.0**exponent,
        format=f"%.{decimals}f",
    )


@dataclass(frozen=True)
class Prediction:
    """What the result card shows for one customer."""

    kind: str  # "segment" or "target"
    answer: str  # the segment's name, or the predicted class
    segment: int | None
    probability: float
    recommendation: str
    reasons: list[str]
    notes: list[str]


def predict_one(predictor: Predictor, values: Mapping[str, Any]) -> Prediction:
    """Ask the model about one customer given as column -> value, with the reasons."""
    import pandas as pd

    row = pd.DataFrame([dict(values)])
    placed = predictor.predict(row)
    answer, notes = placed.iloc[0], list(placed.attrs["notes"])
    reasons = predictor.reasons(row)[0]
    if predictor.manifest.kind == "segment":
        return Prediction(
            kind="segment",
            answer=str(answer["segment_name"]),
            segment=int(answer["segment"]),
            probability=float(answer["probability"]),
            recommendation=str(answer["recommendation"]),
            reasons=reasons,
            notes=notes,
        )
    return Prediction(
        kind="target",
        answer=str(answer["prediction"]),
        segment=None,
        probability=float(answer["probability"]),
        recommendation="",
        reasons=reasons,
        notes=notes,
    )
