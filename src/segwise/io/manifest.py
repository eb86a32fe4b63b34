"""What a log segwise assembled itself (from a folder of exports, or an M-Pesa statement)
remembers of where its lines came from, kept inside its Parquet file.

The engines read it back to count dropped lines per file and to add the lines left out
before assembly (e.g. M-Pesa payments that never completed) to the cleaning report, so
every line of the original files is still accounted for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

KEY = b"segwise.log"
"""The Parquet key-value metadata key the manifest is stored under."""


@dataclass(frozen=True)
class LogManifest:
    """Where the lines of an assembled log came from.

    ``files``: (file name, lines written) in the order the lines were written, so a line's
    row number tells its file; ``excluded``: file name -> {reason: lines left out before
    assembly}; ``skipped``: files of a folder that were not read, by why (hidden, not_data).
    """

    files: tuple[tuple[str, int], ...] = ()
    excluded: dict[str, dict[str, int]] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    origin: str = "folder"  # "folder" | "mpesa"

    def to_bytes(self) -> bytes:
        """The manifest as JSON (sorted keys: the same files give the same bytes)."""
        return json.dumps(
            {
                "files": [list(f) for f in self.files],
                "excluded": self.excluded,
                "skipped": self.skipped,
                "origin": self.origin,
            },
            sort_keys=True,
        ).encode()

    def excluded_total(self) -> dict[str, int]:
        """Lines left out before assembly, by reason, over all files."""
        total: dict[str, int] = {}
        for counts in self.excluded.values():
            for reason, n in counts.items():
                total[reason] = total.get(reason, 0) + n
        return total

    def spans(self) -> list[tuple[str, int, int]]:
        """(file name, first row, last row) of each file's lines, rows counted from 1."""
        out, start = [], 1
        for name, lines in self.files:
            out.append((name, start, start + lines - 1))
            start += lines
        return out


def read_manifest(
    path: str | Path, con: duckdb.DuckDBPyConnection | None = None
) -> LogManifest | None:
    """The manifest of a Parquet file segwise assembled, else None (any other file).

    Read from the footer by DuckDB (``con``, else a connection of its own), which every log
    read has loaded: pyarrow.parquet would cost a fifth of a second to import for each
    ``segwise rfm`` on a Parquet file."""
    import duckdb

    query = "SELECT value FROM parquet_kv_metadata(?) WHERE key = ?"
    try:
        if con is not None:
            found = con.execute(query, [str(path), KEY]).fetchone()
        else:
            from segwise.io.duck import connect

            with connect() as own:
                found = own.execute(query, [str(path), KEY]).fetchone()
    except duckdb.Error:
        return None
    raw = None if found is None else found[0]
    if raw is None:
        return None
    data = json.loads(raw)
    return LogManifest(
        files=tuple((str(n), int(k)) for n, k in data.get("files", [])),
        excluded={str(f): dict(c) for f, c in data.get("excluded", {}).items()},
        skipped=dict(data.get("skipped", {})),
        origin=str(data.get("origin", "folder")),
    )
