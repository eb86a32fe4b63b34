"""The ``app`` command: start the web dashboard (Streamlit) on this machine."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path
from typing import Annotated

import typer

from segwise.cli.main import app, errors_exit_2
from segwise.config import get_settings
from segwise.errors import ConfigError, InputError

ALL_ADDRESSES = ("0.0.0.0", "::", "")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
NO_ACCOUNT = (
    "no account exists, so the dashboard would be open to anyone on the network: create one "
    "first with `segwise users add NAME --role admin` (or keep --host 127.0.0.1)"
)


@app.command("app")
@errors_exit_2
def dashboard(
    host: Annotated[
        str, typer.Option(help="Address to listen on; 0.0.0.0 for phones on your network.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8501,
    qr: Annotated[
        bool, typer.Option("--qr", help="Print the address as a QR code to open on a phone.")
    ] = False,
) -> None:
    """Start the web dashboard: upload, segments, customer look-up, prediction, history.

    With accounts (segwise users add), everyone signs in and sees what their role allows;
    with none, it runs for this machine only and refuses any other --host.
    Uploads are limited to SEGWISE_MAX_UPLOAD_MB. Stop it with Ctrl+C.
    Example: segwise app --host 0.0.0.0 --qr
    """
    from segwise import service

    if not 1 <= port <= 65535:
        raise InputError(f"--port {port} is out of range", hint="use 1..65535, e.g. 8501")
    if host not in LOOPBACK and not service.has_accounts():
        raise ConfigError(NO_ACCOUNT)
    service.retention_at_start()  # SEGWISE_RETENTION_DAYS
    url = address(host, port)
    typer.echo(f"segwise dashboard: {url}")
    if qr:
        import segno

        if host in ("127.0.0.1", "localhost", "::1"):
            typer.echo("note: a phone cannot reach 127.0.0.1; use --host 0.0.0.0", err=True)
        segno.make(url, error="m").terminal(out=sys.stdout, compact=True)
    sys.stdout.flush()
    raise typer.Exit(launch(streamlit_command(host, port)))


def entry_script() -> Path:
    """The dashboard's Streamlit entry script inside the installed package."""
    spec = find_spec("segwise.app")
    if spec is None or spec.origin is None:
        raise ConfigError("the segwise.app package is missing; reinstall segwise")
    return Path(spec.origin).parent / "streamlit_app.py"


def streamlit_command(host: str, port: int) -> list[str]:
    """``streamlit run`` of the entry script, headless, with the upload limit from settings."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(entry_script()),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.maxUploadSize",
        str(get_settings().max_upload_mb),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--client.showErrorDetails",
        "none",
        "--theme.primaryColor",
        "#4e79a7",
    ]


def address(host: str, port: int) -> str:
    """The URL to open: this machine's network address when listening on all of them."""
    if host in ALL_ADDRESSES:
        host = network_address()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def network_address() -> str:
    """This machine's address on its local network (no packet is sent), else 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            found: str = probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"
    return found


def launch(command: list[str]) -> int:
    """Run Streamlit in this process's place (its signals and exit code are the command's),
    telling the dashboard the address it listens on (its local mode depends on it)."""
    host = command[command.index("--server.address") + 1]
    env = os.environ | {"SEGWISE_APP_HOST": host}
    if os.name == "posix":
        os.execve(command[0], command, env)
    return subprocess.call(command, env=env)
