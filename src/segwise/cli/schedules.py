"""``segwise schedule`` and ``segwise alerts``: re-segment a source every day, week or month,
compare each run with the one before, and list the alerts raised."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from segwise.cli.main import (
    AmountFlag,
    CustomerFlag,
    DateFlag,
    DateFormatFlag,
    InvoiceFlag,
    PriceFlag,
    QuantityFlag,
    QueryFlag,
    TableFlag,
    app,
    column_flags,
    errors_exit_2,
)
from segwise.cli.segments import _columns, _parse_k

if TYPE_CHECKING:
    from segwise.service import ScheduleOutcome

schedule_app = typer.Typer(
    help="Re-run a segmentation every day, week or month, and alert on what changed.",
    no_args_is_help=True,
)
alerts_app = typer.Typer(help="Alerts raised by scheduled runs.", no_args_is_help=True)
app.add_typer(schedule_app, name="schedule")
app.add_typer(alerts_app, name="alerts")


@schedule_app.command("add")
@errors_exit_2
def add(
    name: Annotated[str, typer.Argument(help="The schedule's name (unique).")],
    source: Annotated[
        str, typer.Option(help="The file, folder or glob the exports land in, or a database URL.")
    ],
    every: Annotated[str, typer.Option(help="day, week or month.")],
    table: TableFlag = None,
    query: QueryFlag = None,
    like: Annotated[
        str | None,
        typer.Option(help="Follow this run's segments from the first run (a run id or latest)."),
    ] = None,
    kind: Annotated[str, typer.Option(help="auto, transactions or customers.")] = "auto",
    features: Annotated[
        str | None, typer.Option(help="Comma-separated columns to cluster on.")
    ] = None,
    k: Annotated[str, typer.Option("--k", help="auto, or a number of segments.")] = "auto",
    k_max: Annotated[int, typer.Option(help="Largest k tried by --k auto.")] = 10,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same segments).")] = 0,
    customer: CustomerFlag = None,
    date: DateFlag = None,
    invoice: InvoiceFlag = None,
    amount: AmountFlag = None,
    quantity: QuantityFlag = None,
    price: PriceFlag = None,
    date_format: DateFormatFlag = None,
    psi: Annotated[
        float | None, typer.Option(help="Alert at this PSI of a feature (default 0.25).")
    ] = None,
    size_shift: Annotated[
        float | None,
        typer.Option(help="Alert when a segment's share moves this many points (default 10)."),
    ] = None,
    worse_share: Annotated[
        float | None,
        typer.Option(help="Alert when this share moves to a worse segment (default 0.2)."),
    ] = None,
    webhook: Annotated[
        str | None, typer.Option(help="POST alerts as JSON here (default SEGWISE_ALERT_WEBHOOK).")
    ] = None,
    email: Annotated[
        str | None,
        typer.Option(help="Mail alerts to these comma-separated addresses (SMTP settings)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the schedule as JSON.")] = False,
) -> None:
    """Store a schedule; the next `segwise schedule run-due` runs it.

    Each run after the first follows the previous run's segments (as --like does), so
    segment ids keep their meaning, and is compared with it.

    Example: segwise schedule add monthly --source "exports/*.csv" --every month --k 4
    """
    from segwise import service

    options = service.SegmentOptions(
        kind=kind,  # type: ignore[arg-type]
        features=_columns(features),
        k=_parse_k(k),
        k_max=k_max,
        seed=seed,
        rfm=service.RfmOptions(
            columns=column_flags(customer, date, invoice, amount, quantity, price),
            date_format=date_format,
        ),
    )
    found = service.add_schedule(
        name,
        source,
        every=every,
        table=table,
        query=query,
        like=like,
        options=options,
        thresholds={"psi": psi, "size_shift": size_shift, "worse_share": worse_share},
        webhook=webhook,
        email=email,
    )
    if as_json:
        typer.echo(json.dumps(found.to_dict(), indent=2))
        return
    typer.echo(f"schedule '{found.name}': {found.source}, every {found.every}")
    typer.echo("next: segwise schedule run-due   (from cron or a systemd timer)")


@schedule_app.command("list")
@errors_exit_2
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print the schedules as JSON.")] = False,
) -> None:
    """Schedules with their source, period, next due time and last run.

    Example: segwise schedule list
    """
    from segwise import service

    found = service.list_schedules()
    if as_json:
        typer.echo(json.dumps([s.to_dict() for s in found], indent=2))
        return
    if not found:
        typer.echo("no schedules yet: segwise schedule add NAME --source ... --every month")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("schedule", "source", "every", "next due (UTC)", "last run", box=None)
    for s in found:
        due = f"{s.next_due:%Y-%m-%d %H:%M}"
        table.add_row(s.name, s.source, s.every, due, s.last_run or "-")
    Console().print(table)


@schedule_app.command("remove")
@errors_exit_2
def remove(name: Annotated[str, typer.Argument(help="The schedule's name.")]) -> None:
    """Delete a schedule; its runs and alerts stay.

    Example: segwise schedule remove monthly
    """
    from segwise import service

    found = service.remove_schedule(name)
    typer.echo(f"removed schedule '{found.name}'")


@schedule_app.command("run-due")
@errors_exit_2
def run_due(
    now: Annotated[
        str | None, typer.Option(help="Act as if it were this ISO time, UTC (default: now).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcomes as JSON.")] = False,
) -> None:
    """Run every schedule that is due; one command for cron or a systemd timer.

    Safe to call often: a schedule runs once per period, and never twice at once. A failed
    run is recorded and alerted, and the other schedules still run.

    Example: segwise schedule run-due
    """
    from segwise import service

    outcomes = service.run_due(now)
    if as_json:
        typer.echo(json.dumps([o.to_dict() for o in outcomes], indent=2))
        return
    if not outcomes:
        typer.echo("nothing due")
    for outcome in outcomes:
        _render_outcome(outcome)


def _render_outcome(outcome: ScheduleOutcome) -> None:
    head = f"{outcome.schedule} {outcome.period}: {outcome.status}"
    if outcome.status == "done" and outcome.run:
        head += f", run {outcome.run}"
        if outcome.previous_run:
            head += f" (following {outcome.previous_run})"
    elif outcome.status == "unchanged":
        head += " (no new data since the last run)"
    elif outcome.status == "skipped":
        head += " (done already in this period, or running elsewhere)"
    typer.echo(head)
    for finding in outcome.findings:
        typer.echo(f"  alert: {finding.message}")
    for channel, state in outcome.delivery.items():
        typer.echo(f"  {channel}: {state}")


@alerts_app.command("list")
@errors_exit_2
def alerts_list(
    schedule: Annotated[str | None, typer.Option(help="Only this schedule's alerts.")] = None,
    limit: Annotated[int, typer.Option(help="Show at most this many (newest first).")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print the alerts as JSON.")] = False,
) -> None:
    """Alerts of scheduled runs: drift, segment-size shifts, moves to worse segments, failures.

    Example: segwise alerts list --schedule monthly
    """
    from segwise import service

    found = service.list_alerts(schedule=schedule, limit=limit)
    if as_json:
        typer.echo(json.dumps([a.to_dict() for a in found], indent=2))
        return
    if not found:
        typer.echo("no alerts")
        return
    for a in found:
        sent = ", ".join(f"{c} {s}" for c, s in a.delivery.items()) or "kept in the catalog"
        typer.echo(f"{a.created:%Y-%m-%d %H:%M} {a.schedule} [{a.kind}] {a.message} ({sent})")
