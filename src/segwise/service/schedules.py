"""Use cases: schedules — a source re-segmented every day, week or month with the previous
run's segments, compared with it, and alerted on (``service/alerts.py``).

``run_due`` is the one call for cron or a systemd timer: each due schedule claims its period
(the lock), ingests the source, runs ``--like`` its previous run, compares, records the
outcome and the next due time. A failure is recorded and alerted and never stops the others.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from segwise.config import Settings, get_settings
from segwise.errors import InputError
from segwise.features.rfm import RfmOptions
from segwise.segment.thresholds import Finding, Thresholds
from segwise.service.datasets import open_catalog
from segwise.service.segments import SegmentOptions
from segwise.store import schedules as store
from segwise.store.catalog import now

Every = Literal["day", "week", "month"]
EVERY = ("day", "week", "month")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$")
COLUMN_ROLES = ("customer", "date", "invoice", "amount", "quantity", "price")


@dataclass(frozen=True)
class ScheduleInfo:
    """A schedule as the shells show it (a webhook only by its host: paths carry tokens)."""

    name: str
    source: str
    every: str
    like: str | None
    options: dict[str, Any]
    thresholds: dict[str, float]
    webhook: str | None
    email: str | None
    next_due: datetime
    last_run: str | None
    created: datetime

    @classmethod
    def of(cls, row: store.ScheduleRow) -> ScheduleInfo:
        from segwise.service.notify import shown_url
        from segwise.service.sources import describe_input

        return cls(
            name=row.name,
            source=describe_input(row.source, table=row.source_table, query=row.source_query),
            every=row.every,
            like=row.like,
            options=dict(row.options),
            thresholds=dict(row.thresholds),
            webhook=shown_url(row.webhook) if row.webhook else None,
            email=row.email,
            next_due=_utc(row.next_due),
            last_run=row.last_run_id,
            created=_utc(row.created),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "every": self.every,
            "like": self.like,
            "options": self.options,
            "thresholds": self.thresholds,
            "webhook": self.webhook,
            "email": self.email,
            "next_due": self.next_due.isoformat(timespec="seconds"),
            "last_run": self.last_run,
            "created": self.created.isoformat(timespec="seconds"),
        }


@dataclass(frozen=True)
class ScheduleOutcome:
    """What one due schedule did: done, unchanged (no new data), failed, or skipped (held
    by another process, or done already in this period)."""

    schedule: str
    period: str
    status: str
    run: str | None = None
    previous_run: str | None = None
    findings: list[Finding] = field(default_factory=list)
    measures: dict[str, Any] = field(default_factory=dict)
    delivery: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schedule": self.schedule,
            "period": self.period,
            "status": self.status,
            "run": self.run,
            "previous_run": self.previous_run,
            "alerts": [f.to_dict() for f in self.findings],
            "measures": self.measures,
            "delivery": self.delivery,
            "error": self.error,
        }


def add_schedule(
    name: str,
    source: str,
    *,
    every: str,
    table: str | None = None,
    query: str | None = None,
    like: str | None = None,
    options: SegmentOptions | None = None,
    thresholds: dict[str, float | None] | None = None,
    webhook: str | None = None,
    email: str | None = None,
    settings: Settings | None = None,
) -> ScheduleInfo:
    """Store a schedule, due at once (the next ``run_due`` runs it); analysts and admins."""
    from segwise.service.audit import record_event, require
    from segwise.service.notify import check_addresses, check_webhook
    from segwise.service.runs import done_run

    require("run")
    settings = settings or get_settings()
    name = " ".join(name.split())
    if not NAME.match(name):
        raise InputError(
            f"schedule name '{name[:100]}' is not allowed",
            hint="use up to 100 letters, digits, spaces, dots, dashes or underscores",
        )
    if every not in EVERY:
        raise InputError(f"--every '{every}' is unknown", hint="use day, week or month")
    options = options or SegmentOptions()
    own = {k: float(v) for k, v in (thresholds or {}).items() if v is not None}
    Thresholds(**own)  # checked once, here; the schedule keeps only what it sets
    catalog = open_catalog(settings)
    if like is not None and like != "latest":
        like = done_run(catalog, like).id
    row = store.ScheduleRow(
        id="s" + secrets.token_hex(6),
        name=name,
        source=_source(source, table, query),
        source_table=table,
        source_query=query,
        every=every,
        like=like,
        options=_stored_options(options),
        thresholds=own,
        webhook=check_webhook(webhook) if webhook else None,
        email=", ".join(check_addresses(email)) if email else None,
        next_due=now(),
        created=now(),
    )
    store.add_schedule(catalog, row)
    record_event("schedule.add", name, {"every": every}, settings=settings)
    return ScheduleInfo.of(row)


def list_schedules(*, settings: Settings | None = None) -> list[ScheduleInfo]:
    """Every schedule, by name (viewers may read)."""
    from segwise.service.audit import require

    require("read")
    return [ScheduleInfo.of(r) for r in store.schedules(open_catalog(settings))]


def remove_schedule(name: str, *, settings: Settings | None = None) -> ScheduleInfo:
    """Delete a schedule (its runs and alerts stay); analysts and admins."""
    from segwise.service.audit import record_event, require

    require("run")
    settings = settings or get_settings()
    row = store.remove_schedule(open_catalog(settings), " ".join(name.split()))
    record_event("schedule.remove", row.name, settings=settings)
    return ScheduleInfo.of(row)


def run_due(
    at: datetime | str | None = None, *, settings: Settings | None = None
) -> list[ScheduleOutcome]:
    """Run every schedule due at ``at`` (default now), one after the other."""
    from segwise.service.audit import record_event, require
    from segwise.service.schedule_run import run_period

    require("run")
    settings = settings or get_settings()
    moment = parse_moment(at)
    catalog = open_catalog(settings)
    outcomes = []
    for row in store.due_schedules(catalog, moment):
        period = period_of(moment, row.every)
        claim = store.claim_period(
            catalog,
            row.id,
            period,
            "p" + secrets.token_hex(6),
            timedelta(hours=settings.schedule_lock_hours),
        )
        if claim is None:
            outcomes.append(ScheduleOutcome(row.name, period, "skipped"))
            continue
        outcome = run_period(row, claim.id, period, settings)
        store.update_schedule(catalog, row.id, next_due=next_start(moment, row.every))
        record_event(
            "schedule.run",
            row.name,
            {
                "period": period,
                "status": outcome.status,
                "run": outcome.run,
                "alerts": len(outcome.findings),
            },
            settings=settings,
        )
        outcomes.append(outcome)
    return outcomes


def segment_options(stored: dict[str, Any]) -> SegmentOptions:
    """The segment options a schedule recorded, as the run takes them."""
    columns = {role: stored.get("columns", {}).get(role) for role in COLUMN_ROLES}
    return SegmentOptions(
        kind=stored.get("kind", "auto"),
        features=stored.get("features"),
        k=stored.get("k", "auto"),
        k_max=int(stored.get("k_max", 10)),
        seed=int(stored.get("seed", 0)),
        rfm=RfmOptions(columns=columns, date_format=stored.get("date_format")),
    )


def parse_moment(at: datetime | str | None) -> datetime:
    """``at`` as an aware UTC time: now when None; ISO date or date-time text (UTC if no zone)."""
    if at is None:
        return now()
    if isinstance(at, str):
        text = at.strip()
        try:
            at = datetime.fromisoformat(text)
        except ValueError:
            raise InputError(
                f"--now '{text[:40]}' is not an ISO date or time",
                hint="write it as 2026-12-01 or 2026-12-01T06:00",
            ) from None
    return _utc(at)


def period_of(at: datetime, every: str) -> str:
    """The period ``at`` falls in: 2026-12-01 (day), 2026-W49 (ISO week), 2026-12 (month)."""
    if every == "day":
        return at.date().isoformat()
    if every == "week":
        year, week, _ = at.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{at.year}-{at.month:02d}"


def next_start(at: datetime, every: str) -> datetime:
    """The start (00:00 UTC) of the period after the one ``at`` falls in."""
    day = at.date()
    if every == "day":
        start = day + timedelta(days=1)
    elif every == "week":
        start = day + timedelta(days=7 - day.weekday())
    else:
        start = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return datetime(start.year, start.month, start.day, tzinfo=UTC)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _source(source: str, table: str | None, query: str | None) -> str:
    """The source as stored: a database URL without a password, or an absolute path."""
    from segwise.service.sources import is_database_input

    text = source.strip()
    if is_database_input(text):
        from sqlalchemy.engine import make_url

        if make_url(text).password is not None:
            raise InputError(
                "a scheduled database URL may not carry its password (it would be stored)",
                hint="drop it from the URL and let the driver find it, e.g. PGPASSWORD or "
                "~/.pgpass for PostgreSQL, an option file for MySQL",
            )
        if (table is None) == (query is None):
            raise InputError("a database source needs --table or --query", hint="give one")
        return text
    if table is not None or query is not None:
        raise InputError(
            "--table and --query read from a database",
            hint="give a database URL as the source, e.g. postgresql://me@db/shop",
        )
    path = Path(text).expanduser()
    path = path if path.is_absolute() else Path.cwd() / path
    if not any(c in text for c in "*?[") and not path.exists():
        raise InputError(
            f"source '{text}' does not exist", hint="give the file or folder the exports land in"
        )
    return str(path)


def _stored_options(options: SegmentOptions) -> dict[str, Any]:
    return {
        "kind": options.kind,
        "features": options.features,
        "k": options.k,
        "k_max": options.k_max,
        "seed": options.seed,
        "columns": {k: v for k, v in dict(options.rfm.columns or {}).items() if v},
        "date_format": options.rfm.date_format,
    }
