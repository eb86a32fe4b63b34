"""Write result tables by file extension (.csv .parquet .xlsx), atomically and formula-safe.

A file is written beside its target and renamed into place, so a failure never leaves a
half-written file. Text cells a spreadsheet would execute (starting with ``= + - @``, tab or
carriage return) get a leading apostrophe in CSV and XLSX.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from segwise.errors import InputError
from segwise.io.atomic import atomic_path
from segwise.io.duck import connect
from segwise.io.sql import ident, literal

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

FORMATS = (".csv", ".parquet", ".xlsx")
XLSX_MAX_ROWS = 1_048_575
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def check_output_path(path: str | Path) -> Path:
    """Fail early (before any work) when an output path cannot be written."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise InputError(
            f"cannot write '{path.name}': unknown file type",
            hint=f"end the name in {', '.join(FORMATS)}",
        )
    if not path.parent.exists():
        raise InputError(f"folder '{path.parent}' does not exist", hint="create it first")
    return path


def neutralise(value: str) -> str:
    """A text cell made inert for spreadsheets (``=cmd()`` -> ``'=cmd()``)."""
    return "'" + value if value.startswith(_DANGEROUS) else value


def write_relation(
    con: duckdb.DuckDBPyConnection,
    table: str,
    path: str | Path,
    *,
    coded: Mapping[str, Sequence[str]] | None = None,
) -> Path:
    """Write the DuckDB table or view ``table`` to ``path``, chosen by extension.

    ``coded`` names text columns whose values all come from a short known list (an RFM
    segment, a score code): Parquet stores them as dictionary codes from that list (readers
    see text), which spares the writer building a dictionary of millions of texts (at 3.4M
    customers, two such columns cost as much to write as all the numbers).
    """
    path = check_output_path(path)
    suffix = path.suffix.lower()
    with atomic_path(path) as tmp:
        if suffix == ".parquet":
            select = "*"
            if coded:
                enums = {
                    column: "ENUM(" + ", ".join(literal(v) for v in dict.fromkeys(values)) + ")"
                    for column, values in coded.items()
                }
                replaced = ", ".join(
                    f"CAST({ident(c)} AS {e}) AS {ident(c)}" for c, e in enums.items()
                )
                select = f"* REPLACE ({replaced})"
            con.execute(
                f"COPY (SELECT {select} FROM {table}) TO {literal(str(tmp))} (FORMAT parquet)"
            )
        elif suffix == ".csv":
            con.execute(
                f"COPY (SELECT {_safe_select(con, table)} FROM {table}) TO {literal(str(tmp))} "
                "(FORMAT csv, HEADER true)"
            )
        else:
            _write_xlsx(con, table, tmp)
    return path


def _safe_select(con: duckdb.DuckDBPyConnection, table: str) -> str:
    cols = []
    for name, kind, *_ in con.execute(f"DESCRIBE {table}").fetchall():
        c = ident(str(name))
        if str(kind) == "VARCHAR":
            starts = " OR ".join(f"starts_with({c}, {literal(ch)})" for ch in _DANGEROUS)
            cols.append(f"CASE WHEN {starts} THEN '''' || {c} ELSE {c} END AS {c}")
        else:
            cols.append(c)
    return ", ".join(cols)


def _write_xlsx(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> None:
    from openpyxl import Workbook

    count = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    if count and count[0] > XLSX_MAX_ROWS:
        raise InputError(
            f"{count[0]:,} rows do not fit in one XLSX sheet ({XLSX_MAX_ROWS:,} at most)",
            hint="write .csv or .parquet instead",
        )
    book = Workbook(write_only=True)
    sheet = book.create_sheet("segwise")
    cursor = con.execute(f"SELECT * FROM {table}")
    sheet.append([d[0] for d in cursor.description])
    while rows := cursor.fetchmany(10_000):
        for row in rows:
            sheet.append([neutralise(v) if isinstance(v, str) else v for v in row])
    book.save(path)


def write_frame(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a pandas table by extension, atomically and formula-safe (see ``write_relation``).

    DuckDB reads the frame where it is, a vector at a time, and streams it to the file: no
    copy of the table is made, so millions of rows cost little more than the frame itself.
    """

    check_output_path(path)
    with connect() as con:
        con.register("frame_view", frame)
        return write_relation(con, "frame_view", path)
