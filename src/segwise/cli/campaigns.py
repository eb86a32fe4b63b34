"""``segwise campaign``: create a campaign with a control group, export its audience, list
campaigns, and read out whether it worked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from segwise.cli.main import app, errors_exit_2

if TYPE_CHECKING:
    from segwise.service import CampaignInfo, CampaignReport, Uplift

campaign_app = typer.Typer(
    help="Campaigns on segments, with a control group, and their read-out.",
    no_args_is_help=True,
)
app.add_typer(campaign_app, name="campaign")

OutFlag = Annotated[
    Path | None, typer.Option(help="Write the audience (.csv .xlsx .parquet): treatment only.")
]
ContactsFlag = Annotated[
    Path | None,
    typer.Option(help="A customer table with phone/e-mail columns, joined to the audience by id."),
]


@campaign_app.command("create")
@errors_exit_2
def create(
    run: Annotated[str, typer.Argument(help="A finished run: id, prefix or latest.")],
    segments: Annotated[
        str, typer.Option(help='Comma-separated segment names or numbers, e.g. "At Risk,Lost".')
    ],
    name: Annotated[str, typer.Option(help="The campaign's name (unique).")],
    control: Annotated[float, typer.Option(help="Share of each segment kept as control.")] = 0.1,
    start: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD the campaign starts (default today).")
    ] = None,
    message: Annotated[str, typer.Option(help="The message or offer, as free text.")] = "",
    seed: Annotated[int | None, typer.Option(help="Seed of the split (default: random).")] = None,
    out: OutFlag = None,
    contacts: ContactsFlag = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the campaign as JSON.")] = False,
) -> None:
    """Split the customers of chosen segments of a run into treatment and control.

    The split is random, stratified by segment, reproducible from the seed, stored once and
    never changed; --out writes the audience (the treatment group only).

    Example: segwise campaign create latest --segments "At Risk,Lost" --name "Dec win-back"
    """
    from segwise import service

    if out is not None:  # bad files are refused before the campaign is stored
        service.check_output_path(out)
    if contacts is not None:
        service.read_contacts(contacts)
    found = service.create_campaign(
        run,
        segments,
        name=name,
        control=control,
        start=start,
        message=message,
        seed=seed,
    )
    written = None
    if out is not None:
        written = service.export_audience(found.name, out, contacts=contacts)
    if as_json:
        typer.echo(json.dumps(found.to_dict(), indent=2))
        return
    _render_campaign(found)
    if written is not None:
        typer.echo(f"audience: {written.customers:,} customers written to {written.path}")
        if written.with_contacts is not None:
            typer.echo(f"  {written.with_contacts:,} of them with a phone or e-mail")
    typer.echo(f'next: segwise campaign report "{found.name}" --after LATER_LOG')


@campaign_app.command("list")
@errors_exit_2
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print the campaigns as JSON.")] = False,
) -> None:
    """Campaigns with their run, segments, start and group sizes, newest first.

    Example: segwise campaign list
    """
    from segwise import service

    found = service.list_campaigns()
    if as_json:
        typer.echo(json.dumps([c.to_dict() for c in found], indent=2))
        return
    if not found:
        typer.echo("no campaigns yet: segwise campaign create RUN --segments ... --name ...")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("campaign", "run", "segments", "start", "treatment", "control", box=None)
    for c in found:
        table.add_row(
            c.name, c.run, ", ".join(c.segments), str(c.start), f"{c.treatment:,}", f"{c.control:,}"
        )
    Console().print(table)


@campaign_app.command("audience")
@errors_exit_2
def audience(
    name: Annotated[str, typer.Argument(help="The campaign's name.")],
    out: Annotated[Path, typer.Option(help="The file to write (.csv .xlsx .parquet).")],
    contacts: ContactsFlag = None,
) -> None:
    """Write a campaign's audience: the treatment group, never the control group.

    Columns: customer_id, segment, advice, the run's value columns, and the phone/e-mail
    columns of --contacts.

    Example: segwise campaign audience "Dec win-back" --out audience.xlsx --contacts members.csv
    """
    from segwise import service

    written = service.export_audience(name, out, contacts=contacts)
    typer.echo(f"audience: {written.customers:,} customers written to {written.path}")
    if written.with_contacts is not None:
        typer.echo(f"  {written.with_contacts:,} of them with a phone or e-mail")


@campaign_app.command("report")
@errors_exit_2
def report(
    name: Annotated[str, typer.Argument(help="The campaign's name.")],
    after: Annotated[
        str, typer.Option(help="The log after the start: a file or a stored dataset id.")
    ],
    html: Annotated[
        Path | None, typer.Option(help="Also write the read-out as a self-contained HTML file.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the read-out as JSON.")] = False,
) -> None:
    """Did it work? Treatment against control on the log after the campaign's start.

    Per segment and overall: who bought again, spend per customer, change in RFM score, each
    with its uplift and 95% interval; lines before the start are ignored.

    Example: segwise campaign report "Dec win-back" --after january.csv --html dec.html
    """
    from segwise import service
    from segwise.errors import InputError

    if html is not None and (
        html.suffix.lower() not in (".html", ".htm") or not html.parent.is_dir()
    ):
        raise InputError(f"cannot write '{html}'", hint="give a .html file in an existing folder")
    found = service.campaign_report(name, after)
    if html is not None:
        from segwise.report.campaign import write_campaign_report

        write_campaign_report(found, html)
        if not as_json:
            typer.echo(f"Wrote read-out: {html}")
    if as_json:
        typer.echo(json.dumps(found.to_dict(), indent=2))
        return
    _render_report(found)


def _render_campaign(found: CampaignInfo) -> None:
    typer.echo(
        f"campaign {found.id} '{found.name}' on run {found.run}: {found.treatment:,} treatment, "
        f"{found.control:,} control ({found.control_share:.0%}), start {found.start}, "
        f"seed {found.seed}"
    )
    for segment, arms in found.sizes.items():
        typer.echo(
            f"  {segment:<24} {arms['treatment']:>8,} treatment {arms['control']:>7,} control"
        )


def _render_report(found: CampaignReport) -> None:
    typer.echo(
        f"campaign '{found.campaign.name}': the log {found.after} from {found.window_start} "
        f"to {found.window_end}"
    )
    for group in found.groups:
        typer.echo(
            f"{group.segment}: {group.n_treatment:,} treated, {group.n_control:,} in control"
        )
        for m in group.measures:
            typer.echo(
                f"  {m.measure:<26} {_value(m.kind, m.treatment)} vs "
                f"{_value(m.kind, m.control)}   {_uplift(m)}"
            )
        typer.echo(f"  {group.summary}")


def _value(kind: str, value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1%}" if kind == "share" else f"{value:,.2f}"


def _uplift(m: Uplift) -> str:
    uplift, low, high = m.uplift, m.low, m.high
    if uplift is None or low is None or high is None:
        return "too few to tell"
    if m.kind == "share":
        return f"{100 * uplift:+.1f} per 100 (95% CI {100 * low:.1f} to {100 * high:.1f})"
    return f"{uplift:+,.2f} (95% CI {low:,.2f} to {high:,.2f})"
