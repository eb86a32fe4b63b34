"""A run's customers: look one up, and place new ones in its segments from memory."""

from __future__ import annotations

import json
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, BackgroundTasks, Path, Response
from starlette.concurrency import run_in_threadpool

from segwise import service
from segwise.api.customer_schemas import (
    CustomerPublic,
    FeatureSpecPublic,
    Prediction,
    PredictRequest,
)
from segwise.api.deps import LookupAccess, MetricsDep, PredictAccess, ReadAccess, SettingsDep
from segwise.api.routes import errors
from segwise.api.routes.runs import RunId

INLINE_ROWS = 256
"""Predict requests up to this many customers are answered on the event loop (one customer
takes ~1 ms, less than a hop to the thread pool); bigger ones in a thread, so a batch never
holds up single customers."""

router = APIRouter(prefix="/v1/runs/{run_id}", tags=["customers"])

CustomerId = Annotated[
    str, Path(min_length=1, max_length=200, description="As in the data.", examples=["12007"])
]


@router.get(
    "/customers/{customer_id}",
    response_model=CustomerPublic,
    dependencies=[LookupAccess],
    responses=errors(401, 403, 404, 409, 422),
    summary="Look up a customer",
)
def lookup_customer(
    run_id: RunId, customer_id: CustomerId, settings: SettingsDep
) -> CustomerPublic:
    """Segment, name and advice; features and the customer's percentile in each; RFM scores,
    purchases by month and top products for logs. A pseudonymised dataset takes the real id."""
    found = service.lookup_customer(run_id, customer_id, settings=settings)
    return CustomerPublic.model_validate(found)


@router.get(
    "/features",
    response_model=dict[str, FeatureSpecPublic],
    dependencies=[ReadAccess],
    responses=errors(401, 404, 409, 422),
    summary="What predict takes",
)
def model_features(run_id: RunId, settings: SettingsDep) -> dict[str, FeatureSpecPublic]:
    """The columns `predict` needs, each with its kind and the answers or range seen."""
    features = service.run_predictor(run_id, settings=settings).manifest.features
    return {name: FeatureSpecPublic.model_validate(spec) for name, spec in features.items()}


@router.post(
    "/predict",
    response_model=list[Prediction],
    dependencies=[PredictAccess],
    responses=errors(401, 403, 404, 409, 413, 422),
    summary="Place customers in a run's segments",
)
async def predict(
    run_id: RunId,
    body: PredictRequest,
    settings: SettingsDep,
    metrics: MetricsDep,
    background: BackgroundTasks,
) -> Response:
    """One answer per customer, in order: segment, its name, the model's probability and
    the recommendation. The run's model is loaded once and kept in memory; the first load
    happens in a worker thread, so the server keeps answering meanwhile. The audit log
    records how many customers were placed, after the answer is sent."""
    predictor = await run_in_threadpool(service.run_predictor, run_id, settings=settings)
    rows = pd.DataFrame.from_records(body.customers)
    if len(rows) <= INLINE_ROWS:
        placed = predictor.predict(rows)
    else:
        placed = await run_in_threadpool(predictor.predict, rows)
    metrics.count_predictions(run_id, placed["segment_name"])
    actor = service.current_actor()
    detail = {"customers": len(placed)}
    background.add_task(
        service.record_event, "predict", run_id, detail, actor=actor, settings=settings
    )
    return Response(predictions_json(placed), media_type="application/json")


def predictions_json(placed: pd.DataFrame) -> str:
    """The columns of ``Prediction`` as a JSON list, the fastest way for each size."""
    columns = list(Prediction.model_fields)
    if len(placed) > INLINE_ROWS:  # pandas writes big frames ~2.5x faster than json.dumps
        return str(placed[columns].to_json(orient="records", double_precision=6))
    values = [placed[c].tolist() for c in columns]
    return json.dumps([dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)])
