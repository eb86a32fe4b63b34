"""``/v1/runs/{run_id}/value``: what a run's customers are worth, per segment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from segwise import service
from segwise.api.deps import ReadAccess, SettingsDep
from segwise.api.routes import errors
from segwise.api.routes.runs import RunId
from segwise.api.value_schemas import RunValuePublic

router = APIRouter(prefix="/v1/runs/{run_id}", tags=["value"], dependencies=[ReadAccess])


@router.get(
    "/value",
    response_model=RunValuePublic,
    responses=errors(401, 404, 409, 422),
    summary="A run's customer value",
)
async def run_value(
    run_id: RunId,
    settings: SettingsDep,
    horizon: Annotated[
        str, Query(max_length=12, description="Days (180d) or weeks (26w) ahead.")
    ] = "180d",
    calibration_end: Annotated[
        str | None, Query(max_length=10, description="YYYY-MM-DD; default the last day.")
    ] = None,
    discount_rate: Annotated[
        float, Query(ge=0, lt=1, description="Annual, for clv, e.g. 0.1.")
    ] = 0.0,
    holdout: Annotated[
        str | None,
        Query(
            max_length=12,
            description="Also check the predictions on a hold-out, e.g. 13w: the weeks after "
            "calibration_end, else the last weeks of the log.",
        ),
    ] = None,
) -> RunValuePublic:
    """BG/NBD + Gamma-Gamma fitted on the run's log: the models, totals, churn-risk bands and
    per segment of the run the customers, expected purchases and value, CLV, mean P(alive)
    and share likely lapsed. Only runs on transaction logs; 422 when the log cannot support
    the models (too few repeat customers, shorter than the horizon, no convergence). With
    ``holdout``, also ``holdout``: predicted beside actual repeat purchases in the hold-out
    per group of customers, or a ``note`` when the log cannot support the check."""
    options = service.value_options(horizon, calibration_end, discount_rate, holdout)
    found = await run_in_threadpool(service.run_value, run_id, options, settings=settings)
    return RunValuePublic.model_validate(found.summary() | {"run": run_id})
