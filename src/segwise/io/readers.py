"""Open CSV/TSV, XLSX and Parquet exports as a DuckDB relation named ``src``, without parsing
rows in Python: DuckDB reads delimited text and Parquet in parallel; XLSX goes through openpyxl.

Text is read as UTF-8 (with or without BOM); when that fails, as cp1252 or ISO-8859-1;
UTF-16 (Excel's "Unicode text") from a UTF-8 copy.
Columns separated by runs of spaces or tabs are read from a tab-separated copy (``sniff``).
Only the columns that play a role are loaded, and every row keeps its number (``_row``).
Before any of that, ``limits`` refuses inputs that claim too much (see its settings).
"""

from __future__ import annotations

import codecs
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from segwise.errors import InputError
from segwise.io import limits, sniff
from segwise.io.sql import ident, literal

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

SAMPLE_ROWS = 2000
_TEXT_TYPES = ("VARCHAR",)
_CP1252_ONLY = re.compile(rb"[\x80-\x9f]")


@dataclass
class Source:
    """A file opened for reading: its format, columns, sniffed types and a sample of values."""

    path: Path
    format: str  # "csv" | "parquet" | "xlsx"
    columns: list[str]
    types: dict[str, str]
    sample: dict[str, list[object]]
    encoding: str | None = None
    delimiter: str | None = None  # for the report: ",", "tab", "whitespace" ...
    header: bool = True
    _csv_options: dict[str, str] = field(default_factory=dict, repr=False)
    _temp: Path | None = field(default=None, repr=False)

    @property
    def separator(self) -> str | None:
        """The field separator of a delimited text file (None for XLSX and Parquet)."""
        return self._csv_options.get("delim")

    def close(self) -> None:
        """Remove the UTF-8 copy made of a cp1252 file, if any."""
        if self._temp is not None:
            self._temp.unlink(missing_ok=True)
            self._temp = None

    def describe(self) -> dict[str, object]:
        """What was read, for the report."""
        out: dict[str, object] = {"file": self.path.name, "format": self.format}
        if self.format == "csv":
            out |= {"encoding": self.encoding, "delimiter": self.delimiter}
        return out


def open_source(con: duckdb.DuckDBPyConnection, path: str | Path) -> Source:
    """Inspect a file: check it is readable, detect its format, columns and a value sample."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path, hint="check the path")
    if path.is_dir():
        raise InputError("is a folder, not a file", file=path, hint="give one file")
    if path.stat().st_size == 0:
        raise InputError("the file is empty", file=path, hint="export the data again")
    suffix = path.suffix.lower()
    head = path.read_bytes()[:8192] if path.stat().st_size < 8192 else _head(path)
    if suffix in (".xlsx", ".xlsm"):
        return _open_xlsx(con, path, head)
    if suffix == ".xls":
        raise InputError(
            "old Excel .xls files are not supported", file=path, hint="save it as .xlsx or CSV"
        )
    if suffix in (".parquet", ".pq") or head.startswith(b"PAR1"):
        return _open_parquet(con, path)
    if head.startswith(b"PK\x03\x04"):
        raise InputError(
            "looks like a zip or Excel file, not text", file=path, hint="name it .xlsx if it is"
        )
    utf16 = sniff.utf16_encoding(head)
    if b"\x00" in head and utf16 is None:
        raise InputError(
            "looks like a binary file, not CSV/TSV text",
            file=path,
            hint="export the data as CSV, TSV, XLSX or Parquet",
        )
    limits.check_text_head(path, utf16 or "utf-8")
    return _open_csv(con, path, utf16)


def load(con: duckdb.DuckDBPyConnection, source: Source, text_columns: set[str]) -> None:
    """Create the relation ``src`` (columns of ``text_columns`` plus ``_row``) from ``source``.

    Every listed column is read as text so that ids keep leading zeros and dates are not
    guessed by the reader; the typing happens later, in the open, with counts of failures.
    """
    cols = [c for c in source.columns if c in text_columns]
    if source.format == "parquet":
        select = ", ".join(ident(c) for c in cols)
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW src AS SELECT file_row_number + 1 AS _row, {select} "
            f"FROM read_parquet({literal(str(source.path))}, file_row_number = true)"
        )
        return
    if source.format == "xlsx":
        select = ", ".join(ident(c) for c in cols)
        con.execute(f"CREATE OR REPLACE TEMP VIEW src AS SELECT _row, {select} FROM xlsx_raw")
        return
    _load_csv(con, source, cols)


def _head(path: Path, size: int = 8192) -> bytes:
    with path.open("rb") as fh:
        return fh.read(size)


def _open_csv(con: duckdb.DuckDBPyConnection, path: Path, utf16: str | None = None) -> Source:
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
            _raise_if_out_of_memory(exc)
            if "unicode" in str(exc).lower() and encoding == "utf-8":
                continue
            raise _csv_error(exc, path) from None
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
        f"SELECT Delimiter, Quote, Escape, HasHeader, Columns "
        f"FROM sniff_csv({literal(str(source_path))}, {opts}, sample_size = 20480{forced})"
    ).fetchone()
    assert sniffed is not None
    delimiter, quote, escape, has_header, columns = sniffed
    limits.check_columns(len(columns), path)
    whole = source_path.stat().st_size <= sniff.HEAD_BYTES
    lines = sniff.sample_lines(
        _head(source_path, sniff.HEAD_BYTES), options["encoding"], whole=whole
    )
    if delim is None and sniff.splits_on_blanks(lines, delimiter, len(columns)):
        return _open_blank_separated(con, path, source_path, encoding)
    better = sniff.header_delimiter(lines)
    if better and (len(columns) == 1 or not has_header):
        # the sniffer gives up on a ragged file: read it with the header's delimiter, which
        # either works or fails with the line that does not fit
        delimiter, has_header = better, True
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
    rel = con.execute(
        f"SELECT * FROM read_csv({literal(str(source_path))}, {_render(csv_options)}, "
        f"all_varchar = true) LIMIT {SAMPLE_ROWS}"
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


def _load_csv(con: duckdb.DuckDBPyConnection, source: Source, cols: list[str]) -> None:
    import duckdb

    target = source._temp or source.path
    select = ", ".join(ident(c) for c in cols)
    types = ", ".join(f"{literal(c)}: 'VARCHAR'" for c in cols if source.types[c] != "VARCHAR")
    types_opt = f", types = {{{types}}}" if types else ""
    query = (
        f"CREATE OR REPLACE TEMP TABLE src_raw AS SELECT {select} FROM "
        f"read_csv({literal(str(target))}, {_render(source._csv_options)}{types_opt})"
    )
    try:
        con.execute(query)
    except duckdb.Error as exc:
        _raise_if_out_of_memory(exc)
        if "unicode" not in str(exc).lower() or source.encoding != "utf-8":
            raise _csv_error(exc, source.path) from None
        fallback = _fallback_encoding(source.path)
        source.encoding = fallback
        if fallback == "cp1252":
            source._temp = _transcode(source.path)
        else:
            source._csv_options["encoding"] = "latin-1"
        _load_csv(con, source, cols)
        return
    con.execute("CREATE OR REPLACE TEMP VIEW src AS SELECT rowid + 1 AS _row, * FROM src_raw")


def _render(options: dict[str, str]) -> str:
    parts = []
    for key, value in options.items():
        parts.append(f"{key} = {value}" if key == "header" else f"{key} = {literal(value)}")
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


def _raise_if_out_of_memory(exc: Exception) -> None:
    """Running out of memory is not a broken file: let the engine report it as such."""
    import duckdb

    if isinstance(exc, duckdb.OutOfMemoryException):
        raise exc


def _csv_error(exc: Exception, path: Path) -> InputError:
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


def _open_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> Source:
    import duckdb

    rel_sql = f"read_parquet({literal(str(path))})"
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {rel_sql}").fetchall()
        limits.check_columns(len(described), path)
        rows = con.execute(f"SELECT * FROM {rel_sql} LIMIT {SAMPLE_ROWS}").fetchall()
    except duckdb.Error as exc:
        _raise_if_out_of_memory(exc)
        raise InputError(
            f"not a readable Parquet file: {str(exc).splitlines()[0]}",
            file=path,
            hint="export it again or use CSV",
        ) from None
    names = [str(r[0]) for r in described]
    if not rows:
        raise InputError("the file has no rows", file=path, hint="export the data again")
    return Source(
        path=path,
        format="parquet",
        columns=names,
        types={str(r[0]): str(r[1]) for r in described},
        sample={name: [row[i] for row in rows] for i, name in enumerate(names)},
    )


def _open_xlsx(con: duckdb.DuckDBPyConnection, path: Path, head: bytes) -> Source:
    if not head.startswith(b"PK\x03\x04") or not zipfile.is_zipfile(path):
        raise InputError(
            "not a real .xlsx file (it is not a zip archive)",
            file=path,
            hint="if it is CSV text, rename it .csv; otherwise save it again from Excel",
        )
    limits.check_workbook(path)  # before openpyxl unpacks anything
    import pandas as pd

    try:
        frame = pd.read_excel(path, sheet_name=0, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for broken workbooks
        raise InputError(
            f"cannot read the workbook: {exc}", file=path, hint="save it again from Excel"
        ) from None
    if frame.empty:
        raise InputError("the first sheet has no data rows", file=path, hint="check the sheet")
    limits.check_columns(len(frame.columns), path)  # a sheet that declared no extent
    frame.columns = [str(c) for c in frame.columns]
    for col in frame.columns:
        if frame[col].dtype == object or str(frame[col].dtype).startswith(("str", "string")):
            frame[col] = frame[col].map(lambda v: None if pd.isna(v) else str(v))
    frame.insert(0, "_row", range(1, len(frame) + 1))
    con.register("xlsx_frame", frame)
    con.execute("CREATE OR REPLACE TEMP TABLE xlsx_raw AS SELECT * FROM xlsx_frame")
    con.unregister("xlsx_frame")
    described = con.execute("DESCRIBE xlsx_raw").fetchall()
    names = [str(r[0]) for r in described if r[0] != "_row"]
    rows = con.execute(f"SELECT * EXCLUDE (_row) FROM xlsx_raw LIMIT {SAMPLE_ROWS}").fetchall()
    return Source(
        path=path,
        format="xlsx",
        columns=names,
        types={str(r[0]): str(r[1]) for r in described if r[0] != "_row"},
        sample={name: [row[i] for row in rows] for i, name in enumerate(names)},
    )


def read_table(path: str | Path) -> tuple[Source, pd.DataFrame]:
    """A customer table (one row per customer) as pandas, columns typed as the reader sniffed."""
    import duckdb

    con = duckdb.connect()
    source = open_source(con, path)
    try:
        if source.format == "parquet":
            frame = con.execute(f"SELECT * FROM read_parquet({literal(str(source.path))})").df()
        elif source.format == "xlsx":
            frame = con.execute("SELECT * EXCLUDE (_row) FROM xlsx_raw").df()
        else:
            target = source._temp or source.path
            try:
                frame = con.execute(
                    f"SELECT * FROM read_csv({literal(str(target))}, "
                    f"{_render(source._csv_options)}, sample_size = -1)"
                ).df()
            except duckdb.Error as exc:
                _raise_if_out_of_memory(exc)
                raise _csv_error(exc, source.path) from None
    finally:
        source.close()
        con.close()
    frame.columns = [str(c).replace("\ufeff", "") for c in frame.columns]
    return source, frame
