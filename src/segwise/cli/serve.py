"""The ``serve`` command: the REST API under uvicorn."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from segwise.cli.main import app, errors_exit_2

NO_KEYS = (
    "warning: SEGWISE_API_KEYS is not set: every call but /healthz, /docs and /openapi.json "
    "will answer 401 but for users' keys (segwise keys create --user NAME), or set it "
    "(e.g. SEGWISE_API_KEYS=$(openssl rand -hex 24))"
)


@app.command()
@errors_exit_2
def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on; 0.0.0.0 exposes it to the network.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    log_level: Annotated[
        str, typer.Option(help="uvicorn log level: critical, error, warning, info, debug.")
    ] = "info",
    workers: Annotated[
        int, typer.Option(min=1, max=32, help="Server processes answering requests.")
    ] = 1,
) -> None:
    """Serve the REST API (OpenAPI at /docs); keys: users' (segwise keys create) and
    SEGWISE_API_KEYS.

    Example: SEGWISE_API_KEYS=s3cret segwise serve --port 8000
    """
    import uvicorn

    from segwise.api import create_app
    from segwise.config import get_settings
    from segwise.errors import ConfigError

    if log_level not in ("critical", "error", "warning", "info", "debug"):
        raise ConfigError(f"--log-level '{log_level}' is unknown; use info, warning or debug")
    settings = get_settings()
    if not (settings.api_keys.strip(" ,") or settings.api_read_keys.strip(" ,")):
        typer.secho(NO_KEYS, err=True, fg=typer.colors.YELLOW, bold=True)
    # one process serves this app; several each build their own from the same environment
    target: Any = "segwise.api:create_app" if workers > 1 else create_app(settings)
    uvicorn.run(
        target,
        host=host,
        port=port,
        log_level=log_level,
        server_header=False,
        factory=workers > 1,
        workers=workers if workers > 1 else None,
    )
