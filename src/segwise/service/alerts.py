"""Use cases: the alerts of scheduled runs — which thresholds apply, what a comparison of two
runs crossed, delivering the findings (webhook, e-mail), keeping them in the catalog, listing."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from segwise.config import Settings, get_settings
from segwise.errors import SegwiseError
from segwise.segment.thresholds import (
    Finding,
    Thresholds,
    check_change,
    segment_standing,
    worse_share,
)
from segwise.service.datasets import open_catalog
from segwise.service.notify import check_addresses, post_webhook, send_email
from segwise.store.catalog import now
from segwise.store.schedules import AlertRow, ScheduleRow, add_alerts, alerts

MAX_LISTED = 1_000


@dataclass(frozen=True)
class AlertInfo:
    """One alert as the shells show it."""

    id: str
    schedule: str
    kind: str
    message: str
    value: float | None
    threshold: float | None
    run: str | None
    delivery: dict[str, str]
    created: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "schedule": self.schedule,
            "kind": self.kind,
            "message": self.message,
            "value": self.value,
            "threshold": self.threshold,
            "run": self.run,
            "delivery": self.delivery,
            "created": self.created.isoformat(timespec="seconds"),
        }


def schedule_thresholds(row: ScheduleRow, settings: Settings) -> Thresholds:
    """The settings' thresholds, with those the schedule sets in their place."""
    own = row.thresholds or {}
    return Thresholds(
        psi=float(own.get("psi", settings.alert_psi)),
        size_shift=float(own.get("size_shift", settings.alert_size_shift)),
        worse_share=float(own.get("worse_share", settings.alert_worse_share)),
    )


def change_findings(
    comparison: dict[str, Any],
    before: list[dict[str, Any]],
    after: list[dict[str, Any]],
    thresholds: Thresholds,
) -> tuple[list[Finding], dict[str, Any]]:
    """What a comparison of two runs (``compare_runs``) crossed, and the measures it took:
    the drift, the segment shares before and after, the share that moved to a worse segment
    (segments ordered by the earlier run's profiles)."""
    shares_before = {s["name"]: round(float(s["share"]), 4) for s in before}
    shares_after = {s["name"]: round(float(s["share"]), 4) for s in after}
    standing = segment_standing([s["profile"] for s in before])
    counts = np.asarray(comparison["migration"]["counts"], dtype=int)
    moved = None if standing is None or counts.size == 0 else worse_share(counts, standing)
    findings = check_change(comparison["drift"], shares_before, shares_after, moved, thresholds)
    measures = {
        "drift": comparison["drift"],
        "shares_before": shares_before,
        "shares_after": shares_after,
        "worse_share": None if moved is None else round(moved, 4),
        "customers": comparison["customers"],
        "thresholds": thresholds.to_dict(),
    }
    return findings, measures


def deliver_alerts(
    row: ScheduleRow,
    findings: list[Finding],
    context: dict[str, Any],
    settings: Settings,
) -> dict[str, str]:
    """Send the findings of one scheduled run, as one message per channel configured (the
    schedule's webhook / e-mail, else the settings'), and store them in the catalog."""
    if not findings:
        return {}
    payload = {
        "schedule": row.name,
        "alerts": [f.to_dict() for f in findings],
        **context,
        "at": now().isoformat(timespec="seconds"),
    }
    delivery: dict[str, str] = {}
    webhook = row.webhook or settings.alert_webhook
    if webhook:
        delivery["webhook"] = _attempt(lambda: post_webhook(webhook, payload, settings))
    email = row.email or settings.alert_email
    if email:
        lines = [f"- {f.message}" for f in findings]
        run, previous = context.get("run"), context.get("previous_run")
        lines = [f"Schedule '{row.name}' ({context.get('period')}):", *lines, ""]
        if run and previous:
            lines.append(f"See: segwise compare {previous} {run}")
        subject = f"segwise: {len(findings)} alert{'s' * (len(findings) > 1)} for '{row.name}'"
        delivery["email"] = _attempt(
            lambda: send_email(check_addresses(email), subject, "\n".join(lines), settings)
        )
    add_alerts(
        open_catalog(settings),
        [
            AlertRow(
                id="a" + secrets.token_hex(6),
                schedule=row.name,
                schedule_run_id=context.get("schedule_run"),
                run_id=context.get("run"),
                kind=f.kind,
                message=f.message,
                value=f.value,
                threshold=f.threshold,
                delivery=delivery,
                created=now(),
            )
            for f in findings
        ],
    )
    return delivery


def _attempt(send: Callable[[], str]) -> str:
    """A channel's delivery, whose bad setting (a webhook or address) fails in words."""
    try:
        return send()
    except SegwiseError as error:
        return f"failed: {error}"


def list_alerts(
    *, schedule: str | None = None, limit: int = 200, settings: Settings | None = None
) -> list[AlertInfo]:
    """Alerts of scheduled runs, newest first (of one schedule if asked); viewers may read."""
    from segwise.service.audit import require

    require("read")
    limit = max(1, min(int(limit), MAX_LISTED))
    rows = alerts(open_catalog(settings or get_settings()), schedule=schedule, limit=limit)
    return [
        AlertInfo(
            id=r.id,
            schedule=r.schedule,
            kind=r.kind,
            message=r.message,
            value=r.value,
            threshold=r.threshold,
            run=r.run_id,
            delivery=dict(r.delivery or {}),
            created=r.created,
        )
        for r in rows
    ]
