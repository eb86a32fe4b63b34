"""One router per resource; each route parses, calls one service function, shapes the answer."""

from __future__ import annotations

from typing import Any

from segwise.api.schemas import ErrorPublic


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses a route may answer, all ``ErrorPublic``."""
    meaning = {
        401: "Missing or unknown API key.",
        403: "The key's role does not allow this (viewer < analyst < admin).",
        404: "No such run or customer.",
        409: "The run is not done (queued, running or failed).",
        413: "The body is over the size limit.",
        422: "The request or its content is invalid; `detail` names the field.",
    }
    return {code: {"model": ErrorPublic, "description": meaning[code]} for code in codes}
