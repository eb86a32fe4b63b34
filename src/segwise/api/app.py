"""The FastAPI app of ``segwise serve``: routes, key check, limits, metrics, error answers.

Every error is JSON ``{"detail": ...}`` with a 4xx status; segwise's own errors map to one
status each (``ERROR_STATUS``), request validation to 422 naming the field, and anything
else to a bare 500 whose traceback goes to the server log, never to the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match

from segwise import __version__
from segwise.api.deps import KeyRing
from segwise.api.limits import BodyLimit
from segwise.api.monitoring import Metrics, MetricsMiddleware
from segwise.api.reader import UploadReader
from segwise.api.routes import (
    alerts,
    audit,
    campaigns,
    customers,
    datasets,
    health,
    metrics,
    runs,
    schedules,
    value,
)
from segwise.api.worker import RunWorker, WorkerMode
from segwise.config import Settings, get_settings
from segwise.errors import (
    ConfigError,
    InputError,
    NotAllowedError,
    NotDoneError,
    NotFoundError,
    SegwiseError,
    SignInError,
)

log = logging.getLogger("segwise.api")

ERROR_STATUS: list[tuple[type[SegwiseError], int]] = [  # first match wins
    (SignInError, status.HTTP_401_UNAUTHORIZED),
    (NotAllowedError, status.HTTP_403_FORBIDDEN),
    (NotFoundError, status.HTTP_404_NOT_FOUND),
    (NotDoneError, status.HTTP_409_CONFLICT),
    (InputError, status.HTTP_422_UNPROCESSABLE_CONTENT),
    (ConfigError, status.HTTP_500_INTERNAL_SERVER_ERROR),
    (SegwiseError, status.HTTP_400_BAD_REQUEST),
]

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
PRELOADED = 16  # the models loaded at start-up: what the run predictor cache keeps

DESCRIPTION = """\
Customer segments over HTTP: upload a transaction log or a customer table, start a
segmentation run in the background, read its segments, look up a customer, and place new
customers in a run's segments in real time.

Every route but `/healthz`, `/docs` and `/openapi.json` needs header `X-API-Key`: a user's
key (`segwise keys create --user NAME`, with that user's role), or a script key from
`SEGWISE_API_KEYS` (role analyst) or `SEGWISE_API_READ_KEYS` (role viewer). Roles: viewer
reads runs and segments; analyst also uploads, runs, looks customers up and predicts; admin
also reads the audit log. A role too low answers 403. Errors are JSON `{"detail": "..."}`.
See docs/api.md.
"""


def create_app(settings: Settings | None = None, *, worker_mode: WorkerMode = "process") -> FastAPI:
    """A ready app for ``settings`` (default: the environment's); ``worker_mode="thread"``
    executes runs and reads uploads in threads of this process instead of worker processes
    (tests)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="segwise",
        version=__version__,
        description=DESCRIPTION,
        lifespan=_lifespan,
        redoc_url=None,  # /docs is the one documentation page
        openapi_tags=[
            {"name": "datasets", "description": "Upload and list datasets."},
            {"name": "runs", "description": "Segmentation runs, in the background."},
            {"name": "customers", "description": "Look up and predict customers."},
            {"name": "campaigns", "description": "Campaigns with a control group, read-outs."},
            {"name": "operations", "description": "Health and metrics."},
        ],
    )
    app.state.settings = settings
    app.state.keys = KeyRing.from_settings(settings)
    app.state.metrics = Metrics()
    app.state.worker = RunWorker(
        settings,
        mode=worker_mode,
        workers=settings.api_workers,
        started=app.state.metrics.run_started,
        finished=app.state.metrics.run_finished,
    )
    app.state.reader = UploadReader(settings, isolated=worker_mode == "process")
    routers = (datasets, runs, customers, value, campaigns, schedules, alerts, audit, health)
    for module in (*routers, metrics):
        app.include_router(module.router)
    app.add_exception_handler(SegwiseError, _segwise_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)
    origins = [o.strip() for o in settings.api_cors_origins.split(",") if o.strip()]
    if origins:  # off unless asked for: browsers on other sites get no access
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["X-API-Key", "Content-Type"],
        )
    app.add_middleware(BodyLimit, upload_mb=settings.max_upload_mb)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    from segwise import service

    settings: Settings = app.state.settings
    if not app.state.keys:
        log.warning("SEGWISE_API_KEYS is not set: only users' keys (segwise keys create) work")
    await run_in_threadpool(service.retention_at_start, settings)  # SEGWISE_RETENTION_DAYS
    runs = await run_in_threadpool(service.list_runs, settings=settings)  # interrupted -> failed
    preload = asyncio.create_task(_preload(runs, settings))  # answers never wait on it
    try:
        yield
    finally:
        preload.cancel()
        app.state.worker.shutdown()
        app.state.reader.shutdown()


async def _preload(runs: list[Any], settings: Settings) -> None:
    """Load the newest finished runs' models in a worker thread, so a first predict after a
    restart finds them in memory (as many as the predictor cache keeps)."""
    from segwise import service

    for run in [r for r in runs if r.status == "done"][:PRELOADED]:
        with contextlib.suppress(SegwiseError):  # a run without a model file: not ours to fix
            await run_in_threadpool(service.run_predictor, run.id, settings=settings)


def error_status(error: SegwiseError) -> int:
    """The HTTP status of one of segwise's errors."""
    return next(code for kind, code in ERROR_STATUS if isinstance(error, kind))


async def _segwise_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, SegwiseError)
    code = error_status(error)
    home = str(request.app.state.settings.home)
    text = " ".join(str(error).split()).replace(home, "$SEGWISE_HOME")  # no server paths
    body: dict[str, Any] = {"detail": text}
    if isinstance(error, InputError):
        body |= {k: v for k, v in (("column", error.column), ("row", error.row)) if v is not None}
    if code >= 500:
        log.error("%s %s: %s", request.method, request.url.path, error)
    return JSONResponse(body, status_code=code)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        {
            "loc": [p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
            "msg": _message(e),
            "type": str(e.get("type", "")),
        }
        for e in error.errors()
    ]
    return _invalid(errors)


def _invalid(errors: list[dict[str, Any]]) -> JSONResponse:
    """422 whose ``detail`` names the first bad field: ``body.k: k must be ...``."""
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"])
    detail = f"{where}: {first['msg']}" if where else str(first["msg"])
    return JSONResponse(
        {"detail": detail, "errors": errors}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
    )


async def _http_error(request: Request, error: Exception) -> Response:
    """FastAPI's answer, but a body it cannot decode (not UTF-8) is bad JSON like any other
    (422), and 405 has a true ``Allow``: Starlette lists the methods of the first route of
    the path only (POST for /v1/runs, which also has GET)."""
    assert isinstance(error, HTTPException)
    if error.status_code == status.HTTP_400_BAD_REQUEST:  # only FastAPI's body parsing
        reason = error.__cause__ or error.detail
        return _invalid(
            [{"loc": ["body"], "msg": f"invalid JSON: {reason}", "type": "json_invalid"}]
        )
    response = await http_exception_handler(request, error)
    if error.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
        allowed = [
            method
            for method in METHODS
            if any(
                route.matches({**request.scope, "method": method})[0] == Match.FULL
                for route in request.app.router.routes
            )
        ]
        response.headers["Allow"] = ", ".join(allowed)
    return response


def _message(error: dict[str, Any]) -> str:
    """Pydantic's message; for bad JSON, what is wrong and where (FastAPI says only 'JSON
    decode error')."""
    if error.get("type") == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "not JSON")
        return f"invalid JSON: {reason} (character {error.get('loc', ('', '?'))[-1]})"
    return str(error.get("msg", ""))


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    log.error("%s %s failed", request.method, request.url.path, exc_info=error)
    return JSONResponse(
        {"detail": "internal error: the server log has the details"},
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )
