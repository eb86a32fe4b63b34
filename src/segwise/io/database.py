"""Read a database table or query (any SQLAlchemy URL) into a Parquet file, in chunks.

Rows are streamed from the server (``stream_results``) and written ``CHUNK_ROWS`` at a time
through Arrow, so a table of any size passes through bounded memory; the Parquet file then
goes through the same readers, cleaning and counts as an exported file. The URL's password
is never echoed: every message shows the URL with it masked.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segwise.errors import InputError

if TYPE_CHECKING:
    import pyarrow as pa
    import sqlalchemy as sa

CHUNK_ROWS = 50_000
"""Rows fetched from the server and written per step."""

_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def is_database_url(text: str) -> bool:
    """Whether an input names a database (``scheme://...``) rather than a file."""
    return bool(_URL.match(text)) and not text.lower().startswith("file://")


def masked(url: str) -> str:
    """The URL with its password replaced by ``***`` (what messages and the catalog show)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return re.sub(r"//[^@/]*@", "//***@", url)


def engine_for(url: str) -> sa.Engine:
    """An engine for ``url``; ``postgresql://`` uses psycopg 3 when psycopg2 is absent."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:
        raise InputError(
            f"'{masked(url)}' is not a database URL",
            hint="write it as dialect://user:password@host/database, e.g. postgresql://me@db/shop",
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        psycopg2 = importlib.util.find_spec("psycopg2") is not None
        parsed = parsed.set(drivername="postgresql" if psycopg2 else "postgresql+psycopg")
    try:
        return sa.create_engine(parsed)
    except Exception as error:  # no driver installed for this dialect
        raise InputError(
            f"cannot use {masked(url)}: {_first_line(error)}",
            hint="install the database's SQLAlchemy driver (e.g. pip install psycopg)",
        ) from None


def export_to_parquet(
    url: str, *, table: str | None, query: str | None, target: Path, chunk_rows: int = CHUNK_ROWS
) -> int:
    """Write the rows of ``table`` (``schema.table`` allowed) or of ``query`` to ``target``.

    Returns the number of rows. One-line errors for: neither or both of table and query,
    an unreachable server, an unknown table, a failing query, a column whose values change
    type between chunks.
    """
    import pyarrow.parquet as pq
    import sqlalchemy as sa

    statement = _statement(table, query)
    what = f"table '{table}'" if table else "the query"
    engine = engine_for(url)
    rows = 0
    writer: pq.ParquetWriter | None = None
    try:
        with engine.connect() as con:
            result = con.execution_options(stream_results=True).execute(statement)
            names = list(result.keys())
            while chunk := result.fetchmany(chunk_rows):
                batch = _batch(names, chunk, None if writer is None else writer.schema)
                if writer is None:
                    writer = pq.ParquetWriter(target, batch.schema)
                writer.write_table(batch)
                rows += len(chunk)
    except sa.exc.SQLAlchemyError as error:
        raise InputError(
            f"cannot read {what} from {masked(url)}: {_first_line(error)}",
            hint="check the URL, the table name or the query",
        ) from None
    except _TypeChange as change:
        raise InputError(
            f"column '{change.column}' of {what} changes type after row {rows:,}",
            hint="CAST it to one type in --query",
        ) from None
    finally:
        if writer is not None:
            writer.close()
        engine.dispose()
    if writer is None:
        raise InputError(f"{what} has no rows", hint="check the table name or the query")
    return rows


class _TypeChange(Exception):
    def __init__(self, column: str) -> None:
        super().__init__(column)
        self.column = column


def _statement(table: str | None, query: str | None) -> Any:
    import sqlalchemy as sa

    if (table is None) == (query is None):
        raise InputError(
            "a database input needs --table or --query (one of them)",
            hint="e.g. --table sales, or --query 'SELECT ... FROM sales'",
        )
    if query is not None:
        return sa.text(query)
    assert table is not None
    schema, _, name = table.rpartition(".")
    return sa.select(sa.text("*")).select_from(sa.table(name, schema=schema or None))


def _batch(names: list[str], chunk: Sequence[Any], schema: pa.Schema | None) -> pa.Table:
    """One chunk of rows as an Arrow table; with ``schema``, in that schema (the first chunk's:
    a column that was all empty there is text)."""
    import pyarrow as pa

    columns = list(zip(*chunk, strict=True))
    arrays = []
    for i, name in enumerate(names):
        wanted = None if schema is None else schema.field(i).type
        try:
            array = pa.array(columns[i], type=wanted, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            raise _TypeChange(name) from None
        if array.type == pa.null():
            array = array.cast(pa.string())
        arrays.append(array)
    return pa.Table.from_arrays(arrays, names=names)


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__
