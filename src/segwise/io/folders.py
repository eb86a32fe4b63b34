"""A folder of exports, a glob (``exports/2026-*.csv``) or several files, read as one log.

Each file is read as a single file is (format, encoding, separator, header and role
detection, the per-file limits), its role columns are checked against the first file's,
and its lines are written, typed per file, into one Parquet file: ids as clean text,
dates as ISO days (unless ``--date-format`` was given: then as written), numbers with a
decimal point. A value a file's own rules cannot read is kept as written, so the engine
counts it as it would in that file. The Parquet file's manifest names the file each line
came from, so the cleaning report counts dropped lines per file.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from segwise.config import get_settings
from segwise.errors import InputError
from segwise.io.dates import AmbiguousDayMonth, DateFormat
from segwise.io.duck import connect
from segwise.io.line_rules import sniff_line_rules
from segwise.io.manifest import KEY, LogManifest
from segwise.io.readers import load, open_source
from segwise.io.roles import RoleMapping, detect_roles, require_log_roles
from segwise.io.sql import ident
from segwise.io.validate import (
    LineRules,
    customer_key_expr,
    customer_text_expr,
    date_expr,
    line_columns,
    number_expr,
)

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

DATA_SUFFIXES = frozenset({".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".parquet", ".pq"})
"""Files of a folder or glob that are read; others are skipped and counted."""

BATCH_ROWS = 100_000
_GLOB = frozenset("*?[")


@dataclass(frozen=True)
class FileSet:
    """The data files of a folder, glob or list, in name order, with what was skipped."""

    files: tuple[Path, ...]
    names: tuple[str, ...]  # each file's name relative to the folder they share
    skipped: dict[str, int] = field(default_factory=dict)  # hidden, not_data
    label: str = ""  # the folder's name, the pattern or "N files": to name a dataset after


def is_file_set(inputs: Sequence[str | Path]) -> bool:
    """Whether the input is several files, a folder or a glob (else one file, a URL or a
    dataset id, read as before)."""
    if len(inputs) != 1:
        return len(inputs) > 1
    text = str(inputs[0])
    return Path(text).is_dir() or (any(c in _GLOB for c in text) and not Path(text).exists())


def expand(inputs: Sequence[str | Path], *, max_files: int | None = None) -> FileSet:
    """The data files named by ``inputs`` (a folder, a glob, or several files and globs):
    hidden files and files that are not CSV/TSV/TXT/XLSX/Parquet are skipped and counted;
    sub-folders are not entered. More than ``max_files`` (SEGWISE_MAX_FILES) is refused."""
    limit = max_files or get_settings().max_files
    skipped = {"hidden": 0, "not_data": 0}
    found: dict[Path, None] = {}
    for item in inputs:
        text = str(item)
        if Path(text).is_dir():
            candidates = sorted(Path(text).iterdir())
        elif any(c in _GLOB for c in text) and not Path(text).exists():
            candidates = [Path(p) for p in sorted(glob.glob(text))]
            if not candidates:
                raise InputError(
                    f"no file matches '{text}'", hint="check the folder and the pattern"
                )
        else:
            if not Path(text).exists():
                raise InputError("file not found", file=text, hint="check the path")
            candidates = [Path(text)]
        for path in candidates:
            if path.name.startswith((".", "~$")):
                skipped["hidden"] += 1
            elif path.is_dir() or path.suffix.lower() not in DATA_SUFFIXES:
                skipped["not_data"] += 1
            else:
                found[path.resolve()] = None
    files = list(found)
    label = _label(inputs)
    if not files:
        raise InputError(
            f"no data files in '{label}'"
            + (f" ({_skipped_words(skipped)} skipped)" if any(skipped.values()) else ""),
            hint="give a folder or pattern of .csv .tsv .txt .xlsx or .parquet files",
        )
    if len(files) > limit:
        raise InputError(
            f"'{label}' holds {len(files):,} data files, over the limit of {limit:,}",
            hint="give a narrower folder or pattern, or raise SEGWISE_MAX_FILES",
        )
    root = Path(os.path.commonpath([str(p.parent) for p in files]))
    named = sorted((str(p.relative_to(root)).replace(os.sep, "/"), p) for p in files)
    return FileSet(
        files=tuple(p for _, p in named),
        names=tuple(n for n, _ in named),
        skipped=skipped,
        label=label,
    )


def _label(inputs: Sequence[str | Path]) -> str:
    if len(inputs) == 1:
        text = str(inputs[0])
        return Path(text).resolve().name if Path(text).is_dir() else text
    return f"{len(inputs)} files"


def _skipped_words(skipped: Mapping[str, int]) -> str:
    words = {"hidden": "hidden", "not_data": "not data"}
    return ", ".join(f"{n} {words.get(k, k)}" for k, n in skipped.items() if n)


Prepare = Callable[[Path], tuple[Path, dict[str, int]]]
"""Turns one file into a readable log first (an M-Pesa statement into its lines): the path
to read and the lines it left out, by reason."""


def combine(
    fileset: FileSet,
    target: Path,
    *,
    columns: Mapping[str, str | None] | None = None,
    date_format: str | None = None,
    prepare: Prepare | None = None,
) -> LogManifest:
    """Write the lines of every file of ``fileset`` into one Parquet file ``target``.

    ``columns`` are the column flags (they apply to every file); the first file's role
    columns name the output's. A file with a role the first lacks, or without one it has,
    stops with its name and the column. A file whose dates alone cannot tell day-first from
    month-first (a month's first twelve days) takes the order another file settled, and is
    written after the others. Returns the manifest written into ``target``.
    """
    out = _Combined(target, columns, date_format)
    excluded: dict[str, dict[str, int]] = {}
    deferred: list[tuple[str, Path, Path]] = []
    try:
        for name, original in zip(fileset.names, fileset.files, strict=True):
            path, left_out = prepare(original) if prepare else (original, {})
            if left_out:
                excluded[name] = left_out
            try:
                out.add(name, path, original)
            except AmbiguousDayMonth:
                deferred.append((name, path, original))
        for name, path, original in deferred:
            out.add(name, path, original)  # raises when no other file settled the order
        manifest = LogManifest(
            files=tuple(out.files),
            excluded=excluded,
            skipped={k: v for k, v in fileset.skipped.items() if v},
            origin="folder",
        )
    except BaseException:
        out.close()
        target.unlink(missing_ok=True)
        raise
    out.close(manifest)
    return manifest


class _Combined:
    """The Parquet file being written: its writer, the files so far, their date formats."""

    def __init__(
        self, target: Path, columns: Mapping[str, str | None] | None, date_format: str | None
    ) -> None:
        self.target, self.columns, self.date_format = target, columns, date_format
        self.writer: pq.ParquetWriter | None = None
        self.schema: pa.Schema | None = None
        self.first: tuple[str, RoleMapping] | None = None
        self.files: list[tuple[str, int]] = []
        self.formats: list[DateFormat] = []

    def add(self, name: str, path: Path, original: Path) -> None:
        """Append one file's typed lines (``path``: the file to read, as prepared)."""
        import pyarrow.parquet as pq

        with connect() as con:  # the engine's caps and spill folder hold here too
            mapping, rules, sql = _file_lines(
                con, path, original, self.columns, self.date_format, self.first, self.formats
            )
            self.first = self.first or (name, mapping)
            if rules.date_format is not None and not rules.date_format.whole_value:
                self.formats.append(rules.date_format)
            lines = 0
            for batch in con.sql(sql).to_arrow_reader(BATCH_ROWS):
                if self.writer is None:
                    self.schema = _schema(batch.schema)
                    self.writer = pq.ParquetWriter(self.target, self.schema)
                assert self.schema is not None
                self.writer.write_batch(batch.cast(self.schema))
                lines += batch.num_rows
        self.files.append((name, lines))

    def close(self, manifest: LogManifest | None = None) -> None:
        """Finish the file, with ``manifest`` in its metadata (without: abandon it)."""
        if self.writer is None:
            return
        if manifest is not None:
            self.writer.add_key_value_metadata({KEY.decode(): manifest.to_bytes().decode()})
        self.writer.close()
        self.writer = None


def _schema(schema: pa.Schema) -> pa.Schema:
    import pyarrow as pa

    return pa.schema([pa.field(f.name, pa.string()) for f in schema])


def _file_lines(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    original: Path,
    columns: Mapping[str, str | None] | None,
    date_format: str | None,
    first: tuple[str, RoleMapping] | None,
    formats: Sequence[DateFormat] = (),
) -> tuple[RoleMapping, LineRules, str]:
    """Load one file as ``src`` and return its mapping, rules and the SELECT of its typed
    lines; ``formats``: the date formats other files of the log settled."""
    source = open_source(con, path)
    try:
        mapping = detect_roles(source.columns, source.sample, columns, file=str(original))
        require_log_roles(mapping, source.columns, original)
        if first is not None:
            _check_agrees(first, mapping, original)
        load(con, source, line_columns(mapping))
    finally:
        source.close()  # ``load`` copied a text file into DuckDB
    types = {str(r[0]): str(r[1]) for r in con.execute("DESCRIBE src").fetchall()}
    try:
        rules = sniff_line_rules(con, source, mapping, types, date_format)
    except AmbiguousDayMonth as error:
        known = next((f for f in formats if f.format in error.formats), None)
        if known is None:
            raise
        settled = DateFormat(known.format, f"{known.reason}, in another file of the log")
        rules = sniff_line_rules(con, source, mapping, types, None, settled=settled)
    names = (first[1] if first else mapping).as_dict()
    select = [
        f"{_typed(rules, role, col, keep_dates=date_format is not None)} AS {ident(names[role])}"
        for role, col in mapping.as_dict().items()
        if col in line_columns(mapping)
    ]
    return mapping, rules, f"SELECT {', '.join(select)} FROM src ORDER BY _row"


def _typed(rules: LineRules, role: str, col: str, *, keep_dates: bool) -> str:
    """SQL for one role's value as text, normalised by the file's own rules."""
    raw = f"CAST({ident(col)} AS VARCHAR)"
    if role == "customer":
        key = f"({customer_key_expr(rules)})"
        return f"CAST({customer_text_expr(rules, key)} AS VARCHAR)"
    if role == "date" and not keep_dates:
        return f"coalesce(strftime({date_expr(rules)}, '%Y-%m-%d'), {raw})"
    if role in ("amount", "quantity", "price"):
        return f"coalesce(CAST({number_expr(rules, col)} AS VARCHAR), {raw})"
    return raw


def _check_agrees(first: tuple[str, RoleMapping], mapping: RoleMapping, file: Path) -> None:
    """A file must have the same roles as the first file (by role, not by header)."""
    name, reference = first
    ours = {r: c for r, c in mapping.as_dict().items() if c in line_columns(mapping)}
    theirs = {r: c for r, c in reference.as_dict().items() if c in line_columns(reference)}
    for role, col in theirs.items():
        if role not in ours:
            raise InputError(
                f"no {role} column, which '{name}' has as '{col}'",
                file=file,
                hint=f"give every file a {role} column (or name it with --{role})",
            )
    for role, col in ours.items():
        if role not in theirs:
            raise InputError(
                f"has a {role} column that '{name}' lacks",
                file=file,
                column=col,
                hint="export every file with the same columns, or read this one on its own",
            )
