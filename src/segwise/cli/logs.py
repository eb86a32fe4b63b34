"""Commands on transaction logs: ``rfm`` and ``demo``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

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
    InputsArgument,
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
from segwise.cli.render import render_rfm, render_segments


@app.command()
@errors_exit_2
def rfm(
    inputs: InputsArgument,
    out: Annotated[
        Path | None, typer.Option(help="Write one row per customer (.csv .parquet .xlsx).")
    ] = None,
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
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """RFM per customer: recency, frequency, monetary, scores and named segments.

    Example: segwise rfm online_retail.csv --out rfm.csv
    Example: segwise rfm postgresql://me@db/shop --table sales --out rfm.csv
    Example: segwise rfm "exports/2026-*.csv" --out rfm.csv
    """
    from segwise import service

    if out is not None:
        service.check_output_path(out)
    columns = column_flags(customer, date, invoice, amount, quantity, price)
    options = rfm_flags(columns, date_format, as_of, bins, segments)
    with service.local_input(
        inputs, table=table, query=query, options=options, input_format=input_format
    ) as path:
        result = service.compute_rfm(path, options, engine=engine)
        if out is not None:
            result.write(out)
    summary = result.summary() | ({"out": str(out)} if out else {})
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
    else:
        render_rfm(summary)


@app.command()
@errors_exit_2
def demo(
    folder: Annotated[Path | None, typer.Option(help="Where to write the sample data.")] = None,
    customers: Annotated[int, typer.Option(help="Customers in the sample shop.")] = 2_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
) -> None:
    """The whole flow on built-in sample data: a synthetic shop log with planted customer types.

    Writes the log, its RFM and segments, an HTML report and a model file, and shows them;
    also next month's log, new customers and a customer table for the README's examples.

    Example: segwise demo --folder sample
    """
    from segwise import service
    from segwise.cli.segments import progress
    from segwise.report.html import write_report

    with progress(quiet=False) as step:
        run = service.run_demo(folder, customers=customers, seed=seed, progress=step)
        step("writing the report")
        report = write_report(
            run.segmentation, run.log.parent / "report.html", title="Sample shop: customer segments"
        )
    render_rfm(run.rfm.summary())
    typer.echo("")
    render_segments(run.segmentation.summary(), run.segments, report)
    samples = "".join(f"\n  {path}  ({what})" for what, path in run.samples.items())
    new_customers = run.log.parent / "new_customers.csv"
    typer.echo(
        f"\nSample log: {run.log}\nMore sample files:{samples}\nModel: {run.model}\n"
        f"Stored as dataset {run.dataset.id}, run {run.run.id} (see: segwise runs)\n"
        f"Open the report in a browser: {report}\n"
        f"Try: segwise customer {run.run.id} {run.segmentation.assignments().customer_id[0]}\n"
        f"     segwise predict {run.model} {new_customers} --out placed.csv\n"
        f"     segwise app                        # the dashboard, at http://127.0.0.1:8501\n"
        f"     SEGWISE_API_KEYS=change-me segwise serve   # the REST API, docs at "
        f"http://127.0.0.1:8000/docs"
    )
