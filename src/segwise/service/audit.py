"""Use cases: who is acting (the actor of this request, session or command), what they may
do, and the audit log of what they did.

The shells say once who is acting (``acting_as``): the CLI is the machine's own user, an
admin; the API the owner of the request's key; the dashboard the signed-in user. The use
cases then check roles (``require``) and record events (``record_event``) themselves, so
every shell is audited the same way and none checks a role on its own.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Literal

from segwise.config import Settings, get_settings
from segwise.errors import InputError, NotAllowedError
from segwise.store.accounts import ROLES, Accounts, Role
from segwise.store.catalog import Catalog

Via = Literal["cli", "password", "key", "script", "local"]


@dataclass(frozen=True)
class Actor:
    """Who is acting: a name (user, ``script key``, ``cli:<os user>``), a role, how they
    proved it, and the client address when there is one."""

    name: str
    role: Role
    via: Via
    address: str | None = None

    def can(self, role: Role) -> bool:
        """Whether this actor has ``role`` or a higher one (viewer < analyst < admin)."""
        return ROLES.index(self.role) >= ROLES.index(role)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "via": self.via}


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        return "unknown"


CLI_ACTOR = Actor(name=f"cli:{_os_user()}", role="admin", via="cli")
"""The machine's own user running a command: it owns SEGWISE_HOME, so it may do anything."""

_ACTOR: ContextVar[Actor] = ContextVar("segwise_actor", default=CLI_ACTOR)


def current_actor() -> Actor:
    """Who is acting in this request, session or command."""
    return _ACTOR.get()


def set_actor(actor: Actor) -> None:
    """Act as ``actor`` from now on in this context (a request's task, a session's rerun)."""
    _ACTOR.set(actor)


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Act as ``actor`` inside the block."""
    token = _ACTOR.set(actor)
    try:
        yield actor
    finally:
        _ACTOR.reset(token)


ACTION_NEEDS: dict[str, Role] = {
    "read": "viewer",  # segments, reports, runs
    "upload": "analyst",
    "run": "analyst",
    "export": "analyst",
    "lookup": "analyst",
    "predict": "analyst",
    "audit": "admin",
    "users": "admin",
    "erase": "admin",
}
"""The least role each kind of action needs."""


def require(action: str) -> Actor:
    """The current actor, when their role allows ``action``; else NotAllowedError."""
    actor = current_actor()
    needed = ACTION_NEEDS[action]
    if not actor.can(needed):
        raise NotAllowedError(
            f"{actor.name} ({actor.role}) may not {action}: it needs the {needed} role; "
            "ask an admin"
        )
    return actor


def allowed(action: str) -> bool:
    """Whether the current actor's role allows ``action`` (what a page or button shows)."""
    return current_actor().can(ACTION_NEEDS[action])


def accounts(settings: Settings | None = None) -> Accounts:
    """The account tables of the configured catalog."""
    settings = settings or get_settings()
    return Accounts(Catalog.open(settings.home, settings.database_url))


def record_event(
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    *,
    actor: Actor | None = None,
    settings: Settings | None = None,
) -> None:
    """Append an event by the current actor (or ``actor``) to the audit log: counts and
    ids, never customers' data."""
    who = actor or current_actor()
    accounts(settings).record(who.name, action, target, detail, who.address)


@dataclass(frozen=True)
class AuditEntry:
    """One audit event as the shells show it."""

    at: datetime
    actor: str
    action: str
    target: str | None
    detail: dict[str, Any] = field(default_factory=dict)
    address: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(timespec="seconds"),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "detail": self.detail,
            "address": self.address,
        }


def audit_events(
    *,
    since: str | date | None = None,
    user: str | None = None,
    settings: Settings | None = None,
) -> list[AuditEntry]:
    """The audit log, oldest first, from ``since`` (YYYY-MM-DD) and by ``user`` (admins)."""
    require("audit")
    start = _day(since)
    rows = accounts(settings).events(since=start, actor=user)
    return [
        AuditEntry(
            at=r.at,
            actor=r.actor,
            action=r.action,
            target=r.target,
            detail=r.detail,
            address=r.address,
        )
        for r in rows
    ]


def _day(value: str | date | None) -> datetime | None:
    from datetime import UTC

    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise InputError(
                f"--since '{value}' is not a date", hint="use YYYY-MM-DD, e.g. 2026-11-01"
            ) from None
    return datetime.combine(value, time(), tzinfo=UTC)
