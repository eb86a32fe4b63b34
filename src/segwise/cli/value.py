"""The ``value`` command: P(alive), expected purchases, expected value, CLV and churn risk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from segwise.cli.main import (
    AmountFlag,
    CustomerFlag,
    DateFlag,
    DateFormatFlag,
    FormatFlag,
    InputsArgument,
    InvoiceFlag,
    PriceFlag,
    QuantityFlag,
    app,
    column_flags,
    errors_exit_2,
    rfm_flags,
)


@app.command()
@errors_exit_2
def value(
    log: InputsArgument,
    horizon: Annotated[
        str, typer.Option(help="How far ahead to predict: days (180d) or weeks (26w).")
    ] = "180d",
    calibration_end: Annotated[
        str | None,
        typer.Option(help="YYYY-MM-DD last day the models learn from (default: the last line)."),
    ] = None,
    discount_rate: Annotated[
        float, typer.Option(help="Annual discount rate for CLV, e.g. 0.1 for 10%.")
    ] = 0.0,
    holdout: Annotated[
        str | None,
        typer.Option(
            help="Check the predictions on a hold-out, e.g. 13w: the weeks after "
            "--calibration-end, else the last weeks of the log."
        ),
    ] = None,
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
    engine: Annotated[str, typer.Option(help="local (DuckDB) or spark.")] = "local",
    input_format: FormatFlag = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """What each customer is worth and how likely they are to stay (BG/NBD + Gamma-Gamma).

    Per customer: p_alive, expected_purchases and expected_value over the horizon, clv
    (discounted) and a churn_risk band; totals per RFM segment. --holdout adds predicted
    beside actual repeat purchases in a hold-out, per group of customers.
    Example: segwise value shop.csv --horizon 180d --discount-rate 0.1 --out value.csv
    """
    from segwise import service

    if out is not None:
        service.check_output_path(out)
    options = service.value_options(horizon, calibration_end, discount_rate, holdout)
    columns = column_flags(customer, date, invoice, amount, quantity, price)
    rfm = rfm_flags(columns, date_format, None, 5, None)
    with service.local_input(log, options=rfm, input_format=input_format) as path:
        found = service.compute_value(path, options, rfm, engine=engine)
        if out is not None:
            found.write(out)
    summary = found.summary() | ({"out": str(out)} if out else {})
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        render_value(summary)


def render_value(summary: dict[str, Any]) -> None:
    """The fitted models, the totals and a table of value per RFM segment."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    bg, gg = summary["bgnbd"], summary["gamma_gamma"]
    console.print(
        f"Learned from purchases up to {summary['calibration_end']}: "
        f"{summary['customers']:,} customers, {summary['repeat_customers']:,} bought again"
    )
    console.print(
        "BG/NBD (weeks): "
        + ", ".join(f"{k}={v:.4g}" for k, v in bg.items())
        + "; Gamma-Gamma: "
        + ", ".join(f"{k}={v:.4g}" for k, v in gg.items())
    )
    days = summary["horizon_days"]
    table = Table(title=f"Value over the next {days} days, by RFM segment")
    for col in ("Segment", "Customers", "Exp. purchases", "Exp. value", "CLV", "Likely lapsed"):
        table.add_column(col, justify="left" if col == "Segment" else "right")
    for seg in summary["segments"]:
        table.add_row(
            seg["segment"],
            f"{seg['customers']:,}",
            f"{seg['expected_purchases']:,.1f}",
            f"{seg['expected_value']:,.2f}",
            f"{seg['clv']:,.2f}",
            f"{seg['likely_lapsed_share']:.0%}",
        )
    console.print(table)
    risk = ", ".join(f"{k} {v:,}" for k, v in summary["churn_risk"].items())
    console.print(f"Churn risk: {risk}")
    if summary.get("holdout"):
        render_holdout(console, summary["holdout"])
    if summary.get("out"):
        console.print(f"Wrote {summary['out']}")


def render_holdout(console: Any, check: dict[str, Any]) -> None:
    """The hold-out check: predicted beside actual repeat purchases per group, or its note."""
    from rich.table import Table

    if check.get("note"):
        console.print(check["note"])
        return
    table = Table(
        title=f"Hold-out check: learned up to {check['calibration_end']}, purchases "
        f"{check['holdout_start']} to {check['holdout_end']} ({check['holdout_weeks']:g} weeks)"
    )
    for col in ("Repeat purchases before", "Customers", "Actual per customer", "Predicted"):
        table.add_column(col, justify="right")
    for group in check["groups"]:
        table.add_row(
            group["repeat_purchases"],
            f"{group['customers']:,}",
            f"{group['actual_mean']:.3f}",
            f"{group['predicted_mean']:.3f}",
        )
    table.add_row(
        "all",
        f"{check['customers']:,}",
        f"{check['actual_total']:,.0f} in total",
        f"{check['predicted_total']:,.0f} in total",
    )
    console.print(table)
