"""Commands on accounts and the audit log: ``users``, ``keys``, ``audit``.

The machine's own user runs them (it owns SEGWISE_HOME), so they need no sign-in; each
change is recorded in the audit log under ``cli:<user>``.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from segwise.cli.main import app, errors_exit_2

users_app = typer.Typer(help="Accounts of the dashboard and the API: add, list, disable.")
keys_app = typer.Typer(help="API keys of users: create (shown once), list, revoke.")
app.add_typer(users_app, name="users", no_args_is_help=True)
app.add_typer(keys_app, name="keys", no_args_is_help=True)

PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print as JSON.")]


def _password(from_stdin: bool) -> str:
    """The new password: stdin's first line for scripts, else asked twice without echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_app.command("add")
@errors_exit_2
def users_add(
    name: Annotated[str, typer.Argument(help="The sign-in name.")],
    role: Annotated[str, typer.Option(help="viewer, analyst or admin.")] = "viewer",
    password_stdin: PasswordStdin = False,
) -> None:
    """Add an account; the password is asked twice (or read from stdin).

    viewer: segments, reports, runs. analyst: + upload, run, export, look up, predict.
    admin: + users, audit log, erasure.
    Example: segwise users add amina --role admin
    """
    from segwise import service

    role = service.check_role(role)  # before the password is asked
    user = service.add_user(name, role, _password(password_stdin))
    typer.echo(f"user {user.name} added ({user.role})")


@users_app.command("list")
@errors_exit_2
def users_list(as_json: JsonFlag = False) -> None:
    """Every account with its role and whether it is disabled.

    Example: segwise users list
    """
    from segwise import service

    found = service.list_users()
    if as_json:
        typer.echo(json.dumps([u.to_dict() for u in found], indent=2))
        return
    if not found:
        typer.echo("no accounts yet: segwise users add NAME --role admin")
    for u in found:
        state = "  disabled" if u.disabled else ""
        typer.echo(f"{u.name:<24} {u.role:<8} {u.created:%Y-%m-%d}{state}")


@users_app.command("disable")
@errors_exit_2
def users_disable(
    name: Annotated[str, typer.Argument(help="The account.")],
    enable: Annotated[bool, typer.Option("--enable", help="Allow it again instead.")] = False,
) -> None:
    """Stop an account from signing in and its API keys from working (or allow it again).

    Example: segwise users disable amina
    """
    from segwise import service

    user = service.disable_user(name, enable=enable)
    typer.echo(f"user {user.name} {'disabled' if user.disabled else 'enabled'}")


@users_app.command("reset-password")
@errors_exit_2
def users_reset_password(
    name: Annotated[str, typer.Argument(help="The account.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Give an account a new password (asked twice, or read from stdin).

    Example: segwise users reset-password amina
    """
    from segwise import service

    service.list_users()  # admins only, before the password is asked
    user = service.reset_password(name, _password(password_stdin))
    typer.echo(f"password of {user.name} changed")


@keys_app.command("create")
@errors_exit_2
def keys_create(
    user: Annotated[str, typer.Option("--user", help="The account the key acts as.")],
    as_json: JsonFlag = False,
) -> None:
    """A new API key carrying the user's role; it is shown once and stored hashed.

    Example: segwise keys create --user reports-bot
    """
    from segwise import service

    made = service.create_key(user)
    if as_json:
        typer.echo(json.dumps(made.to_dict(), indent=2))
        return
    typer.echo(made.key)
    typer.echo(
        f"key {made.prefix} of {made.user}: copy it now, it is not shown again "
        "(send it as header X-API-Key)",
        err=True,
    )


@keys_app.command("list")
@errors_exit_2
def keys_list(as_json: JsonFlag = False) -> None:
    """API keys by prefix and owner, with when they were last used (never the keys).

    Example: segwise keys list
    """
    from segwise import service

    found = service.list_keys()
    if as_json:
        typer.echo(json.dumps([k.to_dict() for k in found], indent=2))
        return
    for k in found:
        used = f"{k.last_used:%Y-%m-%d %H:%M}" if k.last_used else "never used"
        typer.echo(
            f"{k.prefix}  {k.user:<24} {k.created:%Y-%m-%d}  {used}"
            + ("  revoked" if k.revoked else "")
        )


@keys_app.command("revoke")
@errors_exit_2
def keys_revoke(
    prefix: Annotated[str, typer.Argument(help="The key's prefix, as listed.")],
) -> None:
    """Stop an API key from working.

    Example: segwise keys revoke 3f9a0c1d
    """
    from segwise import service

    found = service.revoke_key(prefix)
    typer.echo(f"key {found.prefix} revoked")


@app.command()
@errors_exit_2
def audit(
    since: Annotated[str | None, typer.Option(help="From this day on (YYYY-MM-DD).")] = None,
    user: Annotated[str | None, typer.Option(help="Only what this account did.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Who did what, when and from where: sign-ins, uploads, runs, exports, look-ups,
    predictions, erasures, account changes.

    Example: segwise audit --since 2026-11-01 --user amina
    """
    from segwise import service

    found = service.audit_events(since=since, user=user)
    if as_json:
        typer.echo(json.dumps([e.to_dict() for e in found], indent=2))
        return
    for e in found:
        detail = " ".join(f"{k}={v}" for k, v in e.detail.items())
        typer.echo(
            f"{e.at:%Y-%m-%d %H:%M:%S}  {e.actor:<20} {e.action:<18} {e.target or '':<24} "
            f"{detail}" + (f"  from {e.address}" if e.address else "")
        )


@app.command()
@errors_exit_2
def forget(
    customer_id: Annotated[str, typer.Argument(help="The customer's id, as in the data.")],
    as_json: JsonFlag = False,
) -> None:
    """Erase a customer from every stored dataset, run and kept file; later ingests drop them.

    The audit log records the erasure under a keyed hash of the id, never the id. Files
    already downloaded, and models' aggregates, are out of reach: run again to retrain.
    Example: segwise forget 12003
    """
    from segwise import service

    found = service.forget_customer(customer_id)
    if as_json:
        typer.echo(json.dumps(found.to_dict(), indent=2))
        return
    if not found.found:
        typer.echo("no stored data held this customer; it is on the erasure list for the future")
        return
    for dataset, lines in found.datasets.items():
        typer.echo(f"dataset {dataset}: {lines:,} lines removed")
    for run, rows in found.runs.items():
        typer.echo(f"run {run}: {rows:,} rows removed")
    for path, what in found.files.items():
        typer.echo(f"{path}: {what}")
    typer.echo("erased; models keep only aggregates: run the segmentation again to drop them")


retention_app = typer.Typer(help="Delete data older than SEGWISE_RETENTION_DAYS.")
app.add_typer(retention_app, name="retention", no_args_is_help=True)


@retention_app.command("run")
@errors_exit_2
def retention_run(
    days: Annotated[
        int | None, typer.Option(min=1, help="Days to keep (default SEGWISE_RETENTION_DAYS).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Delete datasets (with their runs), runs and uploads older than the retention period.

    Run it from cron, e.g. daily: 0 3 * * * segwise retention run
    Example: SEGWISE_RETENTION_DAYS=365 segwise retention run
    """
    from segwise import service

    found = service.run_retention(days=days)
    if as_json:
        typer.echo(json.dumps(found.to_dict(), indent=2))
        return
    typer.echo(
        f"before {found.cutoff:%Y-%m-%d}: {len(found.datasets)} datasets, {len(found.runs)} "
        f"runs and {found.uploads} uploaded files deleted"
    )
