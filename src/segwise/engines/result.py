"""The outcome of an RFM job, engine-neutral: per-customer table, cleaning report, settings."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from segwise.errors import InputError
from segwise.io.manifest import LogManifest
from segwise.io.validate import REASONS
from segwise.io.writers import write_relation

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import pyarrow as pa

    from segwise.config import Settings
    from segwise.features.rfm import RfmOptions


@dataclass(frozen=True)
class CleaningReport:
    """Every line of the input accounted for: kept, or dropped with a reason."""

    lines: int
    kept_lines: int
    dropped: dict[str, int]
    returns: int
    customers_without_purchase: int
    files: tuple[dict[str, Any], ...] = ()  # per file of a folder: lines, dropped by reason
    skipped_files: dict[str, int] = field(default_factory=dict)  # hidden, not_data

    def to_dict(self) -> dict[str, Any]:
        out = {
            "lines": self.lines,
            "kept_lines": self.kept_lines,
            "returns": self.returns,
            "dropped": self.dropped,
            "customers_without_purchase": self.customers_without_purchase,
        }
        if self.files:
            out["files"] = list(self.files)
        if self.skipped_files:
            out["skipped_files"] = dict(self.skipped_files)
        return out

    def explain(self) -> list[tuple[str, int, str]]:
        """(reason, lines, plain words) for every reason with at least one line."""
        return [(r, n, REASONS[r]) for r, n in self.dropped.items() if n]


def report_from_groups(
    by_reason: Mapping[str | None, Mapping[str, Any]],
    *,
    file: str | Path,
    max_bad_share: float,
    raise_bad: Callable[[str, int, int], None],
) -> tuple[CleaningReport, date]:
    """The cleaning report and the last day, from the lines grouped by drop reason (None =
    kept); ``raise_bad(reason, bad, total)`` stops a run with too many unreadable values."""
    total = sum(int(r["lines"]) for r in by_reason.values())
    for reason in ("unparseable_date", "unparseable_amount"):
        bad = int(by_reason.get(reason, {}).get("lines") or 0)
        if bad > max_bad_share * total:
            raise_bad(reason, bad, total)
    kept = by_reason.get(None)
    if kept is None:
        raise InputError(
            "no line belongs to a customer",
            file=file,
            hint="check the customer column (--customer) and the adjustments in the file",
        )
    idle_lines = int(kept["idle_lines"] or 0)
    counts = {r: int(row["lines"]) for r, row in by_reason.items() if r is not None}
    counts["no_purchase"] = idle_lines
    report = CleaningReport(
        lines=total,
        kept_lines=int(kept["lines"]) - idle_lines,
        dropped={r: counts[r] for r in REASONS if counts.get(r)},
        returns=int(kept["returns"] or 0),
        customers_without_purchase=int(kept["idle_customers"] or 0),
    )
    return report, max(r["last_day"] for r in by_reason.values() if r["last_day"] is not None)


def with_manifest(
    report: CleaningReport,
    manifest: LogManifest,
    file_counts: Sequence[Mapping[str | None, int]] = (),
) -> CleaningReport:
    """The report of an assembled log with what its manifest knows: the lines left out before
    assembly (added to the totals), and, given each file's lines by reason (None = kept,
    in the manifest's file order), the dropped lines per file (without them, as on Spark,
    no per-file list). Files left out whole are counted under ``skipped_files``."""
    excluded = manifest.excluded_total()
    dropped = dict(report.dropped)
    for reason, n in excluded.items():
        dropped[reason] = dropped.get(reason, 0) + n
    files = []
    for i, (name, lines) in enumerate(manifest.files):
        counts = dict(file_counts[i]) if i < len(file_counts) else {}
        for reason, n in manifest.excluded.get(name, {}).items():
            counts[reason] = counts.get(reason, 0) + n
        before = sum(manifest.excluded.get(name, {}).values())
        files.append(
            {
                "file": name,
                "lines": lines + before,
                "dropped": {r: counts[r] for r in REASONS if counts.get(r)},
            }
        )
    return replace(
        report,
        lines=report.lines + sum(excluded.values()),
        dropped={r: dropped[r] for r in REASONS if dropped.get(r)},
        files=tuple(files) if file_counts else (),
        skipped_files={k: v for k, v in manifest.skipped.items() if v},
    )


@dataclass
class RfmResult:
    """Per-customer RFM held in a DuckDB table (``table``) of an open connection."""

    con: duckdb.DuckDBPyConnection
    table: str
    source: dict[str, object]
    mapping: dict[str, str]
    date_format: str | None
    as_of: date
    bins: int
    report: CleaningReport
    customers: int
    segments: list[dict[str, Any]] = field(default_factory=list)
    lines: str | None = None  # SQL of the kept lines (local engine), for the catalog
    product_names: str | None = None  # SQL of one name per product code, when it has names
    value_summary: str | None = None  # table of the repeat-purchase summary, when asked for

    def to_pandas(self) -> pd.DataFrame:
        return self.con.execute(f"SELECT * FROM {self.table}").df()

    def to_arrow(self) -> pa.Table:
        return self.con.sql(f"SELECT * FROM {self.table}").to_arrow_table()

    def write(self, path: str | Path) -> Path:
        """Write the per-customer table by extension (.csv .parquet .xlsx)."""
        scores = range(1, self.bins + 1)
        codes = [f"{r}{f}{m}" for r in scores for f in scores for m in scores]
        segments = [str(s["segment"]) for s in self.segments]
        coded = {"rfm_code": codes, "segment": segments}
        return write_relation(self.con, self.table, path, coded=coded)

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary: input, mapping, cleaning report, segment counts."""
        return {
            "input": self.source,
            "mapping": self.mapping,
            "date_format": self.date_format,
            "as_of": self.as_of.isoformat(),
            "bins": self.bins,
            "customers": self.customers,
            "report": self.report.to_dict(),
            "segments": self.segments,
        }


def segment_counts(con: duckdb.DuckDBPyConnection, customers: int) -> list[dict[str, Any]]:
    """Customers and averages per RFM segment of the ``rfm`` table, largest first."""
    rows = con.execute(
        "SELECT segment, count(*), avg(recency), avg(frequency), avg(monetary), sum(monetary) "
        "FROM rfm GROUP BY segment ORDER BY count(*) DESC, segment"
    ).fetchall()
    return [
        {
            "segment": seg,
            "customers": n,
            "share": round(n / customers, 4),
            "recency_mean": round(r, 1),
            "frequency_mean": round(f, 2),
            "monetary_mean": round(m, 2),
            "monetary_total": round(t, 2),
        }
        for seg, n, r, f, m, t in rows
    ]


class RfmEngine(Protocol):
    """What an engine is: a log file and the options in, per-customer RFM (``RfmResult``,
    its table held in DuckDB whichever engine ran) out. ``engines/local.py`` (DuckDB) and
    ``engines/spark.py`` (Spark SQL) run the same SQL text from ``features/rfm.py``."""

    def __call__(
        self,
        path: str | Path,
        options: RfmOptions,
        settings: Settings,
        *,
        summary_period: int | None = None,
        keep_lines: bool = True,
    ) -> RfmResult:
        """Read, clean and aggregate the log; the cleaning report says what was dropped.
        With ``summary_period`` (days per time unit), also the repeat-purchase summary of
        ``features/value_summary.py`` up to the day before the as-of date. With
        ``keep_lines=False`` the caller will not read the kept lines again (an engine may
        then read the file only once)."""
        ...
