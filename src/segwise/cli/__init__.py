"""The ``segwise`` command: parse flags, call one service function, render the result."""

from segwise.cli import access, catalog, dashboard, logs, models, segments, serve
from segwise.cli.main import app, main

__all__ = ["access", "app", "catalog", "dashboard", "logs", "main", "models", "segments", "serve"]
