"""``/v1/datasets``: upload a file (streamed to disk, size-limited) and list what is stored."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, status

from segwise import service
from segwise.api.deps import ReadAccess, SettingsDep, UploadAccess
from segwise.api.routes import errors
from segwise.api.schemas import DatasetPublic
from segwise.api.upload import OPENAPI_BODY, receive_upload, upload_folder

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=DatasetPublic,
    dependencies=[UploadAccess],
    responses=errors(401, 403, 413, 422),
    openapi_extra=OPENAPI_BODY,
    summary="Upload a dataset",
)
async def upload_dataset(
    request: Request,
    settings: SettingsDep,
    name: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Default: the file name.")
    ] = None,
    kind: Annotated[
        Literal["auto", "transactions", "customers"],
        Query(description="`auto` tells a log from a customer table."),
    ] = "auto",
) -> DatasetPublic:
    """Store a transaction log or a customer table (multipart field `file`); the same
    content gives the same dataset id, so uploading twice stores once."""
    with upload_folder(settings) as folder:
        path = await receive_upload(request, folder)
        found = await request.app.state.reader.ingest(path, name=name, kind=kind)
    return DatasetPublic.model_validate(found.to_dict())


@router.get(
    "",
    response_model=list[DatasetPublic],
    dependencies=[ReadAccess],
    responses=errors(401),
    summary="List datasets",
)
def list_datasets(settings: SettingsDep) -> list[DatasetPublic]:
    """Every stored dataset, newest first."""
    return [DatasetPublic.model_validate(d.to_dict()) for d in service.list_datasets(settings)]
