"""Commands on the catalog: ``ingest``, ``runs``, ``compare``, ``customer``."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from segwise.cli.main import (
    AmountFlag,
    CustomerFlag,
    DateFlag,
    DateFormatFlag,
    FormatFlag,
    InvoiceFlag,
    PriceFlag,
    QuantityFlag,
    QueryFlag,
    TableFlag,
    app,
    column_flags,
    errors_exit_2,
)


@app.command()
@errors_exit_2
def ingest(
    input: Annotated[
        list[str],
        typer.Argument(
            help="Transaction log or customer table: a file, a folder or glob of logs, an "
            "M-Pesa statement, or a database URL.",
            show_default=False,
        ),
    ],
    name: Annotated[str | None, typer.Option(help="A name to know it by.")] = None,
    kind: Annotated[str, typer.Option(help="auto, transactions or customers.")] = "auto",
    customer: CustomerFlag = None,
    date: DateFlag = None,
    invoice: InvoiceFlag = None,
    amount: AmountFlag = None,
    quantity: QuantityFlag = None,
    price: PriceFlag = None,
    date_format: DateFormatFlag = None,
    pseudonymise: Annotated[
        bool, typer.Option("--pseudonymise", help="Store keyed hashes of customer ids.")
    ] = False,
    table: TableFlag = None,
    query: QueryFlag = None,
    input_format: FormatFlag = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the dataset as JSON.")] = False,
) -> None:
    """Store a file (or a database table or query) in the catalog; the same content twice
    gives the same dataset id.

    Example: segwise ingest online_retail.csv --name "retail 2011"
    Example: segwise ingest sqlite:///shop.db --table sales
    Example: segwise ingest exports/ --name "2026 so far"
    """
    from segwise import service
    from segwise.errors import InputError

    if kind not in ("auto", "transactions", "customers"):
        raise InputError(f"--kind '{kind}' is unknown", hint="use auto, transactions or customers")
    options = service.RfmOptions(
        columns=column_flags(customer, date, invoice, amount, quantity, price),
        date_format=date_format,
    )
    found = service.ingest_input(
        input,
        table=table,
        query=query,
        name=name,
        kind=kind,  # type: ignore[arg-type]
        options=options,
        pseudonymise=pseudonymise or None,
        input_format=input_format,
    )
    if as_json:
        typer.echo(json.dumps(found.to_dict(), indent=2))
        return
    dropped = sum(found.dropped.values())
    if found.renamed_from is not None:
        typer.echo(f"already stored: renamed '{found.renamed_from}' to '{found.name}'")
    elif found.stored_before:
        typer.echo("already stored: the same content has this id")
    typer.echo(
        f"dataset {found.id}  {found.name}  {found.kind}: {found.rows:,} rows, "
        f"{found.customers:,} customers" + (f", {dropped:,} lines dropped" if dropped else "")
    )
    for reason, lines in found.dropped.items():
        typer.echo(f"  {lines:>10,}  {reason}")
    typer.echo(f"next: segwise segment {found.id}")


@app.command()
@errors_exit_2
def runs(
    as_json: Annotated[bool, typer.Option("--json", help="Print the runs as JSON.")] = False,
) -> None:
    """Runs with status, dataset, k and when they were made, newest first.

    Example: segwise runs
    """
    from segwise import service

    found = service.list_runs()
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in found], indent=2))
        return
    if not found:
        typer.echo("no runs yet: segwise segment FILE records one")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("run", "status", "dataset", "kind", "k", "created", box=None)
    for r in found:
        table.add_row(
            r.id,
            r.status if r.status != "failed" else f"failed: {(r.error or '')[:60]}",
            f"{r.dataset} {r.dataset_name}",
            r.kind,
            str(r.k or ""),
            r.created.strftime("%Y-%m-%d %H:%M"),
        )
    Console().print(table)


@app.command()
@errors_exit_2
def compare(
    run_a: Annotated[str, typer.Argument(help="The earlier run.")],
    run_b: Annotated[str, typer.Argument(help="The later run.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
) -> None:
    """Who moved between segments and what drifted between two runs.

    Example: segwise compare r1a2b3c r4d5e6f
    """
    from segwise import service

    result = service.compare_runs(run_a, run_b)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    _render_comparison(result)


@app.command()
@errors_exit_2
def customer(
    run: Annotated[str, typer.Argument(help="A finished run's id.")],
    customer_id: Annotated[str, typer.Argument(help="The customer's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """One customer of a run: segment, advice, features and where they stand, history.

    Example: segwise customer r1a2b3c 12583
    """
    from segwise import service

    found = service.lookup_customer(run, customer_id)
    if as_json:
        typer.echo(json.dumps(found, indent=2, default=str))
        return
    typer.echo(
        f"customer {found['customer_id']}: segment {found['segment']} '{found['segment_name']}'"
    )
    typer.echo(f"  advice: {found['recommendation']}")
    for name, value in found["features"].items():
        where = found["standing"].get(name)
        typer.echo(
            f"  {name:<22} {value!s:>14}"
            + (f"   {where:>5}th percentile" if where is not None else "")
        )
    if "rfm" in found:
        r = found["rfm"]
        typer.echo(f"  RFM {r.get('rfm_code')} ({r.get('rfm_segment')})")
    for month in found.get("history", [])[-12:]:
        typer.echo(f"  {month['month']}  {month['purchases']} purchases  {month['spend']:,.2f}")


def _render_comparison(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    c = result["customers"]
    console = Console()
    console.print(
        f"{c['shared']:,} customers in both runs ({c['same_segment_name']:,} kept their "
        f"segment's name), {c['new']:,} new, {c['lost']:,} gone"
    )
    m = result["migration"]
    table = Table("from \\ to", *m["to"], box=None)
    for name, row in zip(m["from"], m["counts"], strict=True):
        table.add_row(name, *(f"{n:,}" for n in row))
    console.print(table)
    for move in result["moves"]:
        console.print(f"  {move['text']}")
    if result["drift"]:
        console.print("drift (PSI: < 0.1 stable, > 0.25 shifted):")
        for feature, value in result["drift"].items():
            console.print(f"  {feature:<22} {value}")
