"""The ``segwise`` Typer app, its error handling and the console entry point.

Bad input prints one line ``error: ...`` on stderr and exits 2; exit 1 means a bug.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Annotated, ParamSpec, TypeVar

import typer

from segwise import __version__
from segwise.errors import SegwiseError

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="segwise",
    help="Customer segments from transaction logs and customer tables.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def errors_exit_2(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a SegwiseError into one line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except SegwiseError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None

    return wrapper


def column_flags(
    customer: str | None,
    date: str | None,
    invoice: str | None,
    amount: str | None,
    quantity: str | None,
    price: str | None,
) -> dict[str, str | None]:
    """The column-role flags of a log command, as the service takes them."""
    return {
        "customer": customer,
        "date": date,
        "invoice": invoice,
        "amount": amount,
        "quantity": quantity,
        "price": price,
    }


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


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
