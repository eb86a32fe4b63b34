"""Quoting for SQL text built from user data (column names, paths, literals)."""

from __future__ import annotations


def ident(name: str) -> str:
    """A quoted SQL identifier: any column name, spaces and quotes included."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A quoted SQL string literal."""
    return "'" + value.replace("'", "''") + "'"
