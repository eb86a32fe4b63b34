"""Use case: segment the customers of a log (via RFM) or of a customer table."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from segwise.config import Settings
from segwise.engines.local import RfmOptions
from segwise.errors import InputError
from segwise.service.rfm import compute_rfm

if TYPE_CHECKING:
    from segwise.segment.pipeline import Progress, Segmentation


@dataclass(frozen=True)
class SegmentOptions:
    """What ``segwise segment`` was asked for."""

    kind: Literal["auto", "transactions", "customers"] = "auto"
    features: list[str] | None = None
    k: int | Literal["auto"] = "auto"
    k_max: int = 10
    seed: int = 0
    rfm: RfmOptions = field(default_factory=RfmOptions)
    rules: Path | None = None


def segment(
    path: str | Path,
    options: SegmentOptions | None = None,
    *,
    engine: str = "local",
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> Segmentation:
    """Segment the customers of a transaction log (via RFM) or of a customer table."""
    import duckdb

    from segwise.io.readers import open_source, read_table
    from segwise.io.roles import detect_roles, id_column, looks_like_log
    from segwise.segment.pipeline import segment_table
    from segwise.segment.recommend import load_rules

    options = options or SegmentOptions()
    if options.k != "auto" and not options.k >= 2:
        raise InputError(f"--k {options.k} is too small", hint="use --k auto or a number >= 2")
    if not 2 <= options.k_max <= 50:
        raise InputError(f"--k-max {options.k_max} is out of range", hint="use 2..50")
    rules = load_rules(options.rules) if options.rules else None
    step = progress or (lambda _: None)
    kind = options.kind
    if kind == "auto":
        with duckdb.connect() as con:
            source = open_source(con, path)
            source.close()
        mapping = detect_roles(source.columns, source.sample, options.rfm.columns)
        kind = "transactions" if looks_like_log(mapping, source.sample) else "customers"
    step(f"reading {Path(path).name} as {kind}")
    if kind == "transactions":
        rfm = compute_rfm(path, options.rfm, engine=engine, settings=settings)
        table = rfm.to_pandas().set_index("customer_id")
        result = segment_table(
            table,
            kind=kind,
            features=options.features,
            k=options.k,
            k_max=options.k_max,
            seed=options.seed,
            rfm_segments=table["segment"],
            rules=rules,
            progress=progress,
        )
        result.extra = {"rfm": rfm.summary()}
        return result
    source, frame = read_table(path)
    ident = id_column(list(frame.columns), source.sample)
    if ident is not None and frame[ident].is_unique and frame[ident].notna().all():
        frame = frame.set_index(ident)
    else:
        frame.index = pd_index(len(frame))
    frame.index.name = "customer_id"
    _check_features(options.features, list(frame.columns), source.path)
    result = segment_table(
        frame,
        kind="customers",
        features=options.features,
        k=options.k,
        k_max=options.k_max,
        seed=options.seed,
        rules=rules,
        progress=progress,
    )
    result.extra = {"input": source.describe() | {"rows": len(frame)}, "id_column": ident}
    return result


def pd_index(n: int) -> list[str]:
    """Row numbers 1..n as customer ids, for tables without an id column."""
    return [str(i) for i in range(1, n + 1)]


def _check_features(features: list[str] | None, columns: list[str], path: Path) -> None:
    for name in features or []:
        if name not in columns:
            raise InputError(
                f"--features names '{name}', which is not a column",
                file=path,
                hint=f"columns are: {', '.join(columns)}",
            )
