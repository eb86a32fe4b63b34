"""A file opened for reading (``Source``), shared by the readers of each format."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_ROWS = 2000
"""Rows read to sniff types and roles (the sample every Source carries)."""


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
    loaded: list[str] = field(default_factory=list)  # the columns in ``src``
    streamed: bool = False  # ``src`` reads the text file as it goes, rows not numbered
    typed: dict[str, str] = field(default_factory=dict)  # columns of ``src`` the reader types
    dateformat: str | None = None  # how the reader reads a typed date
    _csv_options: dict[str, str] = field(default_factory=dict, repr=False)
    # the sniffed dialect in full (quote, escape, new line, skipped rows, comment): with it a
    # read names every column and DuckDB does not sniff the file again (~50 ms per query)
    _csv_dialect: dict[str, str] = field(default_factory=dict, repr=False)
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


def head_bytes(path: Path, size: int = 8192) -> bytes:
    """The first ``size`` bytes of a file."""
    with path.open("rb") as fh:
        return fh.read(size)


def raise_if_out_of_memory(exc: Exception) -> None:
    """Running out of memory or disk is not a broken file: let the engine report it as such
    (rather than read the file again another way)."""
    import duckdb

    from segwise.io.atomic import disk_full

    if isinstance(exc, duckdb.OutOfMemoryException) or disk_full(exc):
        raise exc
