"""The ``segwise`` command: parse flags, call one service function, render the result."""

from segwise.cli import catalog, logs, models, segments
from segwise.cli.app import app, main

__all__ = ["app", "catalog", "logs", "main", "models", "segments"]
