"""``GET /v1/alerts``: the alerts raised by scheduled runs, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from segwise import service
from segwise.api.deps import ReadAccess, SettingsDep
from segwise.api.routes import errors

router = APIRouter(prefix="/v1/alerts", tags=["schedules"])


class AlertPublic(BaseModel):
    """One alert: its schedule, kind, sentence, measure and threshold, and its delivery."""

    model_config = ConfigDict(extra="forbid")

    id: str
    schedule: str = Field(examples=["monthly"])
    kind: str = Field(examples=["psi"], description="psi, size_shift, worse_share or failed.")
    message: str = Field(examples=["recency drifted: PSI 0.412 (alert at 0.25)"])
    value: float | None
    threshold: float | None
    run: str | None
    delivery: dict[str, str] = Field(examples=[{"webhook": "sent"}])
    created: datetime


@router.get(
    "",
    response_model=list[AlertPublic],
    dependencies=[ReadAccess],
    responses=errors(401, 422),
    summary="List alerts",
)
def list_alerts(
    settings: SettingsDep,
    schedule: Annotated[
        str | None, Query(max_length=200, description="Only this schedule's alerts.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many.")] = 100,
) -> list[AlertPublic]:
    """Alerts of scheduled runs, newest first: drift, segment-size shifts, moves to worse
    segments and failed runs."""
    found = service.list_alerts(schedule=schedule, limit=limit, settings=settings)
    return [AlertPublic.model_validate(a.to_dict()) for a in found]
