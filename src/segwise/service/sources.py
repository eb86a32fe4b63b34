"""Inputs that are not one local file: a database table or query, read into a temporary
Parquet file that every use case then reads as it reads an export."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from segwise.config import Settings, get_settings
from segwise.errors import InputError
from segwise.features.rfm import RfmOptions
from segwise.io.database import export_to_parquet, is_database_url, masked
from segwise.service.datasets import DatasetInfo, KindChoice, ingest


@contextmanager
def local_input(
    source: str | Path,
    *,
    table: str | None = None,
    query: str | None = None,
    settings: Settings | None = None,
) -> Iterator[Path]:
    """The file to read for ``source``: itself, or, for a database URL, its ``table`` or
    ``query`` exported to a temporary Parquet file under SEGWISE_HOME (removed afterwards)."""
    text = str(source)
    if not is_database_url(text):
        if table is not None or query is not None:
            raise InputError(
                "--table and --query read from a database",
                hint="give a database URL as the input, e.g. postgresql://me@db/shop",
            )
        yield Path(source)
        return
    settings = settings or get_settings()
    parent = settings.home / "tmp"
    parent.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", table or "query")[:80]
    with tempfile.TemporaryDirectory(dir=parent) as folder:
        target = Path(folder) / f"{stem}.parquet"
        export_to_parquet(text, table=table, query=query, target=target)
        yield target


def describe_input(
    source: str | Path, *, table: str | None = None, query: str | None = None
) -> str:
    """How the catalog records an input: the file, or the masked URL with the table/query."""
    text = str(source)
    if not is_database_url(text):
        return str(Path(text).resolve())
    return f"{masked(text)} " + (f"table {table}" if table else f"query {query}")


def ingest_input(
    source: str | Path,
    *,
    table: str | None = None,
    query: str | None = None,
    name: str | None = None,
    kind: KindChoice = "auto",
    options: RfmOptions | None = None,
    pseudonymise: bool | None = None,
    settings: Settings | None = None,
) -> DatasetInfo:
    """Store a file, or a database table or query, as a dataset (see ``ingest``); a
    database input is named after its table (or "query") unless ``name`` says otherwise."""
    with local_input(source, table=table, query=query, settings=settings) as path:
        database = is_database_url(str(source))
        return ingest(
            path,
            name=name or (table or "query" if database else None),
            kind=kind,
            options=options,
            pseudonymise=pseudonymise,
            source=describe_input(source, table=table, query=query),
            settings=settings,
        )


def is_database_input(source: str | Path) -> bool:
    """Whether ``source`` is a database URL (then ``--table`` or ``--query`` says what to read)."""
    return is_database_url(str(source))
