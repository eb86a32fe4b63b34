"""``GET /v1/audit``: the audit log, for admins (keys of admin users)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from segwise import service
from segwise.api.deps import AuditAccess, SettingsDep
from segwise.api.routes import errors

router = APIRouter(prefix="/v1/audit", tags=["operations"])


class AuditEventPublic(BaseModel):
    """One audit event: when, who, what, to what, counts, from where."""

    model_config = ConfigDict(extra="forbid")

    at: datetime
    actor: str = Field(examples=["amina"])
    action: str = Field(examples=["customer.lookup"])
    target: str | None = Field(examples=["customer:4807dd05277d3784"])
    detail: dict[str, Any] = Field(description="Counts and ids, never customers' data.")
    address: str | None = Field(examples=["192.168.1.20"])


@router.get(
    "",
    response_model=list[AuditEventPublic],
    dependencies=[AuditAccess],
    responses=errors(401, 403, 422),
    summary="The audit log",
)
def read_audit(
    settings: SettingsDep,
    since: Annotated[date | None, Query(description="From this day on (YYYY-MM-DD).")] = None,
    user: Annotated[
        str | None, Query(max_length=120, description="Only what this account did.")
    ] = None,
) -> list[AuditEventPublic]:
    """Who did what and when, oldest first: sign-ins (and refused keys), uploads, runs,
    exports, customer look-ups (a keyed hash of the id), predictions (counts), erasures,
    account changes. Admins only."""
    found = service.audit_events(since=since, user=user, settings=settings)
    return [AuditEventPublic.model_validate(e.to_dict()) for e in found]
