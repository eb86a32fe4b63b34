"""What the campaign routes take and answer (``/v1/campaigns``), one pydantic model per shape."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from segwise.api.schemas import Moment

SegmentName = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CampaignCreate(_Model):
    """A campaign to create on a finished run's segments."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "run": "rbed292851f21",
                    "segments": ["At Risk", "Cannot Lose Them"],
                    "name": "Dec win-back",
                    "control": 0.1,
                    "message": "20% off your next order",
                }
            ]
        },
    )

    run: str = Field(min_length=1, max_length=64, description="A run id, a prefix or `latest`.")
    segments: list[SegmentName] = Field(
        min_length=1,
        max_length=50,
        description="The run's segment names (or, for a log's run, RFM grid names).",
    )
    name: str = Field(min_length=1, max_length=200, description="Unique.")
    control: float = Field(
        default=0.1, ge=0.01, le=0.9, description="Share of each segment kept as control."
    )
    start: date | None = Field(default=None, description="The day it starts (default today).")
    message: str = Field(default="", max_length=10_000, description="The message or offer.")
    seed: int | None = Field(
        default=None, ge=0, le=2**63 - 1, description="Seed of the split (default: random)."
    )


class ArmSizes(_Model):
    treatment: int
    control: int


class CampaignPublic(_Model):
    """A campaign: its run, segments, start, and the sizes of its two groups per segment."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "c5d2e3f4a5b6c",
                    "name": "Dec win-back",
                    "run": "rbed292851f21",
                    "grouping": "rfm_segment",
                    "segments": ["At Risk"],
                    "message": "20% off your next order",
                    "start": "2026-12-01",
                    "control_share": 0.1,
                    "seed": 138943297,
                    "treatment": 175,
                    "control": 20,
                    "sizes": {"At Risk": {"treatment": 175, "control": 20}},
                    "created": "2026-12-01T17:09:28Z",
                }
            ]
        },
    )

    id: str
    name: str
    run: str
    grouping: Literal["segment_name", "rfm_segment"] = Field(
        description="Whether the segments are the run's own or the RFM grid's."
    )
    segments: list[str]
    message: str
    start: date
    control_share: float
    seed: int
    treatment: int
    control: int
    sizes: dict[str, ArmSizes]
    created: Moment


class UpliftPublic(_Model):
    """One measure, treatment against control, with the uplift and its 95% interval (null
    when the groups are too small to tell)."""

    measure: str = Field(examples=["bought again"])
    kind: Literal["share", "mean"]
    treatment: float | None
    control: float | None
    n_treatment: int
    n_control: int
    uplift: float | None
    ci_low: float | None
    ci_high: float | None
    level: float = Field(examples=[0.95])
    verdict: Literal["more", "less", "no clear difference", "too few to tell"]


class GroupPublic(_Model):
    """The read-out of one segment, or of the whole campaign (``overall``)."""

    segment: str
    n_treatment: int
    n_control: int
    summary: str = Field(
        examples=["the offer brought back 4.1 more customers per 100 (95% CI 1.2 to 7.0)"]
    )
    measures: dict[str, UpliftPublic]


class CampaignReportPublic(_Model):
    """Did it work? Treatment against control on the log after the start."""

    campaign: str
    run: str
    after: str = Field(description="The dataset id of the log read.")
    window: dict[Literal["from", "to"], date]
    groups: list[GroupPublic]
