"""The lake: bulk data as Parquet under SEGWISE_HOME, content-addressed, written all or nothing.

``datasets/<hash>.parquet`` holds an ingested dataset (cleaned lines of a log, or a customer
table). Beside a log, ``datasets/<hash>.rfm-<as-of>-<bins>.parquet`` keeps the RFM its ingest
computed anyway, so a run with the same as-of date and bins reads it instead of aggregating
the lines again, and ``datasets/<hash>.products.parquet`` the name of each product code.
``runs/<id>/`` holds a run's assignments, model and summary. A run folder is written under a
temporary name and renamed when complete, so a killed run leaves no half folder.
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
from typing import TYPE_CHECKING, Any

from segwise.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from segwise.engines.result import RfmResult
    from segwise.features.rfm import RfmOptions

CHUNK = 1 << 20
_RFM_SUMMARY = b"segwise.rfm_summary"


def file_hash(path: str | Path, *extra: str) -> str:
    """SHA-256 of a file's bytes (streamed) and of the options that change what is stored."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while block := handle.read(CHUNK):
                digest.update(block)
    except OSError as error:  # permission denied, a folder, a file gone meanwhile
        raise InputError(
            f"cannot read the file: {error.strerror or error}",
            file=path,
            hint="check that it exists and that this user may read it",
        ) from None
    for item in extra:
        digest.update(b"\0" + item.encode())
    return digest.hexdigest()


def dataset_path(home: Path, content_hash: str) -> Path:
    """Where a dataset's Parquet lives (relative paths are stored in the catalog)."""
    return home / "datasets" / f"{content_hash}.parquet"


def rfm_cache_path(dataset: Path, options: RfmOptions) -> Path | None:
    """Where the RFM of a stored log under ``options`` is kept: None without an as-of date
    (the RFM depends on it) or for a user's own grid (not worth a file per grid)."""
    from segwise.features.rfm import DEFAULT_GRID

    if options.as_of is None or options.grid != DEFAULT_GRID:
        return None
    return dataset.with_name(f"{dataset.stem}.rfm-{options.as_of}-{options.bins}.parquet")


def product_names_path(dataset: Path) -> Path:
    """Where a stored log keeps each product code's name (when the log had both)."""
    return dataset.with_name(f"{dataset.stem}.products.parquet")


def side_files(dataset: Path) -> list[Path]:
    """A stored dataset's other files: the RFM its runs read, the product names."""
    return sorted(dataset.parent.glob(f"{dataset.stem}.*.parquet"))


def write_log_lines(rfm: RfmResult, target: Path, key: bytes | None) -> None:
    """Store a log's kept lines (customer_id, day, invoice, value, quantity sign, product),
    sorted by customer for fast look-ups, atomically; with ``key``, ids are pseudonyms
    (``pseudonym``) before anything is written. A log with a name beside each product code
    keeps one name per code beside them (``product_names_path``): a name on every line
    was a fifth of the time of storing 10M lines."""
    import pyarrow as pa

    from segwise.io.atomic import atomic_path
    from segwise.io.sql import literal, relation

    assert rfm.lines is not None, "the engine keeps the SELECT of the kept lines"
    lines = rfm.lines
    if rfm.product_names is not None:
        with atomic_path(product_names_path(target)) as tmp:
            rfm.con.execute(f"COPY ({rfm.product_names}) TO {literal(str(tmp))} (FORMAT parquet)")
    if key is not None:
        distinct = f"SELECT DISTINCT customer_id FROM {relation(lines, 'l')}"
        ids = [str(i) for (i,) in rfm.con.execute(distinct).fetchall()]
        pseudo = [pseudonym(key, i) for i in ids]
        rfm.con.register("pseudonyms", pa.table({"customer_id": ids, "pseudo": pseudo}))
        lines = (
            "SELECT p.pseudo AS customer_id, l.* EXCLUDE (customer_id) "
            f"FROM {relation(lines, 'l')} JOIN pseudonyms AS p USING (customer_id)"
        )
    with atomic_path(target) as tmp:
        rfm.con.execute(
            "COPY (SELECT customer_id, day, invoice, value, "
            "CASE WHEN is_return THEN -1 ELSE 1 END AS quantity, product "
            f"FROM {relation(lines, 'l')} ORDER BY customer_id, day) "
            f"TO {literal(str(tmp))} (FORMAT parquet, ROW_GROUP_SIZE 65536)"
        )


def write_rfm_cache(path: Path, rfm: RfmResult) -> None:
    """Keep a log's per-customer RFM and its summary in one Parquet file, atomically: DuckDB
    writes its own table (in parallel, nothing converted on the way), the summary rides in
    the file's key-value metadata."""
    import json

    from segwise.io.atomic import atomic_path
    from segwise.io.sql import literal

    summary = json.dumps(rfm.summary(), default=str)
    with atomic_path(path) as tmp:
        rfm.con.execute(
            f"COPY {rfm.table} TO {literal(str(tmp))} (FORMAT parquet, ROW_GROUP_SIZE 65536, "
            f"KV_METADATA {{{literal(_RFM_SUMMARY.decode())}: ?}})",
            [summary],
        )


def read_rfm_cache(path: Path | None) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """The RFM table (index customer_id) and summary kept by ``write_rfm_cache``, or None."""
    import json

    import pyarrow.parquet as pq

    if path is None or not path.is_file():
        return None
    table = pq.read_table(path)
    summary = json.loads((table.schema.metadata or {}).get(_RFM_SUMMARY, b"{}"))
    return table.to_pandas().set_index("customer_id"), summary


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


def write_run_tables(
    folder: Path,
    *,
    assignments: pd.DataFrame,
    ids: Any,
    labels: Any,
    coords: Any,
    explained: Any,
    quantiles: dict[str, list[float]],
    projected: int,
) -> None:
    """A run's files in its (staged) folder: ``assignments.parquet`` sorted by customer for
    fast look-ups, a seeded sample of ``projected`` customers' 3-D map coordinates, and the
    feature quantiles (``standing.json``)."""
    import json

    import numpy as np
    import pandas as pd

    table = assignments.sort_values("customer_id", kind="stable")
    table.to_parquet(folder / "assignments.parquet", index=False, row_group_size=65_536)
    n = len(labels)
    keep = np.sort(np.random.default_rng(0).choice(n, size=min(n, projected), replace=False))
    points = np.asarray(coords)[keep]
    pd.DataFrame(
        {
            "customer_id": np.asarray(ids)[keep],
            "segment": np.asarray(labels)[keep].astype(int),
            "x": points[:, 0],
            "y": points[:, 1],
            "z": points[:, 2],
        }
    ).to_parquet(folder / "projection.parquet", index=False)
    (folder / "standing.json").write_text(json.dumps({"quantiles": quantiles}))
    (folder / "projection.json").write_text(json.dumps({"explained_variance": explained}))
