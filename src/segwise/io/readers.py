"""Open CSV/TSV, XLSX and Parquet exports as a DuckDB relation named ``src``, without parsing
rows in Python: DuckDB reads delimited text and Parquet in parallel; XLSX goes through openpyxl.

Delimited text is read by ``text_files`` (encodings, separators, line limits).
Only the columns that play a role are loaded, and every row keeps its number (``_row``).
Before any of that, ``limits`` refuses inputs that claim too much (see its settings).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from segwise.errors import InputError
from segwise.io import limits, sniff
from segwise.io.duck import connect
from segwise.io.source import SAMPLE_ROWS, Source, head_bytes, raise_if_out_of_memory
from segwise.io.sql import ident, literal
from segwise.io.text_files import (
    csv_error,
    load_csv,
    open_csv,
    read_text_file,
    render_options,
)

if TYPE_CHECKING:
    import duckdb
    import pandas as pd


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
    head = path.read_bytes()[:8192] if path.stat().st_size < 8192 else head_bytes(path)
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
    return open_csv(con, path, utf16)


def load(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    text_columns: set[str],
    *,
    stream: bool = False,
) -> None:
    """Create the relation ``src`` (columns of ``text_columns`` plus ``_row``) from ``source``.

    Every listed column of a text file is read as text so that ids keep leading zeros and
    dates are not guessed by the reader; the typing happens later, in the open, with counts
    of failures. ``stream``: a UTF-8 text file is read by each query as it goes rather than
    held in a table (``text_files.read_text_file``; the caller then reads it into a table,
    typed or not, or ``numbered`` does when line numbers are needed).
    """
    cols = [c for c in source.columns if c in text_columns]
    source.loaded = cols
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
    if stream and source._temp is None:
        read_text_file(con, source, cols)
    else:
        load_csv(con, source, cols)


def numbered(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    """Make ``src`` number its rows if it reads a text file as it goes (an error message
    names a row): the same columns read the same way, into a table."""
    if source.streamed:
        typed, fmt = source.typed, source.dateformat
        read_text_file(con, source, source.loaded, typed=typed, dateformat=fmt, table=True)


def _open_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> Source:
    import duckdb

    rel_sql = f"read_parquet({literal(str(path))})"
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {rel_sql}").fetchall()
        limits.check_columns(len(described), path)
        rows = con.execute(f"SELECT * FROM {rel_sql} LIMIT {SAMPLE_ROWS}").fetchall()
    except duckdb.Error as exc:
        raise_if_out_of_memory(exc)
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

    con = connect()
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
                    f"{render_options(source._csv_options)}, sample_size = -1)"
                ).df()
            except duckdb.Error as exc:
                raise_if_out_of_memory(exc)
                raise csv_error(exc, source.path) from None
    finally:
        source.close()
        con.close()
    frame.columns = [str(c).replace("\ufeff", "") for c in frame.columns]
    return source, frame


__all__ = ["SAMPLE_ROWS", "Source", "load", "open_source", "read_table"]
