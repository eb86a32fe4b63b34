"""What routes depend on: the app's settings, its run worker and metrics, and who calls.

The dependencies are ``async`` although they rarely wait: FastAPI runs a plain ``def``
dependency in its thread pool, a hop that costs more than the work here.

A key is either a script key from ``SEGWISE_API_KEYS`` (role analyst) or
``SEGWISE_API_READ_KEYS`` (role viewer), kept only as SHA-256 digests and compared with
every digest in constant time (``hmac.compare_digest``), or a user's key (``sw_...``, made
by ``segwise keys create``) carrying that user's role. Each route depends on ``allow(action)``:
it finds the caller, makes them the actor of the request, and asks the service whether their
role allows the action (403 when not); the service records what they do in the audit log.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader
from starlette.concurrency import run_in_threadpool

from segwise import service
from segwise.api.monitoring import Metrics
from segwise.api.worker import RunWorker
from segwise.config import Settings

if TYPE_CHECKING:
    from segwise.service import Actor

SCRIPT_ROLES = (("api_keys", "analyst"), ("api_read_keys", "viewer"))
"""The role of each kind of script key: read-write keys are analysts, read-only ones viewers."""


@dataclass(frozen=True)
class KeyRing:
    """The digests of the configured script keys and the role each grants."""

    digests: tuple[tuple[bytes, str], ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        """Analyst keys from ``api_keys``, viewer keys from ``api_read_keys``."""
        found = [
            (_digest(k), role)
            for field, role in SCRIPT_ROLES
            for k in _split(str(getattr(settings, field)))
        ]
        return cls(tuple(found))

    def __bool__(self) -> bool:
        return bool(self.digests)

    def role(self, presented: str | None) -> str | None:
        """The role a presented key grants (the highest), or None; every digest is compared
        every time."""
        if not presented:
            return None
        digest = _digest(presented)
        granted: str | None = None
        for known, role in self.digests:
            if hmac.compare_digest(digest, known) and granted != "analyst":
                granted = role
        return granted


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.strip().encode()).digest()


async def app_settings(request: Request) -> Settings:
    """The settings the app was made with (tests give each app its own)."""
    settings: Settings = request.app.state.settings
    return settings


async def app_worker(request: Request) -> RunWorker:
    """The pool that executes queued runs."""
    worker: RunWorker = request.app.state.worker
    return worker


async def app_metrics(request: Request) -> Metrics:
    """The app's Prometheus metrics."""
    metrics: Metrics = request.app.state.metrics
    return metrics


_api_key = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="A user's key (`segwise keys create`), or a script key from SEGWISE_API_KEYS "
    "(analyst) or SEGWISE_API_READ_KEYS (viewer).",
)


async def caller(request: Request, key: str | None) -> Actor:
    """The actor a request's key stands for (401 when none), made the request's actor."""
    settings: Settings = request.app.state.settings
    ring: KeyRing = request.app.state.keys
    address = request.client.host if request.client else None
    actor: Actor | None = None
    role = ring.role(key)
    if key and role is not None:
        name = "script:" + _digest(key).hex()[:8]  # which script key, never the key
        actor = service.Actor(name=name, role=role, via="script", address=address)  # type: ignore[arg-type]
    elif key and key.startswith("sw_"):
        actor = await run_in_threadpool(service.key_actor, key, address=address, settings=settings)
    if actor is None:
        if key:  # a wrong key is worth a line in the audit log; no key at all is not
            await run_in_threadpool(_refused, address, settings)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or unknown API key: send header X-API-Key"
            + ("" if ring else " (make one with `segwise keys create` or set SEGWISE_API_KEYS)"),
        )
    service.set_actor(actor)
    return actor


def _refused(address: str | None, settings: Settings) -> None:
    anonymous = service.Actor(name="-", role="viewer", via="key", address=address)
    service.record_event("key.refused", actor=anonymous, settings=settings)


def allow(action: str) -> Callable[..., Awaitable[Actor]]:
    """A dependency: the caller, when their role allows ``action`` (401 / 403 otherwise)."""

    async def dependency(request: Request, key: Annotated[str | None, Depends(_api_key)]) -> Actor:
        actor = await caller(request, key)
        service.require(action)  # NotAllowedError: 403
        return actor

    dependency.__name__ = f"allow_{action}"
    return dependency


def _allowed(action: str) -> Any:
    return Depends(allow(action))


SettingsDep = Annotated[Settings, Depends(app_settings)]
WorkerDep = Annotated[RunWorker, Depends(app_worker)]
MetricsDep = Annotated[Metrics, Depends(app_metrics)]
ReadAccess = _allowed("read")
UploadAccess = _allowed("upload")
RunAccess = _allowed("run")
LookupAccess = _allowed("lookup")
ExportAccess = _allowed("export")
PredictAccess = _allowed("predict")
AuditAccess = _allowed("audit")
