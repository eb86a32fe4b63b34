"""Queries on the schedule tables (``schema.ScheduleRow``, ``ScheduleRunRow``, ``AlertRow``).

A schedule's period is claimed by inserting its row in ``schedule_runs`` (unique per schedule
and period): the claim is the lock that keeps two cron invocations from running it at once,
and the row left behind makes a second call in the same period do nothing.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from segwise.errors import InputError, NotFoundError
from segwise.io.processes import alive
from segwise.store.catalog import Catalog, now
from segwise.store.schema import AlertRow, ScheduleRow, ScheduleRunRow

__all__ = [
    "AlertRow",
    "ScheduleRow",
    "ScheduleRunRow",
    "add_alerts",
    "add_schedule",
    "alerts",
    "claim_period",
    "due_schedules",
    "finish_period",
    "remove_schedule",
    "schedule",
    "schedule_runs",
    "schedules",
    "update_schedule",
]


def add_schedule(catalog: Catalog, row: ScheduleRow) -> None:
    """Store a new schedule (a taken name is refused)."""
    try:
        catalog.add(row)
    except IntegrityError:
        raise InputError(
            f"a schedule named '{row.name}' exists already",
            hint="choose another name, or `segwise schedule remove` the old one first",
        ) from None


def schedule(catalog: Catalog, name: str) -> ScheduleRow:
    """The schedule with this name or id."""
    with catalog.session() as s:
        query = select(ScheduleRow).where((ScheduleRow.name == name) | (ScheduleRow.id == name))
        found = s.scalars(query).first()
    if found is None:
        raise NotFoundError(f"no schedule '{name}'; list them with `segwise schedule list`")
    return found


def schedules(catalog: Catalog) -> list[ScheduleRow]:
    """Every schedule, by name."""
    with catalog.session() as s:
        return list(s.scalars(select(ScheduleRow).order_by(ScheduleRow.name)))


def due_schedules(catalog: Catalog, at: datetime) -> list[ScheduleRow]:
    """The schedules due at ``at``, the longest waiting first."""
    with catalog.session() as s:
        query = select(ScheduleRow).where(ScheduleRow.next_due <= at)
        return list(s.scalars(query.order_by(ScheduleRow.next_due, ScheduleRow.name)))


def update_schedule(catalog: Catalog, schedule_id: str, **values: Any) -> None:
    """Set fields of a schedule in one transaction."""
    with catalog.session() as s:
        row = s.get(ScheduleRow, schedule_id)
        if row is None:
            raise NotFoundError(f"no schedule '{schedule_id}'")
        for key, value in values.items():
            setattr(row, key, value)


def remove_schedule(catalog: Catalog, name: str) -> ScheduleRow:
    """Delete a schedule and its period records (its alerts stay, under its name)."""
    found = schedule(catalog, name)
    with catalog.session() as s:
        s.execute(delete(ScheduleRunRow).where(ScheduleRunRow.schedule_id == found.id))
        s.execute(delete(ScheduleRow).where(ScheduleRow.id == found.id))
    return found


def claim_period(
    catalog: Catalog, schedule_id: str, period: str, claim_id: str, stale_after: timedelta
) -> ScheduleRunRow | None:
    """Claim one period of a schedule for this process; None when another process holds it
    or it was done already. A claim left ``running`` by a process that is gone (on this
    host), or older than ``stale_after``, is taken over."""
    with catalog.session() as s:
        query = select(ScheduleRunRow).where(
            (ScheduleRunRow.schedule_id == schedule_id) & (ScheduleRunRow.period == period)
        )
        held = s.scalars(query).first()
        if held is not None:
            if held.status != "running" or not _stale(held, stale_after):
                return None
            s.delete(held)
    row = ScheduleRunRow(
        id=claim_id,
        schedule_id=schedule_id,
        period=period,
        status="running",
        comparison={},
        pid=os.getpid(),
        host=socket.gethostname(),
        started=now(),
    )
    try:
        catalog.add(row)
    except IntegrityError:
        return None  # another process claimed it between our read and our insert
    return row


def finish_period(catalog: Catalog, claim_id: str, **values: Any) -> None:
    """Record the outcome of a claimed period."""
    with catalog.session() as s:
        row = s.get(ScheduleRunRow, claim_id)
        if row is None:
            raise NotFoundError(f"no schedule run '{claim_id}'")
        for key, value in values.items():
            setattr(row, key, value)
        row.finished = now()


def schedule_runs(catalog: Catalog, schedule_id: str, limit: int = 50) -> list[ScheduleRunRow]:
    """The periods of a schedule, newest first."""
    with catalog.session() as s:
        query = select(ScheduleRunRow).where(ScheduleRunRow.schedule_id == schedule_id)
        query = query.order_by(ScheduleRunRow.started.desc()).limit(limit)
        return list(s.scalars(query))


def add_alerts(catalog: Catalog, rows: list[AlertRow]) -> None:
    """Store alerts in one transaction."""
    if rows:
        catalog.add(*rows)


def alerts(catalog: Catalog, *, schedule: str | None = None, limit: int = 200) -> list[AlertRow]:
    """Alerts, newest first; of one schedule (by name) if asked."""
    query = select(AlertRow)
    if schedule is not None:
        query = query.where(AlertRow.schedule == schedule)
    with catalog.session() as s:
        return list(s.scalars(query.order_by(AlertRow.created.desc(), AlertRow.id).limit(limit)))


def _stale(row: ScheduleRunRow, stale_after: timedelta) -> bool:
    started = row.started if row.started.tzinfo else row.started.replace(tzinfo=now().tzinfo)
    if now() - started > stale_after:
        return True
    if row.host == socket.gethostname() and row.pid is not None:
        return not alive(row.pid)
    return False
