"""Delimited text exports (CSV, TSV, whitespace-separated): sniffed and read by DuckDB.

Text is read as UTF-8 (with or without BOM); when that fails, as cp1252 or ISO-8859-1;
UTF-16 (Excel's "Unicode text") from a UTF-8 copy. Columns separated by runs of spaces or tabs
are read from a tab-separated copy (``sniff``).
"""

from __future__ import annotations

import codecs
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from segwise.errors import InputError
from segwise.io import limits, sniff
from segwise.io.source import SAMPLE_ROWS, Source, head_bytes, raise_if_out_of_memory
from segwise.io.sql import ident, literal

if TYPE_CHECKING:
    import duckdb

_TEXT_TYPES = ("VARCHAR",)
_CP1252_ONLY = re.compile(rb"[\x80-\x9f]")


def open_csv(con: duckdb.DuckDBPyConnection, path: Path, utf16: str | None = None) -> Source:
    """``utf16``: the file is UTF-16 text of that byte order; it is read from a UTF-8 copy."""
    import duckdb

    for attempt in range(2):
        encoding = utf16 or ("utf-8" if attempt == 0 else _fallback_encoding(path))
        options = {"encoding": encoding}
        source_path = path
        if encoding == "cp1252" or utf16:
            source_path = _transcode(path, encoding)
            options = {"encoding": "utf-8"}
        try:
            return _sniff_csv(con, path, source_path, options, encoding)
        except duckdb.Error as exc:
            _discard(path, source_path)
            raise_if_out_of_memory(exc)
            if "unicode" in str(exc).lower() and encoding == "utf-8":
                continue
            raise csv_error(exc, path) from None
        except BaseException:
            _discard(path, source_path)
            raise
    raise InputError("cannot decode the text", file=path, hint="save the file as UTF-8")


def _discard(path: Path, source_path: Path) -> None:
    """Remove the UTF-8 copy of ``path`` that failed to read (no Source owns it)."""
    if source_path != path:
        source_path.unlink(missing_ok=True)


def _sniff_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    source_path: Path,
    options: dict[str, str],
    encoding: str,
    *,
    delim: str | None = None,
) -> Source:
    opts = f"encoding = {literal(options['encoding'])}, max_line_size = {limits.line_limit_bytes()}"
    forced = f", delim = {literal(delim)}" if delim else ""
    sniffed = con.execute(
        f"SELECT Delimiter, Quote, Escape, HasHeader, Columns, NewLineDelimiter, SkipRows, "
        f"Comment FROM sniff_csv({literal(str(source_path))}, {opts}, sample_size = 20480{forced})"
    ).fetchone()
    assert sniffed is not None
    delimiter, quote, escape, has_header, columns, new_line, skip, comment = sniffed
    dialect = {
        "quote": _unless_empty(quote),
        "escape": _unless_empty(escape),
        "new_line": new_line,
        "skip": str(skip),
        "comment": _unless_empty(comment),
    }
    limits.check_columns(len(columns), path)
    whole = source_path.stat().st_size <= sniff.HEAD_BYTES
    lines = sniff.sample_lines(
        head_bytes(source_path, sniff.HEAD_BYTES), options["encoding"], whole=whole
    )
    if delim is None and sniff.splits_on_blanks(lines, delimiter, len(columns)):
        return _open_blank_separated(con, path, source_path, encoding)
    better = sniff.header_delimiter(lines)
    if better and (len(columns) == 1 or not has_header):
        # the sniffer gives up on a ragged file: read it with the header's delimiter, which
        # either works or fails with the line that does not fit
        delimiter, has_header, dialect = better, True, {}  # sniffed for another delimiter
        sniff.check_field_counts(con, path, source_path, better, opts)
        columns = con.execute(
            f"DESCRIBE SELECT * FROM read_csv({literal(str(source_path))}, "
            f"delim = {literal(better)}, header = true, {opts})"
        ).fetchall()
        columns = [{"name": c[0], "type": c[1]} for c in columns]
        limits.check_columns(len(columns), path)
    if len(columns) == 1 and (problem := sniff.split_problem(lines, path)):
        raise problem
    csv_options = {"delim": delimiter, "header": "true" if has_header else "false"}
    csv_options |= {k: v for k, v in (("quote", quote), ("escape", escape)) if len(v) == 1}
    csv_options["encoding"] = options["encoding"]
    csv_options["max_line_size"] = str(limits.line_limit_bytes())  # any line, not only the first
    names = [str(c["name"]) for c in columns]
    types = {str(c["name"]): str(c["type"]) for c in columns}
    text = dict.fromkeys(names, "VARCHAR")
    rel = con.execute(
        f"SELECT * FROM read_csv({literal(str(source_path))}, "
        f"{_read_options(csv_options, dialect, text)}) LIMIT {SAMPLE_ROWS}"
    )
    rows = rel.fetchall()
    if not rows:
        raise InputError(
            "the file has a header but no data rows" if has_header else "the file has no rows",
            file=path,
            hint="export the data again",
        )
    sample = {name: [row[i] for row in rows] for i, name in enumerate(names)}
    return Source(
        path=path,
        format="csv",
        columns=names,
        types=types,
        sample=sample,
        encoding=encoding,
        delimiter={"\t": "tab"}.get(delimiter, delimiter),
        header=bool(has_header),
        _csv_options=csv_options,
        _csv_dialect=dialect,
        _temp=source_path if source_path != path else None,
    )


def _open_blank_separated(
    con: duckdb.DuckDBPyConnection, path: Path, source_path: Path, encoding: str
) -> Source:
    """Read a file whose columns are separated by runs of blanks, from a tab-separated copy."""
    try:
        tabbed = sniff.write_tab_separated(path, encoding)
    except UnicodeDecodeError:  # the head was UTF-8, a later line is not
        encoding = _fallback_encoding(path)
        tabbed = sniff.write_tab_separated(path, encoding)
    if source_path != path:
        source_path.unlink(missing_ok=True)
    try:
        source = _sniff_csv(con, path, tabbed, {"encoding": "utf-8"}, encoding, delim="\t")
    except BaseException:
        tabbed.unlink(missing_ok=True)
        raise
    source.delimiter = "whitespace"
    return source


def load_csv(con: duckdb.DuckDBPyConnection, source: Source, cols: list[str]) -> None:
    """``src``: the columns ``cols`` as text, read once into a table, rows numbered."""
    import duckdb

    query = f"CREATE OR REPLACE TEMP TABLE src_raw AS {_read_text(source, cols)}"
    source.streamed, source.typed, source.dateformat = False, {}, None
    try:
        con.execute(query)
    except duckdb.Error as exc:
        raise_if_out_of_memory(exc)
        if "unicode" not in str(exc).lower() or source.encoding != "utf-8":
            raise csv_error(exc, source.path) from None
        fallback = _fallback_encoding(source.path)
        source.encoding = fallback
        if fallback == "cp1252":
            source._temp = _transcode(source.path)
        else:
            source._csv_options["encoding"] = "latin-1"
        load_csv(con, source, cols)
        return
    con.execute("CREATE OR REPLACE TEMP VIEW src AS SELECT rowid + 1 AS _row, * FROM src_raw")


def read_text_file(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    cols: list[str],
    *,
    typed: dict[str, str] | None = None,
    dateformat: str | None = None,
    table: bool = False,
) -> None:
    """``src``: the columns ``cols`` as text, but those of ``typed`` as those types (a DATE
    or TIMESTAMP with ``dateformat``). Read by each query that reads ``src``, rows not
    numbered (``_row`` NULL): one query over a 10M-line file then holds no lines in memory.
    With ``table``, read once into a table, rows numbered. DuckDB's errors are raised as they
    are: ``load_csv`` reads the file again to report them in a line."""
    select = _read_text(source, cols, typed or {}, dateformat)
    if table:
        con.execute(f"CREATE OR REPLACE TEMP TABLE src_raw AS {select}")
        con.execute("CREATE OR REPLACE TEMP VIEW src AS SELECT rowid + 1 AS _row, * FROM src_raw")
    else:
        con.execute(
            "CREATE OR REPLACE TEMP VIEW src AS "
            f"SELECT CAST(NULL AS BIGINT) AS _row, * FROM ({select})"
        )
    source.streamed, source.typed, source.dateformat = not table, typed or {}, dateformat


def _read_text(
    source: Source,
    cols: list[str],
    typed: dict[str, str] | None = None,
    dateformat: str | None = None,
) -> str:
    """The SELECT reading the columns ``cols`` of a delimited text file: as text, but the
    columns of ``typed`` as those types."""
    target = source._temp or source.path
    select = ", ".join(ident(c) for c in cols)
    kinds = {c: (typed or {}).get(c, "VARCHAR") for c in source.columns}
    options = _read_options(source._csv_options, source._csv_dialect, kinds, only=cols)
    if dateformat:
        stamps = "TIMESTAMP" in kinds.values()
        options += f", {'timestampformat' if stamps else 'dateformat'} = {literal(dateformat)}"
    return f"SELECT {select} FROM read_csv({literal(str(target))}, {options})"


def _read_options(
    options: dict[str, str],
    dialect: dict[str, str],
    kinds: dict[str, str],
    *,
    only: list[str] | None = None,
) -> str:
    """read_csv's options for the columns ``kinds`` (every column of the file, in order):
    with the sniffed ``dialect``, named and typed so that DuckDB does not sniff again; without
    it, auto-detected with the types of the columns ``only`` (default: all) given."""
    if dialect:
        named = options | dialect | {"auto_detect": "false"}
        return f"{render_options(named)}, columns = {_struct(kinds)}"
    picked = {c: kinds[c] for c in only} if only is not None else kinds
    return f"{render_options(options)}, types = {_struct(picked)}"


def _struct(kinds: dict[str, str]) -> str:
    return "{" + ", ".join(f"{literal(c)}: {literal(k)}" for c, k in kinds.items()) + "}"


def _unless_empty(sniffed: str) -> str:
    """A character of the sniffed dialect; '' where the sniffer found none ('(empty)')."""
    return "" if sniffed == "(empty)" else sniffed


def render_options(options: dict[str, str]) -> str:
    parts = []
    for key, value in options.items():
        plain = key in ("header", "auto_detect", "skip")
        parts.append(f"{key} = {value}" if plain else f"{key} = {literal(value)}")
    return ", ".join(parts)


def _fallback_encoding(path: Path) -> str:
    """cp1252 when the file holds bytes that only cp1252 gives meaning (0x80-0x9F), else latin-1."""
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 24):
            if _CP1252_ONLY.search(chunk):
                return "cp1252"
    return "latin-1"


def _transcode(path: Path, encoding: str = "cp1252") -> Path:
    """Copy a cp1252 or UTF-16 file as UTF-8 into a temp file (streamed in large blocks, not
    by line), without a byte-order mark."""
    out = Path(tempfile.mkstemp(prefix="segwise-", suffix=".csv")[1])
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    try:
        with path.open("rb") as src, out.open("w", encoding="utf-8", newline="") as dst:
            first = True
            while chunk := src.read(1 << 24):
                text = decoder.decode(chunk)
                dst.write(text.lstrip("\ufeff") if first else text)
                first = first and not text
            dst.write(decoder.decode(b"", final=True))
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return out


def csv_error(exc: Exception, path: Path) -> InputError:
    text = str(exc)
    if long := re.search(r"Maximum line size of \d+ bytes exceeded\. Actual Size:\s*(\d+)", text):
        limit_kb = limits.line_limit_bytes() // 1024
        return InputError(  # the engine's line number is not reliable here: none is given
            f"a line is {int(long.group(1)) / 1024:,.0f} KB long, over the limit of"
            f" {limit_kb:,} KB",
            file=path,
            hint="check that this is a CSV/TSV export, or raise SEGWISE_MAX_LINE_KB",
        )
    line = re.search(r"[Ll]ine:?\s*(\d+)", text)
    first = text.splitlines()[0] if text else "cannot read the file"
    first = re.sub(r"^[A-Za-z ]*Error:\s*", "", first)
    return InputError(
        f"cannot read as CSV/TSV: {first}",
        file=path,
        row=int(line.group(1)) - 1 if line else None,
        hint="check the separator and quoting, or export the file again",
    )
