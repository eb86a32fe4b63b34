"""Inputs that are not one plain local file: a database table or query, a folder, glob or
list of exports, or an M-Pesa statement. Each is turned into a temporary Parquet file that
every use case then reads as it reads an export.

A source is given as a string (or a list of them, as a shell expands an unquoted glob), so a
schedule can store it as text: ``exports/``, ``"exports/2026-*.csv"``, ``statement.xlsx``,
``postgresql://me@db/shop`` (with ``table`` or ``query``).
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from segwise.config import Settings, get_settings
from segwise.errors import InputError
from segwise.features.rfm import RfmOptions
from segwise.io import folders, mpesa
from segwise.io.database import export_to_parquet, is_database_url, masked
from segwise.io.manifest import LogManifest, read_manifest
from segwise.store.lake import file_hash

if TYPE_CHECKING:  # the catalog is only opened to store (rfm on a file never opens it)
    from segwise.service.datasets import DatasetInfo, KindChoice

InputFormat = Literal["auto", "mpesa"]
FORMATS = ("auto", "mpesa")
Source = str | Path | Sequence[str | Path]
"""One file, folder, glob or database URL, or several files and globs."""


@dataclass(frozen=True)
class PreparedInput:
    """The file to read for a source, what to name a dataset of it, and, when it was
    assembled from other files, those files (name, path) and how they were read."""

    path: Path
    name: str | None = None
    files: tuple[tuple[str, Path], ...] = ()
    how: str = ""

    def content_key(self) -> str | None:
        """A key standing for the assembled files' names and bytes (hashed only when a
        dataset is stored), so the same files give the same dataset; None: hash ``path``."""
        if not self.files:
            return None
        return "\0".join(f"{name}\0{file_hash(path)}" for name, path in self.files) + self.how


def _inputs(source: Source) -> list[str]:
    if isinstance(source, str | Path):
        return [str(source)]
    found = [str(s) for s in source]
    if not found:
        raise InputError("no input given", hint="give a file, a folder or a glob")
    return found


def check_format(input_format: str) -> InputFormat:
    """``--format``: auto (recognise M-Pesa statements) or mpesa (insist on one)."""
    if input_format not in FORMATS:
        raise InputError(
            f"--format '{input_format}' is unknown", hint=f"use one of {', '.join(FORMATS)}"
        )
    return input_format  # type: ignore[return-value]


@contextmanager
def prepared_input(
    source: Source,
    *,
    table: str | None = None,
    query: str | None = None,
    options: RfmOptions | None = None,
    input_format: str = "auto",
    settings: Settings | None = None,
) -> Iterator[PreparedInput]:
    """The file to read for ``source`` (see ``local_input``), with a dataset name and a
    content key when segwise assembled it."""
    inputs = _inputs(source)
    fmt = check_format(input_format)
    options = options or RfmOptions()
    settings = settings or get_settings()
    if len(inputs) == 1 and is_database_url(inputs[0]):
        with _temp_folder(settings) as folder:
            stem = re.sub(r"[^A-Za-z0-9_.-]", "_", table or "query")[:80]
            target = folder / f"{stem}.parquet"
            export_to_parquet(inputs[0], table=table, query=query, target=target)
            yield PreparedInput(target, name=table or "query")
        return
    if table is not None or query is not None:
        raise InputError(
            "--table and --query read from a database",
            hint="give a database URL as the input, e.g. postgresql://me@db/shop",
        )
    if folders.is_file_set(inputs):
        fileset = folders.expand(inputs, max_files=settings.max_files)
        with _temp_folder(settings) as folder:
            target = folder / "combined.parquet"
            folders.combine(
                fileset,
                target,
                columns=options.columns,
                date_format=options.date_format,
                prepare=_statement_preparer(folder, fmt, options),
            )
            files = tuple(zip(fileset.names, fileset.files, strict=True))
            with _located(target, fileset.label, read_manifest(target)):
                yield PreparedInput(target, name=fileset.label, files=files, how=fmt)
        return
    path = Path(inputs[0])
    if fmt == "mpesa" or mpesa.is_statement(path):
        _check_no_column_flags(options, path)
        with _temp_folder(settings) as folder:
            target = folder / f"{path.stem[:80]}.parquet"
            mpesa.convert(path, target)
            with _located(target, path.name, None):
                # keyed by the statement's bytes, not its name (as a file is)
                yield PreparedInput(target, name=path.name, files=(("", path),), how="mpesa")
        return
    yield PreparedInput(path)


@contextmanager
def local_input(
    source: Source,
    *,
    table: str | None = None,
    query: str | None = None,
    options: RfmOptions | None = None,
    input_format: str = "auto",
    settings: Settings | None = None,
) -> Iterator[Path]:
    """The file to read for ``source``: itself; or, for a database URL, its ``table`` or
    ``query``; for a folder, a glob or several files, their lines as one log; for an M-Pesa
    statement (recognised, or ``input_format="mpesa"``), its transactions as a log. What is
    assembled lives in a temporary Parquet file under SEGWISE_HOME, removed afterwards."""
    with prepared_input(
        source,
        table=table,
        query=query,
        options=options,
        input_format=input_format,
        settings=settings,
    ) as prepared:
        yield prepared.path


@contextmanager
def _located(target: Path, label: str, manifest: LogManifest | None) -> Iterator[None]:
    """Errors about the assembled file name the input instead: with a manifest, the file
    and row a line came from; else the input (its rows are not the file's)."""
    try:
        yield
    except InputError as error:
        if error.file is None or Path(error.file) != target:
            raise
        file, row = label, None
        if manifest is not None and error.row is not None:
            for name, first, last in manifest.spans():
                if first <= error.row <= last:
                    file, row = name, error.row - first + 1
        raise InputError(
            error.message, file=file, row=row, column=error.column, hint=error.hint
        ) from None


@contextmanager
def _temp_folder(settings: Settings) -> Iterator[Path]:
    parent = settings.home / "tmp"
    parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=parent) as folder:
        yield Path(folder)


def _statement_preparer(folder: Path, fmt: InputFormat, options: RfmOptions) -> folders.Prepare:
    """For a folder: each M-Pesa statement in it becomes its log first (the others are
    read as they are)."""

    def prepare(path: Path) -> tuple[Path, dict[str, int]]:
        if fmt != "mpesa" and not mpesa.is_statement(path):
            return path, {}
        _check_no_column_flags(options, path)
        digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
        manifest = mpesa.convert(path, folder / f"statement-{digest}.parquet")
        return folder / f"statement-{digest}.parquet", manifest.excluded_total()

    return prepare


def _check_no_column_flags(options: RfmOptions, path: Path) -> None:
    given = [role for role, col in (options.columns or {}).items() if col]
    if given:
        raise InputError(
            f"--{given[0]} does not apply to an M-Pesa statement (its columns are fixed)",
            file=path,
            hint="leave out the column flags; see docs/mpesa.md for what is read",
        )


def describe_input(source: Source, *, table: str | None = None, query: str | None = None) -> str:
    """How the catalog records an input: the file, folder or glob, or the masked URL with
    the table/query."""
    inputs = _inputs(source)
    if len(inputs) == 1 and is_database_url(inputs[0]):
        return f"{masked(inputs[0])} " + (f"table {table}" if table else f"query {query}")
    if len(inputs) == 1 and not Path(inputs[0]).exists():
        return str(Path(inputs[0]).absolute())  # a glob
    return ", ".join(str(Path(i).resolve()) for i in inputs)


def ingest_input(
    source: Source,
    *,
    table: str | None = None,
    query: str | None = None,
    name: str | None = None,
    kind: KindChoice = "auto",
    options: RfmOptions | None = None,
    pseudonymise: bool | None = None,
    input_format: str = "auto",
    settings: Settings | None = None,
) -> DatasetInfo:
    """Store a file, a folder/glob of files, an M-Pesa statement, or a database table or
    query as a dataset (see ``ingest``). An assembled input is named after its table (or
    "query"), folder, pattern or statement unless ``name`` says otherwise; the same files
    give the same dataset."""
    from segwise.service.datasets import ingest

    with prepared_input(
        source,
        table=table,
        query=query,
        options=options,
        input_format=input_format,
        settings=settings,
    ) as prepared:
        return ingest(
            prepared.path,
            name=name,
            default_name=prepared.name,
            kind=kind,
            options=options,
            pseudonymise=pseudonymise,
            source=describe_input(source, table=table, query=query),
            settings=settings,
            content_key=prepared.content_key(),
        )


def is_database_input(source: Source) -> bool:
    """Whether ``source`` is a database URL (then ``--table`` or ``--query`` says what to read)."""
    inputs = _inputs(source)
    return len(inputs) == 1 and is_database_url(inputs[0])


def needs_assembling(source: Source, input_format: str = "auto") -> bool:
    """Whether ``source`` is read through a temporary file segwise assembles (a database,
    a folder, a glob, several files, an M-Pesa statement) rather than as it is."""
    inputs = _inputs(source)
    if is_database_input(inputs) or folders.is_file_set(inputs):
        return True
    return check_format(input_format) == "mpesa" or mpesa.is_statement(inputs[0])
