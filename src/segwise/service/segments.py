"""Use case: segment the customers of a log (via RFM) or of a customer table."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from segwise.config import Settings, get_settings
from segwise.errors import InputError
from segwise.features.rfm import RfmOptions
from segwise.service.rfm import compute_rfm
from segwise.store.lake import read_rfm_cache, rfm_cache_path

if TYPE_CHECKING:
    import pandas as pd

    from segwise.segment.pipeline import Progress, Segmentation


MAX_SEGMENTS = 50
"""The largest k a run may ask for or try (CLI, API and dashboard share this limit)."""
MIN_SHARE = 0.03
"""Default smallest segment, as a share of customers, that ``--k auto`` may choose (the same
as ``segment.kselect.MIN_SHARE``; kept here so option parsing never imports scikit-learn)."""
MAX_MIN_SHARE = 0.5
"""The largest minimum segment share a run may ask for (two segments of half each)."""


@dataclass(frozen=True)
class SegmentOptions:
    """What ``segwise segment`` was asked for, checked once, here, when built (the CLI, the
    API and the dashboard build it and check nothing themselves). A recorded run keeps it in
    the catalog and a worker reads it back there, pointed at the stored dataset's columns."""

    kind: Literal["auto", "transactions", "customers"] = "auto"
    features: list[str] | None = None
    outcomes: list[str] | None = None  # None: the columns named like outcomes; []: none
    k: int | Literal["auto"] = "auto"
    k_max: int = 10
    k_min: int = 2
    min_share: float = MIN_SHARE
    seed: int = 0
    rfm: RfmOptions = field(default_factory=RfmOptions)
    rules: Path | None = None
    value: bool = True  # a log's runs also get customer value (P(alive), CLV, churn risk)

    def __post_init__(self) -> None:
        if self.kind not in ("auto", "transactions", "customers"):
            raise InputError(
                f"--kind '{self.kind}' is unknown", hint="use auto, transactions or customers"
            )
        if self.k != "auto" and not (
            isinstance(self.k, int) and not isinstance(self.k, bool) and self.k >= 2
        ):
            raise InputError(f"--k {self.k} is too small", hint="use --k auto or a number >= 2")
        if isinstance(self.k, int) and self.k > MAX_SEGMENTS:
            raise InputError(f"--k {self.k} is too large", hint=f"use at most {MAX_SEGMENTS}")
        if not 2 <= self.k_max <= MAX_SEGMENTS:
            raise InputError(f"--k-max {self.k_max} is out of range", hint=f"use 2..{MAX_SEGMENTS}")
        if not 2 <= self.k_min <= self.k_max:
            raise InputError(
                f"--k-min {self.k_min} is out of range", hint=f"use 2..{self.k_max} (--k-max)"
            )
        if not 0.0 <= self.min_share <= min(MAX_MIN_SHARE, 1.0 / self.k_min):
            top = min(MAX_MIN_SHARE, 1.0 / self.k_min)
            raise InputError(
                f"--min-share {self.min_share:g} is out of range",
                hint=f"use a share of customers from 0 to {top:g}, e.g. 0.03 for 3%",
            )
        if self.seed < 0:
            raise InputError(f"--seed {self.seed} is negative", hint="use 0 or more")
        both = [name for name in self.outcomes or () if name in (self.features or ())]
        if both:
            raise InputError(
                f"'{both[0]}' is in both --features and --outcomes",
                hint="a column is either clustered on (--features) or described (--outcomes)",
            )


def segment(
    path: str | Path,
    options: SegmentOptions | None = None,
    *,
    engine: str = "local",
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> Segmentation:
    """Segment the customers of a transaction log (via RFM) or of a customer table."""
    from segwise.segment.pipeline import segment_table
    from segwise.segment.recommend import load_rules

    options = options or SegmentOptions()
    rules = load_rules(options.rules) if options.rules else None
    kind = resolve_kind(path, options)
    (progress or (lambda _: None))(f"reading {Path(path).name} as {kind}")
    options = replace(options, kind=kind)
    if engine == "spark":  # lines, RFM and k-means on Spark (docs/spark.md)
        from segwise.config import get_settings
        from segwise.service.rfm import check_engine

        check_engine(engine)
        if kind != "transactions":
            raise InputError(
                "--engine spark segments transaction logs; customer tables use the local engine",
                hint="drop --engine spark",
            )
        from segwise.engines.spark_segment import segment_log

        return segment_log(
            path,
            options.rfm,
            settings=settings or get_settings(),
            features=options.features,
            k=options.k,
            k_min=options.k_min,
            k_max=options.k_max,
            min_share=options.min_share,
            seed=options.seed,
            rules=rules,
            progress=progress,
        )
    table, rfm_segments, extra = load_features(path, options, engine=engine, settings=settings)
    result = segment_table(
        table,
        kind=kind,
        features=options.features,
        outcomes=options.outcomes,
        k=options.k,
        k_min=options.k_min,
        k_max=options.k_max,
        min_share=options.min_share,
        seed=options.seed,
        rfm_segments=rfm_segments,
        rules=rules,
        progress=progress,
    )
    result.extra = extra
    return result


def resolve_kind(path: str | Path, options: SegmentOptions) -> Literal["transactions", "customers"]:
    """The kind asked for, or the one the file reads as (``--kind auto``)."""
    from segwise.service.datasets import detect_kind

    if options.kind != "auto":
        return options.kind
    found = detect_kind(Path(path), options.rfm.columns)
    return "transactions" if found == "transactions" else "customers"


def load_features(
    path: str | Path,
    options: SegmentOptions,
    *,
    engine: str = "local",
    settings: Settings | None = None,
) -> tuple[pd.DataFrame, pd.Series | None, dict[str, Any]]:
    """One row per customer (index customer_id): RFM of a log, or the customer table as given;
    with the named RFM segment of each customer of a log, and what was read."""
    from segwise.service.datasets import read_customers

    if resolve_kind(path, options) == "transactions":
        if options.outcomes:
            raise InputError(
                "--outcomes is for customer tables; a log is segmented on its RFM",
                file=Path(path),
                hint="drop --outcomes, or segment a customer table",
            )
        stored = Path(path).parent == (settings or get_settings()).home / "datasets"
        cached = read_rfm_cache(rfm_cache_path(Path(path), options.rfm)) if stored else None
        if cached is not None and engine == "local":  # the ingest's own RFM of these lines
            table, summary = cached
            return table, table["segment"], {"rfm": summary}
        rfm = compute_rfm(path, options.rfm, engine=engine, settings=settings)
        table = rfm.to_pandas().set_index("customer_id")
        return table, table["segment"], {"rfm": rfm.summary()}
    frame, ident, described = read_customers(Path(path))
    _check_features(options.features, list(frame.columns), Path(path))
    _check_features(options.outcomes, list(frame.columns), Path(path), flag="--outcomes")
    return frame, None, {"input": described, "id_column": ident}


def _check_features(
    features: list[str] | None, columns: list[str], path: Path, *, flag: str = "--features"
) -> None:
    for name in features or []:
        if name not in columns:
            raise InputError(
                f"{flag} names '{name}', which is not a column",
                file=path,
                hint=f"columns are: {', '.join(columns)}",
            )
