"""``/v1/campaigns``: campaigns with a control group, their audience and their read-out."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status

from segwise import service
from segwise.api.campaign_schemas import CampaignCreate, CampaignPublic, CampaignReportPublic
from segwise.api.deps import ExportAccess, ReadAccess, SettingsDep
from segwise.api.routes import errors

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"])

CampaignName = Annotated[
    str,
    Path(
        min_length=1,
        max_length=200,
        description="The campaign's name or id.",
        examples=["Dec win-back"],
    ),
]
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CampaignPublic,
    dependencies=[ExportAccess],
    responses=errors(401, 403, 404, 409, 422),
    summary="Create a campaign",
)
def create_campaign(
    body: CampaignCreate, settings: SettingsDep, response: Response
) -> CampaignPublic:
    """Take the customers of the chosen segments of a finished run and split them, once and
    for good, into treatment and control (stratified by segment, reproducible from `seed`)."""
    found = service.create_campaign(
        body.run,
        body.segments,
        name=body.name,
        control=body.control,
        start=body.start,
        message=body.message,
        seed=body.seed,
        settings=settings,
    )
    response.headers["Location"] = f"{router.prefix}/{found.id}"
    return CampaignPublic.model_validate(found.to_dict())


@router.get(
    "",
    response_model=list[CampaignPublic],
    dependencies=[ReadAccess],
    responses=errors(401),
    summary="List campaigns",
)
def list_campaigns(settings: SettingsDep) -> list[CampaignPublic]:
    """Every campaign, newest first."""
    found = service.list_campaigns(settings=settings)
    return [CampaignPublic.model_validate(c.to_dict()) for c in found]


@router.get(
    "/{name}",
    response_model=CampaignPublic,
    dependencies=[ReadAccess],
    responses=errors(401, 404, 422),
    summary="A campaign",
)
def get_campaign(name: CampaignName, settings: SettingsDep) -> CampaignPublic:
    """A campaign's run, segments, start, seed and group sizes."""
    return CampaignPublic.model_validate(service.get_campaign(name, settings=settings).to_dict())


@router.get(
    "/{name}/audience",
    dependencies=[ExportAccess],
    responses={
        200: {
            "description": "The treatment group: customer_id, segment, advice, value columns.",
            "content": {"text/csv": {}, MEDIA["xlsx"]: {}, "application/json": {}},
        },
        **errors(401, 404, 409, 422),
    },
    summary="A campaign's audience",
)
def campaign_audience(
    name: CampaignName,
    settings: SettingsDep,
    format: Annotated[
        Literal["csv", "xlsx", "json"], Query(description="csv (default), xlsx or json.")
    ] = "csv",
) -> Response:
    """The treatment group for the tool that sends the messages (control customers are
    never in it); CSV and XLSX are formula-safe."""
    frame = service.campaign_audience(name, settings=settings)
    if format == "json":
        return Response(frame.to_json(orient="records"), media_type="application/json")
    disposition = f'attachment; filename="audience.{format}"'
    return Response(
        service.table_bytes(frame, f".{format}"),
        media_type=MEDIA[format],
        headers={"Content-Disposition": disposition},
    )


@router.get(
    "/{name}/report",
    response_model=CampaignReportPublic,
    dependencies=[ReadAccess],
    responses=errors(401, 404, 409, 422),
    summary="A campaign's read-out",
)
def campaign_report(
    name: CampaignName,
    settings: SettingsDep,
    after: Annotated[
        str,
        Query(
            min_length=1,
            max_length=64,
            description="The dataset id of the log after the start (`POST /v1/datasets`).",
        ),
    ],
) -> CampaignReportPublic:
    """Treatment against control on the log after the start, per segment and overall: who
    bought again, spend per customer, change in RFM score, each uplift with its 95%
    interval; groups too small to tell say so."""
    found = service.campaign_report(name, after, files=False, settings=settings)
    return CampaignReportPublic.model_validate(json.loads(json.dumps(found.to_dict())))
