"""Request body size limits, enforced while the body streams in (413 past them).

A declared ``Content-Length`` over the limit is refused before a byte is read; a chunked
body is counted as it arrives and refused at the first byte over. Uploads may reach
``SEGWISE_MAX_UPLOAD_MB`` (plus room for the multipart framing); every other body, JSON,
``MAX_JSON_MB``.
"""

from __future__ import annotations

import json

from fastapi import HTTPException, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_JSON_MB = 32
"""Largest JSON body (100k customers to predict is ~10 MB)."""
FRAMING = 64 * 1024
"""Bytes an upload body may hold beyond the file: multipart boundaries and part headers."""
UPLOAD_PATH = "/v1/datasets"

MB = 1024 * 1024


class BodyLimit:
    """Refuses request bodies over their route's limit with 413 and a JSON ``detail``."""

    def __init__(self, app: ASGIApp, *, upload_mb: int, json_mb: int = MAX_JSON_MB) -> None:
        self.app = app
        self.upload_mb = upload_mb
        self.json_mb = json_mb

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope["path"].rstrip("/") == UPLOAD_PATH
        limit = self.upload_mb * MB + FRAMING if upload else self.json_mb * MB
        what = (
            f"uploads are limited to {self.upload_mb} MB"
            if upload
            else (f"request bodies are limited to {self.json_mb} MB")
        )
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, what)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, what)
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, what: str) -> None:
    body = json.dumps({"detail": what}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status.HTTP_413_CONTENT_TOO_LARGE,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
