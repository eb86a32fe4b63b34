"""``GET /v1/schedules``: the scheduled re-runs, their next due time and last run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from segwise import service
from segwise.api.deps import ReadAccess, SettingsDep
from segwise.api.routes import errors

router = APIRouter(prefix="/v1/schedules", tags=["schedules"])


class SchedulePublic(BaseModel):
    """A schedule: its source (a database URL without password), period and alerting."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(examples=["monthly"])
    source: str = Field(examples=["/srv/exports/sales-*.csv"])
    every: str = Field(examples=["month"])
    like: str | None = Field(description="The run the first scheduled run follows.")
    options: dict[str, Any] = Field(description="The segment options of every run.")
    thresholds: dict[str, float] = Field(
        description="Thresholds set on this schedule (the others come from the settings)."
    )
    webhook: str | None = Field(description="Scheme and host only.", examples=["https://x/…"])
    email: str | None
    next_due: datetime
    last_run: str | None
    created: datetime


@router.get(
    "",
    response_model=list[SchedulePublic],
    dependencies=[ReadAccess],
    responses=errors(401),
    summary="List schedules",
)
def list_schedules(settings: SettingsDep) -> list[SchedulePublic]:
    """Every schedule, by name (they are managed with `segwise schedule`)."""
    found = service.list_schedules(settings=settings)
    return [SchedulePublic.model_validate(s.to_dict()) for s in found]
