"""``GET /healthz``: the process answers (no key needed, for load balancers)."""

from __future__ import annotations

from fastapi import APIRouter

from segwise import __version__
from segwise.api.schemas import Health

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, summary="Liveness")
def healthz() -> Health:
    """The server is up; answers without a key."""
    return Health(version=__version__)
