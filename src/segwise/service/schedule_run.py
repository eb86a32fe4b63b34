"""Use case step: one claimed period of a schedule — ingest the source, segment it like the
previous run, compare, alert — recorded whatever happens (a failure becomes an alert)."""

from __future__ import annotations

import logging
from typing import Any

from segwise.config import Settings
from segwise.errors import NotFoundError, SegwiseError
from segwise.segment.thresholds import Finding
from segwise.service.alerts import change_findings, deliver_alerts, schedule_thresholds
from segwise.service.datasets import open_catalog
from segwise.service.schedules import ScheduleOutcome, segment_options
from segwise.store import schedules as store
from segwise.store.catalog import Catalog, Run

log = logging.getLogger(__name__)


def run_period(
    row: store.ScheduleRow, claim_id: str, period: str, settings: Settings
) -> ScheduleOutcome:
    """Run one period of a schedule; any error is recorded on the period and alerted."""
    catalog = open_catalog(settings)
    context: dict[str, Any] = {"period": period, "schedule_run": claim_id}
    try:
        outcome = _run(row, period, settings, context)
    except Exception as error:  # a bug in one schedule must not stop the others either
        if not isinstance(error, SegwiseError):
            log.exception("schedule %s failed unexpectedly", row.name)
        message = " ".join(str(error).split())[:500] or type(error).__name__
        failed = Finding("failed", f"the scheduled run failed: {message}")
        store.finish_period(catalog, claim_id, status="failed", error=message)
        delivery = deliver_alerts(row, [failed], context, settings)
        return ScheduleOutcome(
            row.name,
            period,
            "failed",
            previous_run=context.get("previous_run"),
            findings=[failed],
            delivery=delivery,
            error=message,
        )
    store.finish_period(
        catalog,
        claim_id,
        status=outcome.status,
        run_id=outcome.run,
        previous_run_id=outcome.previous_run,
        dataset_id=context.get("dataset"),
        comparison=outcome.measures | {"alerts": [f.to_dict() for f in outcome.findings]},
    )
    return outcome


def _run(
    row: store.ScheduleRow, period: str, settings: Settings, context: dict[str, Any]
) -> ScheduleOutcome:
    from segwise.service.compare import compare_runs
    from segwise.service.results import run_segments
    from segwise.service.runs import run_segment
    from segwise.service.sources import ingest_input

    catalog = open_catalog(settings)
    options = segment_options(row.options)
    previous = _previous(catalog, row.last_run_id)
    context["previous_run"] = previous.id if previous else None
    dataset = ingest_input(
        row.source,
        table=row.source_table,
        query=row.source_query,
        name=row.name,
        kind=options.kind,
        options=options.rfm,
        settings=settings,
    )
    context["dataset"] = dataset.id
    if previous is not None and previous.dataset_id == dataset.id:
        return ScheduleOutcome(row.name, period, "unchanged", previous_run=previous.id)
    like = previous.id if previous is not None else row.like
    run, _ = run_segment(dataset.id, options, like=like, settings=settings)
    store.update_schedule(catalog, row.id, last_run_id=run.id)
    baseline = previous.id if previous is not None else run.params.get("like")
    context |= {"run": run.id, "previous_run": baseline}
    if baseline is None:  # the first run of a schedule without --like: nothing to compare
        return ScheduleOutcome(row.name, period, "done", run=run.id)
    comparison = compare_runs(baseline, run.id, settings=settings)
    findings, measures = change_findings(
        comparison,
        run_segments(baseline, settings=settings),
        run_segments(run.id, settings=settings),
        schedule_thresholds(row, settings),
    )
    delivery = deliver_alerts(row, findings, context, settings)
    return ScheduleOutcome(
        row.name,
        period,
        "done",
        run=run.id,
        previous_run=baseline,
        findings=findings,
        measures=measures,
        delivery=delivery,
    )


def _previous(catalog: Catalog, run_id: str | None) -> Run | None:
    """The schedule's last run, unless it was deleted since (retention): then none."""
    if run_id is None:
        return None
    try:
        return catalog.run(run_id)
    except NotFoundError:
        log.warning("run %s of a schedule is gone; the next run starts afresh", run_id)
        return None
