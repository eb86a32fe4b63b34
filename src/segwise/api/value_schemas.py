"""What ``GET /v1/runs/{run_id}/value`` answers: the fitted models and value per segment."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class SegmentValuePublic(BaseModel):
    """Value totals and averages of one segment of the run."""

    model_config = ConfigDict(extra="forbid")

    segment: str = Field(description="The run's segment name.")
    customers: int
    expected_purchases: float = Field(description="Purchase days expected over the horizon.")
    expected_value: float = Field(description="Their expected spend, undiscounted.")
    clv: float = Field(description="The same, discounted at the annual discount rate.")
    p_alive_mean: float = Field(description="Mean probability of still being a customer.")
    likely_lapsed_share: float = Field(description="Share with P(alive) below 0.5.")


class SegmentRunValuePublic(SegmentValuePublic):
    """A segment's value as its run stored it (``value`` of ``GET /v1/runs/{run_id}/segments``)."""

    expected_value_mean: float = Field(description="Expected value per customer.")
    headline: str = Field(
        description="In words, e.g. 'At Risk: 1,204 customers, expected value 3.1M over 180 "
        "days, 58% likely lapsed'."
    )


class CustomerValuePublic(BaseModel):
    """One customer's value as the run stored it (logs; empty without a purchase day)."""

    model_config = ConfigDict(extra="forbid")

    p_alive: float | None = Field(description="Probability of still being a customer.")
    expected_purchases: float | None = Field(description="Purchase days expected, 180 days.")
    expected_value: float | None = Field(description="Their expected spend, undiscounted.")
    clv: float | None = Field(description="The same, discounted at 10% a year.")
    churn_risk: str | None = Field(description="high, medium, low, or one-time.")


class HoldoutGroupPublic(BaseModel):
    """One group of the hold-out check: customers by repeat purchases before the hold-out."""

    model_config = ConfigDict(extra="forbid")

    repeat_purchases: str = Field(description="Repeat purchases before: 0, 1, ..., 6, 7+.")
    customers: int
    actual_mean: float = Field(description="Purchase days per customer in the hold-out.")
    predicted_mean: float = Field(description="The same, as BG/NBD expected it.")
    actual_total: float
    predicted_total: float


class HoldoutCheckPublic(BaseModel):
    """How well the purchases are predicted: BG/NBD learned up to the calibration end, its
    expectation beside the actual purchases of the hold-out; or only a note saying why not."""

    model_config = ConfigDict(extra="forbid")

    calibration_end: date
    holdout_start: date
    holdout_end: date
    holdout_weeks: float
    note: str | None = Field(default=None, description="Why there is no check, in words.")
    customers: int | None = None
    bgnbd: dict[str, float] | None = Field(default=None, description="Fitted before.")
    groups: list[HoldoutGroupPublic] = Field(default_factory=list)
    actual_total: float | None = None
    predicted_total: float | None = None


class RunValuePublic(BaseModel):
    """P(alive), expected purchases and value of a run's customers (BG/NBD + Gamma-Gamma)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "run": "rbed292851f21",
                    "customers": 2357,
                    "repeat_customers": 946,
                    "calibration_end": "1997-09-30",
                    "horizon_days": 180,
                    "discount_rate": 0.1,
                    "time_unit": "week",
                    "bgnbd": {"r": 0.2426, "alpha": 4.4135, "a": 0.7929, "b": 2.4258},
                    "gamma_gamma": {"p": 6.2496, "q": 3.7442, "v": 15.4435},
                    "expected_purchases": 1159.93,
                    "expected_value": 42062.59,
                    "clv": 40973.96,
                    "churn_risk": {"one-time": 1411, "medium": 454, "low": 291, "high": 201},
                    "segments": [
                        {
                            "segment": "Champions",
                            "customers": 493,
                            "expected_purchases": 787.99,
                            "expected_value": 30009.49,
                            "clv": 29236.73,
                            "p_alive_mean": 0.6521,
                            "likely_lapsed_share": 0.1805,
                        }
                    ],
                }
            ]
        },
    )

    run: str
    customers: int
    repeat_customers: int
    calibration_end: date
    horizon_days: int
    discount_rate: float
    time_unit: str
    bgnbd: dict[str, float] = Field(description="r, alpha, a, b (time in weeks).")
    gamma_gamma: dict[str, float] = Field(description="p, q, v.")
    expected_purchases: float
    expected_value: float
    clv: float
    churn_risk: dict[str, int] = Field(
        description="Customers per band: high, medium, low, one-time."
    )
    segments: list[SegmentValuePublic]
    holdout: HoldoutCheckPublic | None = Field(
        default=None, description="The hold-out check, when asked for (holdout=13w)."
    )
