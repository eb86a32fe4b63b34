"""``/v1/runs``: start a segmentation in the background, poll it, read its segments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from segwise import service
from segwise.api.deps import ReadAccess, RunAccess, SettingsDep, WorkerDep
from segwise.api.routes import errors
from segwise.api.schemas import RunCreate, RunDetail, RunPublic, RunQueued, SegmentPublic

router = APIRouter(prefix="/v1/runs", tags=["runs"])

RunId = Annotated[
    str,
    Path(max_length=64, description="A run id from `POST /v1/runs`.", examples=["rbed292851f21"]),
]


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RunQueued,
    dependencies=[RunAccess],
    responses=errors(401, 403, 413, 422),
    summary="Start a run",
)
def start_run(
    body: RunCreate, settings: SettingsDep, worker: WorkerDep, response: Response
) -> RunQueued:
    """Record a segmentation of a stored dataset and start it in the background; poll
    `GET /v1/runs/{run_id}` until its status is `done` (or `failed`, with its error)."""
    options = service.SegmentOptions(
        k=body.k,
        features=body.features,
        outcomes=body.outcomes,
        k_max=body.k_max,
        k_min=body.k_min,
        min_share=body.min_share,
        seed=body.seed,
        value=body.value,
        rfm=service.RfmOptions(as_of=body.as_of, bins=body.bins),
    )
    run = service.start_run(body.dataset, options, classifier=body.classifier, settings=settings)
    worker.submit(run.id)
    response.headers["Location"] = f"{router.prefix}/{run.id}"
    return RunQueued(id=run.id, status="queued")


@router.get(
    "",
    response_model=list[RunPublic],
    dependencies=[ReadAccess],
    responses=errors(401),
    summary="List runs",
)
def list_runs(settings: SettingsDep) -> list[RunPublic]:
    """Every run, newest first; runs whose process died are reported failed."""
    return [RunPublic.model_validate(r.to_dict()) for r in service.list_runs(settings=settings)]


@router.get(
    "/{run_id}",
    response_model=RunDetail,
    dependencies=[ReadAccess],
    responses=errors(401, 404, 422),
    summary="A run's status and summary",
)
def get_run(run_id: RunId, settings: SettingsDep) -> RunDetail:
    """Status (queued, running, done, failed), and once done k, the segmentation summary and
    the classifier's hold-out scores."""
    return RunDetail.model_validate(service.get_run(run_id, settings=settings).to_dict(full=True))


@router.get(
    "/{run_id}/segments",
    response_model=list[SegmentPublic],
    dependencies=[ReadAccess],
    responses=errors(401, 404, 409, 422),
    summary="A run's segments",
)
def run_segments(run_id: RunId, settings: SettingsDep) -> list[SegmentPublic]:
    """Each segment's name, size, share, profile and recommendation (409 until done)."""
    found = service.run_segments(run_id, settings=settings)
    return [SegmentPublic.model_validate(s) for s in found]
