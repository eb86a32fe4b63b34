"""What the REST API takes and answers, one pydantic model per shape, with examples.

These models are the OpenAPI schema at ``/openapi.json``; the service layer's dicts are
validated into them on the way out, so a field the service renames breaks a test, not a client.
"""

from __future__ import annotations

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
)

from segwise.api.value_schemas import SegmentRunValuePublic
from segwise.service.segments import MAX_MIN_SHARE, MAX_SEGMENTS, MIN_SHARE

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
