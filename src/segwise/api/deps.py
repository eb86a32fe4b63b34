"""What routes depend on: the app's settings, its run worker and metrics, and the API key check.

The dependencies are ``async`` although they never wait: FastAPI runs a plain ``def``
dependency in its thread pool, a hop that costs more than the work here.

Keys come from ``SEGWISE_API_KEYS`` (read-write) and ``SEGWISE_API_READ_KEYS`` (read-only).
Only their SHA-256 digests are kept once the app is made, and a presented key is compared
with every digest in constant time (``hmac.compare_digest``), so neither its length nor
which key it nearly matched leaks through timing.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader

from segwise.api.monitoring import Metrics
from segwise.api.worker import RunWorker
from segwise.config import Settings

Access = Literal["read", "write"]


@dataclass(frozen=True)
class KeyRing:
    """The digests of the configured keys and the access each grants."""

    digests: tuple[tuple[bytes, Access], ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        """Read-write keys from ``api_keys``, read-only ones from ``api_read_keys``."""
        found: list[tuple[bytes, Access]] = [
            (_digest(k), "write") for k in _split(settings.api_keys)
        ]
        found += [(_digest(k), "read") for k in _split(settings.api_read_keys)]
        return cls(tuple(found))

    def __bool__(self) -> bool:
        return bool(self.digests)

    def access(self, presented: str | None) -> Access | None:
        """The access a presented key grants, or None; every digest is compared every time."""
        if not presented:
            return None
        digest = _digest(presented)
        granted: Access | None = None
        for known, access in self.digests:
            if hmac.compare_digest(digest, known) and granted != "write":
                granted = access
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
    description="A key from SEGWISE_API_KEYS (read-write) or SEGWISE_API_READ_KEYS (read-only).",
)


def _check(request: Request, key: str | None, needed: Access) -> None:
    ring: KeyRing = request.app.state.keys
    granted = ring.access(key)
    if granted is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or unknown API key: send header X-API-Key"
            + ("" if ring else " (the server has no keys: set SEGWISE_API_KEYS)"),
        )
    if needed == "write" and granted != "write":
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "this API key is read-only; uploads and new runs need a key from SEGWISE_API_KEYS",
        )


async def read_access(request: Request, key: Annotated[str | None, Depends(_api_key)]) -> None:
    """Any configured key: read-only or read-write."""
    _check(request, key, "read")


async def write_access(request: Request, key: Annotated[str | None, Depends(_api_key)]) -> None:
    """A read-write key (uploads, new runs)."""
    _check(request, key, "write")


SettingsDep = Annotated[Settings, Depends(app_settings)]
WorkerDep = Annotated[RunWorker, Depends(app_worker)]
MetricsDep = Annotated[Metrics, Depends(app_metrics)]
ReadAccess = Depends(read_access)
WriteAccess = Depends(write_access)
