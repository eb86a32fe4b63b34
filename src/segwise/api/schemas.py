"""What the REST API takes and answers, one pydantic model per shape, with examples.

These models are the OpenAPI schema at ``/openapi.json``; the service layer's dicts are
validated into them on the way out, so a field the service renames breaks a test, not a client.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)

from segwise.api.value_schemas import CustomerValuePublic, SegmentRunValuePublic
from segwise.service.segments import MAX_MIN_SHARE, MAX_SEGMENTS, MIN_SHARE

MAX_PREDICT_ROWS = 100_000
"""Most customers one predict request may hold (a 10k batch is ~1 MB of JSON)."""

DatasetId = Annotated[
    str,
    StringConstraints(pattern=r"^d[0-9a-f]{11}$"),
    Field(description="A dataset id from `POST /v1/datasets`.", examples=["d15aa8a895b1"]),
]
FeatureName = Annotated[str, StringConstraints(min_length=1, max_length=200)]


def _utc(moment: datetime) -> datetime:
    """The catalog stores UTC; SQLite hands it back without its zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


Moment = Annotated[datetime, AfterValidator(_utc)]
_SCALARS = (str, int, float, bool, type(None))
_SCALAR_SCHEMA = {
    "anyOf": [{"type": t} for t in ("string", "number", "boolean", "null")],
    "description": "A number, a yes/no or an answer; null (or a blank) when unknown.",
}


def _k(value: object) -> int | str:
    """``auto`` or a whole number (one clear message instead of one per union member); the
    range is the service's (``SegmentOptions``), said here too for the OpenAPI schema."""
    if value == "auto":
        return "auto"
    if isinstance(value, int) and not isinstance(value, bool) and 2 <= value <= MAX_SEGMENTS:
        return value
    raise ValueError(f"k must be 'auto' or a whole number from 2 to {MAX_SEGMENTS}, got {value!r}")


SegmentCount = Annotated[
    Literal["auto"] | int,
    PlainValidator(_k),
    WithJsonSchema(
        {
            "anyOf": [
                {"const": "auto"},
                {"type": "integer", "minimum": 2, "maximum": MAX_SEGMENTS},
            ],
            "description": "Number of segments, or `auto` to choose it.",
        }
    ),
]

_RUN_EXAMPLE: dict[str, JsonValue] = {
    "id": "rbed292851f21",
    "dataset": "d15aa8a895b1",
    "dataset_name": "shop_november.csv",
    "kind": "transactions",
    "status": "done",
    "k": 3,
    "error": None,
    "created": "2026-11-21T19:25:19Z",
    "finished": "2026-11-21T19:25:28Z",
    "timings": {"ingest_s": 0.01, "segment_s": 6.2, "classifier_s": 2.9, "store_s": 0.1},
}
_PROFILE_EXAMPLE: dict[str, JsonValue] = {
    "mean": {"recency": 306.0, "frequency": 1.53, "monetary": 41.63},
    "median": {"recency": 302.0, "frequency": 2.0, "monetary": 42.48},
    "z": {"recency": 1.165, "frequency": -0.574, "monetary": -0.51},
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldError(_Model):
    """One invalid field of a request."""

    loc: list[str | int] = Field(
        description="Where: body, query, path or header, then the field path.",
        examples=[["body", "k"]],
    )
    msg: str = Field(examples=["k must be 'auto' or a whole number from 2 to 50, got 1"])
    type: str = Field(examples=["value_error"])


class ErrorPublic(_Model):
    """Every error answer: ``detail`` says what went wrong and how to fix it, in one line;
    a request that does not fit its schema also lists every bad field in ``errors``."""

    detail: str = Field(examples=["run rbed292851f21 is running, not done; see `segwise runs`"])
    column: str | None = Field(default=None, description="The input column at fault, if any.")
    row: int | None = Field(
        default=None, description="The input row at fault, from 1 (customers[0] is row 1)."
    )
    errors: list[FieldError] | None = Field(
        default=None, description="Every invalid field of the request (422 only)."
    )


class Health(_Model):
    """The service answers."""

    status: Literal["ok"] = "ok"
    version: str = Field(examples=["0.1.0"])


class DatasetPublic(_Model):
    """A stored dataset: a cleaned transaction log or a customer table."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "d15aa8a895b1",
                    "name": "shop_november.csv",
                    "kind": "transactions",
                    "rows": 15931,
                    "customers": 500,
                    "dropped": {"adjustment": 36, "no_customer_id": 782},
                    "roles": {"customer": "CustomerID", "date": "InvoiceDate"},
                    "as_of": "2011-12-10",
                    "pseudonymised": False,
                    "created": "2026-11-21T19:25:18Z",
                }
            ]
        },
    )

    id: str
    name: str
    kind: Literal["transactions", "customers"]
    rows: int = Field(description="Lines kept (logs) or rows (tables).")
    customers: int
    dropped: dict[str, int] = Field(description="Lines dropped, by reason (logs).")
    roles: dict[str, Any] = Field(description="Which column plays which role.")
    as_of: date | None = Field(description="The day recency counts to (logs).")
    pseudonymised: bool
    created: Moment
    stored_before: bool = Field(False, description="The same content was stored already.")
    renamed_from: str | None = Field(
        None, description="Its name before, when this upload gave it a new one."
    )


class RunCreate(_Model):
    """A segmentation to start on a stored dataset."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"dataset": "d15aa8a895b1", "k": "auto"}]},
    )

    dataset: DatasetId
    k: SegmentCount = "auto"
    features: list[FeatureName] | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Columns to use (default: all usable; recency, frequency, monetary for logs).",
        examples=[["recency", "frequency", "monetary"]],
    )
    outcomes: list[FeatureName] | None = Field(
        default=None,
        max_length=500,
        description="Outcome columns of a customer table: described per segment as rates, "
        "not clustered on (default: the columns named like churn, card, status...; "
        "[]: none).",
        examples=[["churn"]],
    )
    k_max: int = Field(default=10, ge=2, le=MAX_SEGMENTS, description="Largest k tried by `auto`.")
    k_min: int = Field(default=2, ge=2, le=MAX_SEGMENTS, description="Smallest k tried by `auto`.")
    min_share: float = Field(
        default=MIN_SHARE,
        ge=0.0,
        le=MAX_MIN_SHARE,
        description="`auto` only chooses a k whose smallest segment holds at least this share "
        "of the customers (0.03 = 3%; 0 turns the floor off).",
    )
    seed: int = Field(default=0, ge=0, le=2**32 - 1, description="The same seed, the same run.")
    as_of: date | None = Field(
        default=None,
        description="The day recency counts to, for a log (default: its dataset's as-of date).",
    )
    bins: int = Field(default=5, ge=2, le=9, description="RFM score bins, for a log.")
    classifier: bool = Field(
        default=False,
        description="Also train a surrogate classifier (its scores, confusion matrix and "
        "importance); customers are always placed by the run's own segments.",
    )
    value: bool = Field(
        default=True,
        description="For a log, also each customer's P(alive), expected purchases and value, "
        "CLV and churn risk, with totals per segment (false: skip, for speed).",
    )


class RunQueued(_Model):
    """A run was recorded and will start as soon as a worker is free; poll its URL."""

    id: str = Field(examples=["rbed292851f21"])
    status: Literal["queued", "running", "done", "failed"] = Field(examples=["queued"])


class RunPublic(_Model):
    """A run: its status, and when finished its number of segments."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_RUN_EXAMPLE]})

    id: str
    dataset: str
    dataset_name: str
    kind: str
    status: Literal["queued", "running", "done", "failed"]
    k: int | None
    error: str | None = Field(description="Why a failed run failed.")
    created: Moment
    finished: Moment | None
    timings: dict[str, float] = Field(description="Seconds spent per step.")


class RunDetail(RunPublic):
    """A run with what it was asked (params), found (summary) and how well its classifier
    places customers (hold-out accuracy, macro F1, confusion matrix)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                _RUN_EXAMPLE
                | {
                    "params": {"kind": "transactions", "k": "auto", "seed": 0},
                    "summary": {"k": 3, "customers": 500},
                    "classifier": {"accuracy": 0.99, "macro_f1": 0.98},
                }
            ]
        },
    )

    params: dict[str, Any]
    summary: dict[str, Any]
    classifier: dict[str, Any]


class OutcomeRatePublic(_Model):
    """One outcome column in one segment against all customers."""

    column: str = Field(examples=["card"])
    kind: Literal["rate", "mean", "share"]
    level: str | None = Field(description="The answer counted (rate, share).", examples=["yes"])
    value: float | None = Field(description="In this segment.", examples=[0.42])
    overall: float | None = Field(description="Among all customers.", examples=[0.26])
    text: str = Field(examples=["card 42% vs 26% overall"])


class SegmentPublic(_Model):
    """One segment of a finished run: who is in it and what to do about them."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "segment": 0,
                    "name": "Hibernating",
                    "size": 175,
                    "share": 0.35,
                    "profile": _PROFILE_EXAMPLE,
                    "recommendation": "Reactivation campaign: relevant offers; keep the cost low.",
                }
            ]
        },
    )

    segment: int
    name: str
    size: int
    share: float
    profile: dict[str, Any] = Field(description="Means, medians, z-scores, what stands out.")
    recommendation: str
    outcomes: list[OutcomeRatePublic] = Field(
        default_factory=list,
        description="Outcome columns set aside from clustering, as this segment's rate, mean "
        "or commonest-answer share next to everyone's.",
    )
    value: SegmentRunValuePublic | None = Field(
        default=None,
        description="Runs on a log: the segment's customer value over 180 days (none when the "
        "run was asked without value, or the log could not support the models).",
    )


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
