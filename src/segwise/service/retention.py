"""Use case: delete datasets and runs older than SEGWISE_RETENTION_DAYS (``segwise retention
run`` from cron, and at start-up of the API and the dashboard).

A dataset past the limit goes with every run made from it (a run cannot outlive its data);
a run past the limit goes alone. Uploaded copies past the limit go too. The audit log and
the erasure list stay: they hold no customer data.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from segwise.config import Settings, get_settings
from segwise.errors import ConfigError
from segwise.service.audit import record_event
from segwise.service.datasets import open_catalog
from segwise.store.catalog import Dataset, ModelRow, Run, now
from segwise.store.lake import side_files


@dataclass(frozen=True)
class RetentionReport:
    """What a retention pass deleted, and the cut-off it used."""

    cutoff: datetime
    datasets: list[str]
    runs: list[str]
    uploads: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "cutoff": self.cutoff.isoformat(timespec="seconds"),
            "datasets": self.datasets,
            "runs": self.runs,
            "uploads": self.uploads,
        }


def run_retention(*, days: int | None = None, settings: Settings | None = None) -> RetentionReport:
    """Delete what is older than ``days`` (default SEGWISE_RETENTION_DAYS) and record it."""
    settings = settings or get_settings()
    days = days if days is not None else settings.retention_days
    if days is None or days < 1:
        raise ConfigError(
            "no retention period: set SEGWISE_RETENTION_DAYS (e.g. 365) or pass --days"
        )
    cutoff = now() - timedelta(days=days)
    catalog = open_catalog(settings)
    gone_runs: list[str] = []
    gone_sets: list[str] = []
    folders = []
    with catalog.session() as s:
        old_sets = list(s.scalars(select(Dataset).where(Dataset.created < cutoff)))
        old_ids = [d.id for d in old_sets]
        runs = s.scalars(select(Run).where((Run.created < cutoff) | Run.dataset_id.in_(old_ids)))
        for run in runs:
            if run.status in ("queued", "running") and run.dataset_id not in old_ids:
                continue  # at work now: the next pass takes it
            gone_runs.append(run.id)
            if run.path:
                folders.append(settings.home / run.path)
        if gone_runs:
            s.execute(delete(ModelRow).where(ModelRow.run_id.in_(gone_runs)))
            for run in s.scalars(select(Run).where(Run.id.in_(gone_runs))):
                s.delete(run)  # its segments go with it
        for dataset in old_sets:
            gone_sets.append(dataset.id)
            path = settings.home / dataset.path
            folders += [path, *side_files(path)]
            s.delete(dataset)
    for path in folders:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    uploads = _old_uploads(settings, cutoff)
    report = RetentionReport(cutoff, gone_sets, gone_runs, uploads)
    record_event(
        "retention.run",
        f"{days} days",
        {"datasets": len(gone_sets), "runs": len(gone_runs), "uploads": uploads},
        settings=settings,
    )
    return report


def retention_at_start(settings: Settings | None = None) -> RetentionReport | None:
    """A retention pass when SEGWISE_RETENTION_DAYS is set (the servers call it on start)."""
    settings = settings or get_settings()
    if settings.retention_days is None:
        return None
    return run_retention(settings=settings)


def _old_uploads(settings: Settings, cutoff: datetime) -> int:
    count = 0
    folder = settings.home / "uploads"
    for path in folder.rglob("*") if folder.is_dir() else []:
        if path.is_file() and datetime.fromtimestamp(path.stat().st_mtime, UTC) < cutoff:
            path.unlink(missing_ok=True)
            count += 1
    return count
