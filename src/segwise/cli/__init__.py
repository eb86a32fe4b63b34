"""The ``segwise`` command: parse flags, call one service function, render the result."""

from segwise.cli import logs, models, segments
from segwise.cli.app import app, main

__all__ = ["app", "logs", "main", "models", "segments"]
