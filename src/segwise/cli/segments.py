"""The ``segment`` command."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal

import typer

from segwise.cli.main import (
    AmountFlag,
    AsOfFlag,
    BinsFlag,
    CustomerFlag,
    DateFlag,
    DateFormatFlag,
    FormatFlag,
    GridFlag,
    InvoiceFlag,
    PriceFlag,
    QuantityFlag,
    QueryFlag,
    TableFlag,
    app,
    column_flags,
    errors_exit_2,
    rfm_flags,
)
from segwise.cli.render import render_segments
from segwise.errors import InputError


@app.command()
@errors_exit_2
def segment(
    inputs: Annotated[
        list[str],
        typer.Argument(
            help="Transaction log or customer table, a folder or glob of logs, an M-Pesa "
            "statement, or a stored dataset id.",
            show_default=False,
        ),
    ],
    kind: Annotated[str, typer.Option(help="auto, transactions or customers.")] = "auto",
    features: Annotated[
        str | None, typer.Option(help="Comma-separated columns to cluster on.")
    ] = None,
    outcomes: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated outcome columns to describe per segment, not cluster on "
            "(default: columns named like churn, card, status...; 'none': no outcomes)."
        ),
    ] = None,
    k: Annotated[str, typer.Option("--k", help="auto, or a number of segments.")] = "auto",
    k_max: Annotated[int, typer.Option(help="Largest k tried by --k auto.")] = 10,
    k_min: Annotated[int, typer.Option(help="Smallest k tried by --k auto.")] = 2,
    min_share: Annotated[
        float,
        typer.Option(help="--k auto: smallest segment, as a share of customers (0.03 = 3%)."),
    ] = 0.03,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same segments).")] = 0,
    out: Annotated[
        Path | None, typer.Option(help="One row per customer (.csv .parquet .xlsx).")
    ] = None,
    report: Annotated[Path | None, typer.Option(help="Self-contained HTML report.")] = None,
    model: Annotated[
        Path | None, typer.Option(help="Copy the run's model (preprocessing + classifier).")
    ] = None,
    like: Annotated[
        str | None, typer.Option(help="Assign with an earlier run's segments (its run id).")
    ] = None,
    match: Annotated[
        str | None, typer.Option(help="Refit, then number segments after an earlier run's.")
    ] = None,
    classifier: Annotated[
        bool,
        typer.Option(help="Also train a surrogate classifier: its scores and importance."),
    ] = False,
    pseudonymise: Annotated[
        bool, typer.Option("--pseudonymise", help="Store and export keyed hashes of ids.")
    ] = False,
    rules: Annotated[Path | None, typer.Option(help="Your recommendation rules (.csv).")] = None,
    value: Annotated[
        bool,
        typer.Option(
            "--value/--no-value",
            help="Logs: also P(alive), expected purchases and value, CLV and churn risk.",
        ),
    ] = True,
    customer: CustomerFlag = None,
    date: DateFlag = None,
    invoice: InvoiceFlag = None,
    amount: AmountFlag = None,
    quantity: QuantityFlag = None,
    price: PriceFlag = None,
    date_format: DateFormatFlag = None,
    as_of: AsOfFlag = None,
    bins: BinsFlag = 5,
    segments: GridFlag = None,
    engine: Annotated[str, typer.Option(help="local (DuckDB) or spark.")] = "local",
    table: TableFlag = None,
    query: QueryFlag = None,
    input_format: FormatFlag = "auto",
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress on stderr.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Segments with names and advice; k chosen automatically and explained.

    Transaction logs are turned into RFM features first; customer tables are clustered as
    given. Example: segwise segment online_retail.csv --out segments.csv --report r.html
    """
    from segwise import service

    for path in (out, report):
        if path is not None and path != report:
            service.check_output_path(path)
    if report is not None and report.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"--report '{report.name}' must end in .html", hint="e.g. --report r.html")
    options = service.SegmentOptions(
        kind=kind,  # type: ignore[arg-type]
        features=_columns(features),
        outcomes=[] if outcomes and outcomes.strip().lower() == "none" else _columns(outcomes),
        k=_parse_k(k),
        k_max=k_max,
        k_min=k_min,
        min_share=min_share,
        seed=seed,
        rules=rules,
        value=value,
        rfm=rfm_flags(
            column_flags(customer, date, invoice, amount, quantity, price),
            date_format,
            as_of,
            bins,
            segments,
        ),
    )
    if model is not None and not model.parent.is_dir():
        raise InputError(f"folder '{model.parent}' does not exist", hint="create it first")
    if like and match:
        raise InputError("--like and --match exclude each other", hint="choose one")
    with progress(quiet) as step:
        input = inputs[0]
        if table is not None or query is not None or service.needs_assembling(inputs, input_format):
            step("reading the input")
            input = service.ingest_input(
                inputs,
                table=table,
                query=query,
                kind=options.kind,
                options=options.rfm,
                pseudonymise=pseudonymise or None,
                input_format=input_format,
            ).id
        run, result = service.run_segment(
            input,
            options,
            engine=engine,
            like=like,
            match=match,
            classifier=classifier,
            pseudonymise=pseudonymise or None,
            progress=step,
        )
        if out is not None:
            step(f"writing {out.name}")
            service.write_frame(result.assignments(), out)
        if model is not None:
            service.copy_run_model(run.id, model)
            result.extra["model_file"] = str(model)
        if report is not None:
            from segwise.report.html import write_report

            step(f"writing {report.name}")
            write_report(result, report)
    summary = result.summary()
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
    else:
        render_segments(summary, out, report)


def _columns(text: str | None) -> list[str] | None:
    """A comma-separated list of column names (None when not given)."""
    return [f.strip() for f in text.split(",") if f.strip()] if text else None


def _parse_k(text: str) -> int | Literal["auto"]:
    if text == "auto":
        return "auto"
    if not text.isdigit():
        raise InputError(f"--k '{text}' is not a number", hint="use --k auto or e.g. --k 4")
    return int(text)


@contextmanager
def progress(quiet: bool) -> Iterator[Callable[[str], None]]:
    """A spinner with the current step on stderr, only on a terminal and without --quiet."""
    if quiet or not sys.stderr.isatty():
        yield lambda _: None
        return
    from rich.console import Console

    with Console(stderr=True).status("starting") as status:
        yield lambda message: status.update(message)
