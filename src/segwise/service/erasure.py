"""Use cases: erase a customer on request (``segwise forget``), and keep erased customers
out of data ingested later.

Erasure reaches every file segwise keeps under SEGWISE_HOME: the stored datasets (lines of
a log, customer tables), their kept RFM (deleted, recomputed from the lines by the next
run), each run's assignments and map sample, the demo's exports, and uploaded copies. The
customer's id is kept nowhere: the erasure list and the audit log hold a keyed hash of it.
Models keep only aggregates (segment centres, forests' split thresholds); a new run drops
the customer from those too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segwise.config import Settings, get_settings
from segwise.errors import InputError
from segwise.service.audit import accounts, record_event, require
from segwise.service.datasets import open_catalog
from segwise.store.catalog import Dataset
from segwise.store.lake import pseudonym
from segwise.store.scrub import (
    TEXT_SUFFIXES,
    erasure_digest,
    key_file,
    mentions,
    scrub_ids,
    scrub_parquet,
    scrub_text,
)

KEPT_FOLDERS = ("demo", "uploads")
"""Folders of SEGWISE_HOME holding copies segwise made: exports and uploaded files."""


@dataclass(frozen=True)
class ErasureReport:
    """What ``forget`` removed: lines of datasets, rows of runs, files rewritten or deleted."""

    digest: str
    datasets: dict[str, int] = field(default_factory=dict)  # dataset id -> lines removed
    runs: dict[str, int] = field(default_factory=dict)  # run id -> rows removed
    files: dict[str, str] = field(default_factory=dict)  # path in SEGWISE_HOME -> what happened

    @property
    def found(self) -> bool:
        return bool(self.datasets or self.runs or self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer": self.digest[:16],
            "datasets": self.datasets,
            "runs": self.runs,
            "files": self.files,
        }


def erasure_key(settings: Settings) -> bytes:
    """The key of erased-customer hashes: SEGWISE_ERASURE_KEY, else the pseudonymise key,
    else a key file made once in SEGWISE_HOME."""
    for secret in (settings.erasure_key, settings.pseudonymise_key):
        if secret is not None and secret.get_secret_value():
            return secret.get_secret_value().encode()
    return key_file(settings.home)


def customer_ref(customer_id: str, settings: Settings | None = None) -> str:
    """How the audit log names a customer: ``customer:`` and 16 hex of the keyed hash."""
    settings = settings or get_settings()
    return "customer:" + erasure_digest(erasure_key(settings), customer_id)[:16]


def _forms(customer_id: str, settings: Settings) -> set[str]:
    """The id as stored: itself, and its pseudonym when a pseudonymise key is set."""
    forms = {customer_id}
    if settings.pseudonymise_key is not None and settings.pseudonymise_key.get_secret_value():
        forms.add(pseudonym(settings.pseudonymise_key.get_secret_value().encode(), customer_id))
    return forms


def forget_customer(customer_id: str, *, settings: Settings | None = None) -> ErasureReport:
    """Remove a customer from every stored dataset, run and kept file, put them on the
    erasure list (hashed) so later ingests drop them, and record the erasure (admins)."""
    require("erase")
    settings = settings or get_settings()
    customer_id = customer_id.strip()
    if not customer_id:
        raise InputError("the customer id is empty", hint="give the id as it is in the data")
    key = erasure_key(settings)
    forms = _forms(customer_id, settings)
    accounts(settings).add_erasures(sorted(erasure_digest(key, f) for f in forms))
    report = ErasureReport(digest=erasure_digest(key, customer_id))
    catalog = open_catalog(settings)
    for dataset in catalog.datasets():
        lines, _ = _scrub_dataset(dataset, settings, lambda ids: [i in forms for i in ids])
        if lines:
            report.datasets[dataset.id] = lines
    for run in catalog.runs():
        if run.path is None or not (settings.home / run.path).is_dir():
            continue
        removed = sum(scrub_ids(p, forms)[0] for p in (settings.home / run.path).glob("*.parquet"))
        if removed:
            report.runs[run.id] = removed
    for folder in KEPT_FOLDERS:
        for path in sorted((settings.home / folder).rglob("*")):
            what = _scrub_kept(path, forms)
            if what:
                report.files[str(path.relative_to(settings.home))] = what
    record_event(
        "customer.erase",
        "customer:" + report.digest[:16],
        {
            "datasets": len(report.datasets),
            "lines": sum(report.datasets.values()),
            "runs": len(report.runs),
            "files": len(report.files),
        },
        settings=settings,
    )
    return report


def drop_erased(dataset: Dataset, settings: Settings) -> tuple[int, int]:
    """Remove customers on the erasure list from a dataset just stored (lines, customers)."""
    erased = accounts(settings).erasures()
    if not erased:
        return 0, 0
    key = erasure_key(settings)
    return _scrub_dataset(
        dataset, settings, lambda ids: [erasure_digest(key, i) in erased for i in ids]
    )


def _scrub_dataset(dataset: Dataset, settings: Settings, drop: Any) -> tuple[int, int]:
    """Drop customers from a dataset's Parquet, delete its kept RFM (the next run recomputes
    it from the lines), and correct its counts in the catalog."""
    path = settings.home / dataset.path
    if not path.is_file():
        return 0, 0
    lines, customers = scrub_parquet(path, drop)
    if not lines:
        return 0, 0
    for cache in path.parent.glob(f"{path.stem}.rfm-*.parquet"):
        cache.unlink(missing_ok=True)
    with open_catalog(settings).session() as s:
        row = s.get(Dataset, dataset.id)
        if row is not None:
            row.rows = max(0, row.rows - lines)
            row.customers = max(0, row.customers - customers)
    return lines, customers


def _scrub_kept(path: Path, forms: set[str]) -> str | None:
    """Erase from one kept file: tables rewritten, other files holding the id deleted."""
    if not path.is_file() or path.name.startswith("."):
        return None
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        removed = scrub_text(path, forms)
        return f"{removed} lines removed" if removed else None
    if suffix == ".parquet":
        removed, _ = scrub_ids(path, forms)
        if removed:
            return f"{removed} rows removed"
    if (suffix in (".html", ".json") and mentions(path, forms)) or (
        suffix == ".xlsx" and _workbook_mentions(path, forms)
    ):
        path.unlink()
        return "deleted"
    return None


def _workbook_mentions(path: Path, forms: set[str]) -> bool:
    """Whether any cell of an uploaded workbook holds the id (such a copy is deleted)."""
    import pandas as pd

    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, header=None)
    except Exception:  # an unreadable copy: segwise could not have stored it either
        return False
    return any(bool(frame.isin(forms).to_numpy().any()) for frame in sheets.values())
