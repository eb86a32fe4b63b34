"""Use case: ingest a file into the catalog as a dataset, content-addressed.

A transaction log is stored as its cleaned lines (one row per line that belongs to a
customer: customer_id, day, invoice, value, is_return, product) with the cleaning report;
a customer table is stored as given, with its id column first as ``customer_id``.
The same content with the same options gives the same dataset id.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy.exc import IntegrityError

from segwise.config import Settings, get_settings
from segwise.errors import ConfigError, InputError, NotFoundError
from segwise.features.rfm import RfmOptions
from segwise.io.duck import connect
from segwise.store.catalog import Catalog, Dataset, now
from segwise.store.lake import (
    dataset_path,
    file_hash,
    pseudonym,
    rfm_cache_path,
    write_log_lines,
    write_rfm_cache,
)

if TYPE_CHECKING:
    import pandas as pd

KindChoice = Literal["auto", "transactions", "customers"]  # "auto": tell them apart
LINE_ROLES = {"customer": "customer_id", "date": "day", "invoice": "invoice"}
"""How a stored log's columns map onto roles when a run reads it back."""


@dataclass(frozen=True)
class DatasetInfo:
    """A stored dataset as the shells show it."""

    id: str
    name: str
    kind: str
    rows: int
    customers: int
    dropped: dict[str, int]
    roles: dict[str, Any]
    report: dict[str, Any]
    as_of: date | None
    pseudonymised: bool
    created: datetime
    stored_before: bool = False  # this content was in the catalog already
    renamed_from: str | None = None  # its name then, when ``ingest --name`` changed it

    @classmethod
    def of(cls, row: Dataset, **found: Any) -> DatasetInfo:
        return cls(
            id=row.id,
            name=row.name,
            kind=row.kind,
            rows=row.rows,
            customers=row.customers,
            dropped=dict(row.report.get("dropped", {})),
            roles=dict(row.roles),
            report=dict(row.report),
            as_of=row.as_of,
            pseudonymised=row.pseudonymised,
            created=row.created,
            **found,
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``segwise ingest --json`` answer."""
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "rows": self.rows,
            "customers": self.customers,
            "dropped": self.dropped,
            "roles": self.roles,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "pseudonymised": self.pseudonymised,
            "created": self.created.isoformat(timespec="seconds"),
            "stored_before": self.stored_before,
            "renamed_from": self.renamed_from,
        }


def open_catalog(settings: Settings | None = None) -> Catalog:
    """The catalog of the configured SEGWISE_HOME / SEGWISE_DATABASE_URL."""
    settings = settings or get_settings()
    return Catalog.open(settings.home, settings.database_url)


def pseudonym_key(settings: Settings, pseudonymise: bool | None) -> bytes | None:
    """The HMAC key when ids are to be pseudonymised (flag, else the setting), else None."""
    wanted = settings.pseudonymise if pseudonymise is None else pseudonymise
    if not wanted:
        return None
    key = settings.pseudonymise_key.get_secret_value() if settings.pseudonymise_key else ""
    if len(key) < 16:
        raise ConfigError(
            "pseudonymising customer ids needs a secret key of at least 16 characters; "
            "set SEGWISE_PSEUDONYMISE_KEY"
        )
    return key.encode()


def ingest(
    path: str | Path,
    *,
    name: str | None = None,
    kind: KindChoice = "auto",
    options: RfmOptions | None = None,
    pseudonymise: bool | None = None,
    source: str | None = None,
    settings: Settings | None = None,
    content_key: str | None = None,
    default_name: str | None = None,
) -> DatasetInfo:
    """Store a file as a dataset (or find it stored already) and describe it.

    The same content (read with the same options) is stored once, under one id; ingesting it
    again with another ``name`` renames that dataset, and the answer says so. Customers on
    the erasure list (``segwise forget``) are dropped before it is described; the upload is
    recorded in the audit log (analysts and admins). ``source`` is
    where the catalog says it came from (default: the file's absolute path);
    ``content_key`` stands for the content when ``path`` was assembled from other files
    (a hash of those files), so the same files give the same dataset; ``default_name``
    names a new dataset when ``name`` is not given (it never renames one).
    """
    from segwise.service.audit import record_event, require

    require("upload")
    settings = settings or get_settings()
    found = _ingest(
        Path(path), name, kind, options, pseudonymise, source, settings, content_key, default_name
    )
    detail = {
        "rows": found.rows,
        "customers": found.customers,
        "stored_before": found.stored_before,
    }
    record_event("dataset.ingest", found.id, detail, settings=settings)
    return found


def _ingest(
    path: Path,
    name: str | None,
    kind: KindChoice,
    options: RfmOptions | None,
    pseudonymise: bool | None,
    source: str | None,
    settings: Settings,
    content_key: str | None = None,
    default_name: str | None = None,
) -> DatasetInfo:
    options = options or RfmOptions()
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", file=path, hint="check the path")
    key = pseudonym_key(settings, pseudonymise)
    catalog = open_catalog(settings)
    recipe = json.dumps(
        {
            "kind": kind,
            "columns": {role: col for role, col in (options.columns or {}).items() if col},
            "date_format": options.date_format,
            "as_of": options.as_of.isoformat() if options.as_of else None,
            "key": pseudonym(key, "segwise") if key else None,  # which key, never the key
        },
        sort_keys=True,
    )
    if content_key is None:
        content_hash = file_hash(path, recipe)
    else:
        content_hash = hashlib.sha256(f"{content_key}\0{recipe}".encode()).hexdigest()
    ident = "d" + content_hash[:11]
    try:
        stored = catalog.dataset(ident)
    except NotFoundError:
        pass
    else:
        if name is None or name == stored.name:
            return DatasetInfo.of(stored, stored_before=True)
        renamed = catalog.rename_dataset(ident, name)
        return DatasetInfo.of(renamed, stored_before=True, renamed_from=stored.name)
    resolved = detect_kind(path, options.columns) if kind == "auto" else kind
    target = dataset_path(settings.home, content_hash)
    target.parent.mkdir(parents=True, exist_ok=True)
    if resolved == "transactions":
        described = _store_log(path, options, key, target, settings)
    else:
        described = _store_table(path, key, target)
    row = Dataset(
        id=ident,
        name=name or default_name or path.name,
        source=source or str(path.resolve()),
        content_hash=content_hash,
        kind=resolved,
        path=str(target.relative_to(settings.home)),
        pseudonymised=key is not None,
        created=now(),
        **described,
    )
    with contextlib.suppress(IntegrityError):  # the same file, ingested at the same moment
        catalog.add(row)
    from segwise.service.erasure import drop_erased

    drop_erased(row, settings)  # erased customers never come back with an old file
    return DatasetInfo.of(catalog.dataset(ident))


def list_datasets(settings: Settings | None = None) -> list[DatasetInfo]:
    """Every stored dataset, newest first."""
    return [DatasetInfo.of(d) for d in open_catalog(settings).datasets()]


@dataclass(frozen=True)
class FilePreview:
    """A file's first rows, its detected kind and column roles, before anything is stored."""

    kind: str  # "transactions" or "customers"
    columns: list[str]
    head: pd.DataFrame
    roles: dict[str, str]  # role -> column, for the roles found
    how: dict[str, str]  # role -> how it was recognised (flag, header, content)
    source: dict[str, object]  # format, encoding, delimiter


def preview_file(
    path: str | Path, columns: Mapping[str, str | None] | None = None, *, rows: int = 20
) -> FilePreview:
    """The first ``rows`` rows of a file and its detected roles, so a user can correct them
    before ingesting (only a sample is read, never the whole file)."""
    import pandas as pd

    from segwise.io.readers import open_source
    from segwise.io.roles import detect_roles, looks_like_log

    with connect() as con:
        source = open_source(con, path)
        source.close()
    mapping = detect_roles(source.columns, source.sample, columns, file=str(path))
    head = pd.DataFrame({c: source.sample[c][:rows] for c in source.columns})
    return FilePreview(
        kind="transactions" if looks_like_log(mapping, source.sample) else "customers",
        columns=list(source.columns),
        head=head,
        roles=mapping.as_dict(),
        how=dict(mapping.how),
        source=source.describe(),
    )


def dataset_file(dataset_id: str, *, settings: Settings | None = None) -> Path:
    """The stored Parquet file of a dataset (cleaned lines of a log, or the customer table)."""
    settings = settings or get_settings()
    return settings.home / open_catalog(settings).dataset(dataset_id).path


def detect_kind(path: Path, columns: Mapping[str, str | None] | None = None) -> str:
    """ "transactions" when the file reads as a log (customer, date, money, repeat ids)."""

    from segwise.io.readers import open_source
    from segwise.io.roles import detect_roles, looks_like_log

    with connect() as con:
        source = open_source(con, path)
        source.close()
    mapping = detect_roles(source.columns, source.sample, columns)
    return "transactions" if looks_like_log(mapping, source.sample) else "customers"


def read_customers(path: Path) -> tuple[pd.DataFrame, str | None, dict[str, Any]]:
    """A customer table indexed by customer_id (its id column, else row numbers 1..n)."""
    from segwise.io.readers import read_table
    from segwise.io.roles import id_column

    source, frame = read_table(path)
    ident = id_column(list(frame.columns), source.sample)
    if ident is not None and frame[ident].is_unique and frame[ident].notna().all():
        frame = frame.set_index(ident)
    else:
        ident = None
        frame.index = [str(i) for i in range(1, len(frame) + 1)]
    frame.index = frame.index.astype(str)
    frame.index.name = "customer_id"
    return frame, ident, source.describe() | {"rows": len(frame)}


def _store_log(
    path: Path, options: RfmOptions, key: bytes | None, target: Path, settings: Settings
) -> dict[str, Any]:
    from segwise.engines.local import compute_rfm

    rfm = compute_rfm(path, options, settings)
    cache = rfm_cache_path(target, replace(options, as_of=rfm.as_of))
    if key is None and cache is not None:
        write_rfm_cache(cache, rfm)  # a run with these options reads it: RFM once
    write_log_lines(rfm, target, key)
    return {
        "rows": rfm.report.lines,
        "customers": rfm.customers,
        "roles": rfm.mapping | {"date_format": rfm.date_format},
        "report": rfm.report.to_dict(),
        "as_of": rfm.as_of,
    }


def _store_table(path: Path, key: bytes | None, target: Path) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from segwise.io.atomic import atomic_path

    frame, ident, described = read_customers(path)
    if key is not None:
        frame.index = [pseudonym(key, i) for i in frame.index]
        frame.index.name = "customer_id"
    try:
        table = pa.Table.from_pandas(frame.reset_index(), preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise InputError(
            f"a column mixes numbers and text and cannot be stored: {error}",
            file=path,
            hint="clean that column, or keep it out of the file",
        ) from None
    with atomic_path(target) as tmp:
        pq.write_table(table, tmp, row_group_size=65536)
    return {
        "rows": len(frame),
        "customers": len(frame),
        "roles": {"customer": ident},
        "report": {"input": described, "id_column": ident, "dropped": {}},
        "as_of": None,
    }
