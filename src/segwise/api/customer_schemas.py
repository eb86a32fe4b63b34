"""What the customer routes take and answer (``/v1/runs/{id}/customers``, ``/predict``): one
customer's look-up, the model's inputs, and prediction requests and answers."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from segwise.api.schemas import FeatureName
from segwise.api.value_schemas import CustomerValuePublic

MAX_PREDICT_ROWS = 100_000
"""Most customers one predict request may hold (a 10k batch is ~1 MB of JSON)."""

_SCALARS = (str, int, float, bool, type(None))
_SCALAR_SCHEMA = {
    "anyOf": [{"type": t} for t in ("string", "number", "boolean", "null")],
    "description": "A number, a yes/no or an answer; null (or a blank) when unknown.",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FeatureSpecPublic(_Model):
    """What one input column of a run's model accepts."""

    kind: Literal["number", "binary", "ordinal", "category"]
    levels: list[str] = Field(description="The answers seen in training (non-numbers).")
    minimum: float | None = Field(description="Smallest value in training (numbers).")
    maximum: float | None = Field(description="Largest value in training (numbers).")


class MonthPublic(_Model):
    """A customer's purchases in one month (logs)."""

    month: str = Field(examples=["2011-11"])
    purchases: int
    returns: int
    spend: float | None


class ProductPublic(_Model):
    """One of a customer's top products by spend (logs)."""

    product: str
    name: str | None = Field(default=None, description="the product's name, when the log has one")
    lines: int
    spend: float | None


class CustomerPublic(_Model):
    """One customer of a finished run: segment and advice, features, standing, history."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "run": "rbed292851f21",
                    "customer_id": "12007",
                    "segment": 2,
                    "segment_name": "Potential Loyalist",
                    "recommendation": "Nurture towards loyalty: membership or loyalty offer.",
                    "features": {"recency": 18, "frequency": 2, "monetary": 106.43},
                    "standing": {"recency": 28.0, "frequency": 48.0, "monetary": 51.5},
                    "rfm": {"r_score": 4, "f_score": 2, "m_score": 3, "rfm_code": "423"},
                    "history": [{"month": "2011-11", "purchases": 1, "returns": 0, "spend": 58.58}],
                    "top_products": [{"product": "21133A", "lines": 1, "spend": 21.8}],
                }
            ]
        },
    )

    run: str
    customer_id: str
    segment: int
    segment_name: str
    recommendation: str
    features: dict[str, Any]
    standing: dict[str, float | None] = Field(
        description="Percentile of the customer among the run's customers, per feature."
    )
    rfm: dict[str, Any] | None = Field(default=None, description="RFM scores (logs).")
    history: list[MonthPublic] | None = Field(default=None, description="Per month (logs).")
    top_products: list[ProductPublic] | None = Field(default=None, description="(logs)")
    value: CustomerValuePublic | None = Field(
        default=None, description="P(alive), expected purchases and value, CLV (logs)."
    )


def _finite(value: float | int) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer past float range
        return False


class PredictRequest(_Model):
    """Customers to place in a run's segments, one object per customer: the run's features
    (``GET /v1/runs/{run_id}/features``) by name; other keys are ignored."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"customers": [{"recency": 18, "frequency": 2, "monetary": 106.43}]}]
        },
    )

    customers: list[dict[FeatureName, Annotated[Any, WithJsonSchema(_SCALAR_SCHEMA)]]] = Field(
        min_length=1, max_length=MAX_PREDICT_ROWS
    )

    @field_validator("customers")
    @classmethod
    def _scalars(cls, customers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Values are JSON scalars and numbers are finite (NaN, Infinity and integers past
        float range are not numbers a customer has); the first other one is named."""
        for index, row in enumerate(customers):
            for key, value in row.items():
                if not isinstance(value, _SCALARS):
                    raise ValueError(
                        f"customers[{index}].{key} is a {type(value).__name__}; send a number, "
                        "text, true/false or null"
                    )
                if isinstance(value, float | int) and not _finite(value):  # bool is finite
                    raise ValueError(
                        f"customers[{index}].{key} is {value!r:.40}, not a finite number; "
                        "send a plain number, or null for a blank"
                    )
        return customers


class Prediction(_Model):
    """Where one customer belongs, how sure the model is, and what to offer."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "segment": 2,
                    "segment_name": "Potential Loyalist",
                    "probability": 0.97,
                    "recommendation": "Nurture towards loyalty: membership or loyalty offer.",
                }
            ]
        },
    )

    segment: int
    segment_name: str
    probability: float = Field(ge=0, le=1)
    recommendation: str
