"""``GET /metrics``: Prometheus text format; needs a key like every other data route."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from segwise.api.deps import MetricsDep, ReadAccess
from segwise.api.routes import errors

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    dependencies=[ReadAccess],
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Metrics."},
        **errors(401),
    },
    summary="Prometheus metrics",
)
def read_metrics(metrics: MetricsDep) -> Response:
    """Requests by route and status, latency histogram, predictions per segment, run
    durations, runs in progress (any key, read-only included)."""
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
