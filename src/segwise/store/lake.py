"""The lake: bulk data as Parquet under SEGWISE_HOME, content-addressed, written all or nothing.

``datasets/<hash>.parquet`` holds an ingested dataset (cleaned lines of a log, or a customer
table); ``runs/<id>/`` holds a run's assignments, model and summary. A run folder is written
under a temporary name and renamed when complete, so a killed run leaves no half folder.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHUNK = 1 << 20


def file_hash(path: str | Path, *extra: str) -> str:
    """SHA-256 of a file's bytes (streamed) and of the options that change what is stored."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    for item in extra:
        digest.update(b"\0" + item.encode())
    return digest.hexdigest()


def dataset_path(home: Path, content_hash: str) -> Path:
    """Where a dataset's Parquet lives (relative paths are stored in the catalog)."""
    return home / "datasets" / f"{content_hash}.parquet"


def run_path(home: Path, run_id: str) -> Path:
    return home / "runs" / run_id


@contextmanager
def staged_folder(final: Path) -> Iterator[Path]:
    """Yield a temp folder beside ``final``; renamed to ``final`` on success, removed on error."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.{secrets.token_hex(4)}.tmp")
    tmp.mkdir()
    try:
        yield tmp
        _fsync_tree(tmp)
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def pseudonym(key: bytes, customer_id: str) -> str:
    """A keyed HMAC-SHA256 of a customer id, 20 hex characters: stable, not reversible."""
    return hmac.new(key, customer_id.encode(), hashlib.sha256).hexdigest()[:20]


def _fsync_tree(folder: Path) -> None:
    for item in folder.rglob("*"):
        if item.is_file():
            fd = os.open(item, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
