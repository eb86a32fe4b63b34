"""The ``segwise`` command: parse flags, call one service function, render the result.

Bad input prints one line ``error: ...`` on stderr and exits 2; exit 1 means a bug.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal, ParamSpec, TypeVar

import typer

from segwise import __version__
from segwise.errors import InputError, SegwiseError

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="segwise",
    help="Customer segments from transaction logs and customer tables.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _errors_exit_2(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a SegwiseError into one line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except SegwiseError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        typer.echo(f"segwise {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Customer segments from transaction logs and customer tables."""
    import warnings

    # library chatter (k-means convergence on tiny samples, deprecations) is not for users:
    # segwise reports what matters (e.g. unstable segments) in its own output
    warnings.simplefilter("ignore")


@app.command()
@_errors_exit_2
def rfm(
    input: Annotated[Path, typer.Argument(help="Transaction log: .csv .tsv .txt .xlsx .parquet")],
    out: Annotated[
        Path | None, typer.Option(help="Write one row per customer (.csv .parquet .xlsx).")
    ] = None,
    customer: Annotated[str | None, typer.Option(help="Customer id column.")] = None,
    date: Annotated[str | None, typer.Option(help="Date column.")] = None,
    invoice: Annotated[str | None, typer.Option(help="Invoice column.")] = None,
    amount: Annotated[str | None, typer.Option(help="Line total column (used as is).")] = None,
    quantity: Annotated[str | None, typer.Option(help="Quantity column.")] = None,
    price: Annotated[str | None, typer.Option(help="Unit price column.")] = None,
    date_format: Annotated[
        str | None, typer.Option(help="strptime format, e.g. '%d/%m/%Y %H:%M'.")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD (default: the day after the last line).")
    ] = None,
    bins: Annotated[int, typer.Option(help="Score bins (4 or 5 usual).")] = 5,
    segments: Annotated[
        Path | None, typer.Option(help="Your own segment grid (.json or .csv).")
    ] = None,
    engine: Annotated[str, typer.Option(help="local (DuckDB).")] = "local",
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """RFM per customer: recency, frequency, monetary, scores and named segments.

    Example: segwise rfm online_retail.csv --out rfm.csv
    """
    from segwise import service
    from segwise.io.writers import check_output_path

    if out is not None:
        check_output_path(out)
    options = service.RfmOptions(
        columns={
            "customer": customer,
            "date": date,
            "invoice": invoice,
            "amount": amount,
            "quantity": quantity,
            "price": price,
        },
        date_format=date_format,
        as_of=service.parse_as_of(as_of),
        bins=bins,
        grid=service.load_grid(segments),
    )
    result = service.compute_rfm(input, options, engine=engine)
    if out is not None:
        result.write(out)
    summary = result.summary() | ({"out": str(out)} if out else {})
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
    else:
        _render_rfm(summary)


@app.command()
@_errors_exit_2
def segment(
    input: Annotated[Path, typer.Argument(help="Transaction log or customer table.")],
    kind: Annotated[str, typer.Option(help="auto, transactions or customers.")] = "auto",
    features: Annotated[str | None, typer.Option(help="Comma-separated columns to use.")] = None,
    k: Annotated[str, typer.Option("--k", help="auto, or a number of segments.")] = "auto",
    k_max: Annotated[int, typer.Option(help="Largest k tried by --k auto.")] = 10,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same segments).")] = 0,
    out: Annotated[
        Path | None, typer.Option(help="One row per customer (.csv .parquet .xlsx).")
    ] = None,
    report: Annotated[Path | None, typer.Option(help="Self-contained HTML report.")] = None,
    rules: Annotated[Path | None, typer.Option(help="Your recommendation rules (.csv).")] = None,
    customer: Annotated[str | None, typer.Option(help="Customer id column of a log.")] = None,
    date: Annotated[str | None, typer.Option(help="Date column of a log.")] = None,
    invoice: Annotated[str | None, typer.Option(help="Invoice column of a log.")] = None,
    amount: Annotated[str | None, typer.Option(help="Line total column of a log.")] = None,
    quantity: Annotated[str | None, typer.Option(help="Quantity column of a log.")] = None,
    price: Annotated[str | None, typer.Option(help="Unit price column of a log.")] = None,
    date_format: Annotated[str | None, typer.Option(help="strptime format of the dates.")] = None,
    engine: Annotated[str, typer.Option(help="local (DuckDB).")] = "local",
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress on stderr.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Segments with names and advice; k chosen automatically and explained.

    Transaction logs are turned into RFM features first; customer tables are clustered as
    given. Example: segwise segment online_retail.csv --out segments.csv --report r.html
    """
    from segwise import service
    from segwise.io.writers import check_output_path, write_frame

    for path in (out, report):
        if path is not None and path != report:
            check_output_path(path)
    if report is not None and report.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"--report '{report.name}' must end in .html", hint="e.g. --report r.html")
    if kind not in ("auto", "transactions", "customers"):
        raise InputError(f"--kind '{kind}' is unknown", hint="use auto, transactions or customers")
    options = service.SegmentOptions(
        kind=kind,  # type: ignore[arg-type]
        features=[f.strip() for f in features.split(",") if f.strip()] if features else None,
        k=_parse_k(k),
        k_max=k_max,
        seed=seed,
        rules=rules,
        rfm=service.RfmOptions(
            columns={
                "customer": customer,
                "date": date,
                "invoice": invoice,
                "amount": amount,
                "quantity": quantity,
                "price": price,
            },
            date_format=date_format,
        ),
    )
    with _progress(quiet) as step:
        result = service.segment(input, options, engine=engine, progress=step)
        if out is not None:
            step(f"writing {out.name}")
            write_frame(result.assignments(), out)
        if report is not None:
            from segwise.report.html import write_report

            step(f"writing {report.name}")
            write_report(result, report)
    summary = result.summary()
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
    else:
        _render_segments(summary, out, report)


def _parse_k(text: str) -> int | Literal["auto"]:
    if text == "auto":
        return "auto"
    if not text.isdigit():
        raise InputError(f"--k '{text}' is not a number", hint="use --k auto or e.g. --k 4")
    return int(text)


@contextmanager
def _progress(quiet: bool) -> Iterator[Callable[[str], None]]:
    """A spinner with the current step on stderr, only on a terminal and without --quiet."""
    if quiet or not sys.stderr.isatty():
        yield lambda _: None
        return
    from rich.console import Console

    with Console(stderr=True).status("starting") as status:
        yield lambda message: status.update(message)


def _render_segments(summary: dict[str, Any], out: Path | None, report: Path | None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    console.print(f"{summary['customers']:,} customers ({summary['kind']}): {summary['k_reason']}")
    if summary["stability"].get("warning"):
        console.print(f"[yellow]warning:[/] {summary['stability']['warning']}")
    table = Table(title=f"{summary['k']} segments")
    for col in ("#", "Segment", "Customers", "Share", "Stands out by", "Recommendation"):
        table.add_column(col, overflow="fold")
    for seg in summary["segments"]:
        marks = ", ".join(f"{f} {'+' if z > 0 else '-'}" for f, z in seg["distinctive"])
        table.add_row(
            str(seg["segment"]),
            seg["name"],
            f"{seg['size']:,}",
            f"{seg['share']:.1%}",
            marks,
            seg["recommendation"],
        )
    console.print(table)
    for path, what in ((out, "segments"), (report, "report")):
        if path is not None:
            console.print(f"Wrote {what}: {path}")


@app.command()
@_errors_exit_2
def demo(
    folder: Annotated[Path | None, typer.Option(help="Where to write the sample data.")] = None,
    customers: Annotated[int, typer.Option(help="Customers in the sample shop.")] = 2_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
) -> None:
    """The whole flow on built-in sample data: a synthetic shop log with planted customer types."""
    from segwise import service

    path, result = service.run_demo(folder, customers=customers, seed=seed)
    _render_rfm(result.summary())
    typer.echo(f"\nSample log: {path}\nTry: segwise rfm {path} --out rfm.csv")


def _render_rfm(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    src = summary["input"]
    how = f"{src['format'].upper()}"
    if src.get("encoding"):
        how += f", {src['encoding']}, '{src['delimiter']}' separated"
    console.print(f"[bold]{src['file']}[/]: {how}, {src['rows']:,} lines")
    roles = ", ".join(f"{role}={col}" for role, col in summary["mapping"].items())
    console.print(f"Columns: {roles}")
    if summary["date_format"]:
        console.print(f"Dates: {summary['date_format']}")
    report = summary["report"]
    console.print(
        f"Kept {report['kept_lines']:,} of {report['lines']:,} lines; "
        f"{report['returns']:,} cancellations/returns lower net spend and are not purchases"
    )
    from segwise.io.validate import REASONS

    for reason, n in report["dropped"].items():
        console.print(f"  dropped {n:>9,}  {REASONS[reason]}")
    table = Table(
        title=f"RFM segments as of {summary['as_of']} ({summary['customers']:,} customers)"
    )
    for col, justify in (
        ("Segment", "left"),
        ("Customers", "right"),
        ("Share", "right"),
        ("Recency (days)", "right"),
        ("Frequency", "right"),
        ("Monetary", "right"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for seg in summary["segments"]:
        table.add_row(
            seg["segment"],
            f"{seg['customers']:,}",
            f"{seg['share']:.1%}",
            f"{seg['recency_mean']:.0f}",
            f"{seg['frequency_mean']:.1f}",
            f"{seg['monetary_mean']:,.2f}",
        )
    console.print(table)
    if summary.get("out"):
        console.print(f"Wrote {summary['out']}")


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
