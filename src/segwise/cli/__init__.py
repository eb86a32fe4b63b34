"""The ``segwise`` command: parse flags, call one service function, render the result."""

from segwise.cli import (
    access,
    campaigns,
    catalog,
    dashboard,
    logs,
    models,
    schedules,
    segments,
    serve,
    value,
)
from segwise.cli.main import app, main

__all__ = [
    "access",
    "app",
    "campaigns",
    "catalog",
    "dashboard",
    "logs",
    "main",
    "models",
    "schedules",
    "segments",
    "serve",
    "value",
]
