"""Erasing customers from files segwise keeps: Parquet tables by their ``customer_id``
column, text tables by whole fields, each rewritten all or nothing.

Ids are matched exactly (as text). A customer's erased id is remembered only as a keyed
hash (``erasure_digest``), so the erasure list can be checked against new data without
keeping the id itself.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import os
import secrets
from collections.abc import Callable, Collection
from pathlib import Path

from segwise.io.atomic import atomic_path

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")


def erasure_digest(key: bytes, customer_id: str) -> str:
    """A keyed HMAC-SHA256 of a customer id (64 hex characters): checkable, not reversible."""
    return hmac.new(key, b"erased:" + str(customer_id).encode(), hashlib.sha256).hexdigest()


def key_file(home: Path) -> bytes:
    """The erasure key kept in ``home/erasure.key`` (made once, readable by its owner only)."""
    path = home / "erasure.key"
    if not path.is_file():
        home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def scrub_parquet(path: Path, drop: Callable[[list[str]], list[bool]]) -> tuple[int, int]:
    """Rewrite a Parquet file without the rows whose ``customer_id`` ``drop`` marks; the
    lines and the distinct customers removed (0, 0 when the file has no such column)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    if "customer_id" not in pq.read_schema(path).names:
        return 0, 0
    ids = pq.read_table(path, columns=["customer_id"]).column("customer_id")
    distinct = [str(i) for i in pc.unique(ids).to_pylist() if i is not None]
    gone = {i for i, d in zip(distinct, drop(distinct), strict=True) if d}
    if not gone:
        return 0, 0
    table = pq.read_table(path)
    as_text = pc.cast(table.column("customer_id"), pa.string())
    keep = pc.invert(pc.fill_null(pc.is_in(as_text, value_set=pa.array(sorted(gone))), False))
    kept = table.filter(keep)
    with atomic_path(path) as tmp:
        pq.write_table(kept, tmp, row_group_size=65_536)
    return table.num_rows - kept.num_rows, len(gone)


def scrub_ids(path: Path, ids: Collection[str]) -> tuple[int, int]:
    """``scrub_parquet`` for known ids."""
    wanted = set(ids)
    return scrub_parquet(path, lambda found: [i in wanted for i in found])


def scrub_text(path: Path, ids: Collection[str]) -> int:
    """Rewrite a CSV/TSV/text table without the lines in which an id is a whole field (the
    separator is the header's commonest of tab ; | ,); the lines removed. Any column may
    hold it: a kept copy errs on the side of erasing."""
    wanted = set(ids) | {f"{i}.0" for i in ids if i.isdigit()}  # ids read as decimals
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    head = text.split("\n", 1)[0]
    delimiter = max(("\t", ";", "|", ","), key=head.count)
    lines = text.splitlines(keepends=True)
    kept = []
    for line in lines:
        fields = next(csv.reader(io.StringIO(line), delimiter=delimiter), [])
        if not any(f.strip() in wanted for f in fields):
            kept.append(line)
    removed = len(lines) - len(kept)
    if removed:
        with atomic_path(path) as tmp:
            tmp.write_text("".join(kept), encoding="utf-8")
    return removed


def mentions(path: Path, ids: Collection[str]) -> bool:
    """Whether a file's bytes hold one of ``ids`` as a quoted string (reports, JSON)."""
    data = path.read_bytes()
    return any(f'"{i}"'.encode() in data for i in ids)
