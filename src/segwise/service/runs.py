"""Use case: a segmentation run recorded in the catalog, all or nothing.

A run goes queued -> running -> done | failed. Its files (assignments, model, projection,
standing) are written in a staged folder renamed at the end, and only then is it marked
done, in one transaction with its segments; a killed run is marked failed at the next start.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segwise.config import Settings, get_settings
from segwise.errors import InputError, NotDoneError, NotFoundError
from segwise.features.rfm import DEFAULT_GRID, RfmOptions, SegmentGrid
from segwise.service.datasets import LINE_ROLES, DatasetInfo, ingest, open_catalog
from segwise.service.run_tables import jsonable, versions, write_run_files
from segwise.service.segments import MIN_SHARE, SegmentOptions
from segwise.store.catalog import Catalog, ModelRow, Run, SegmentRow, now
from segwise.store.lake import run_path, staged_folder

if TYPE_CHECKING:
    from segwise.segment.pipeline import Progress, Segmentation


@dataclass(frozen=True)
class RunInfo:
    """A run as the shells show it."""

    id: str
    dataset: str
    dataset_name: str
    kind: str
    status: str
    k: int | None
    params: dict[str, Any]
    summary: dict[str, Any]
    metrics: dict[str, Any]
    timings: dict[str, Any]
    error: str | None
    created: datetime
    finished: datetime | None

    @classmethod
    def of(cls, row: Run) -> RunInfo:
        return cls(
            id=row.id,
            dataset=row.dataset_id,
            dataset_name=row.dataset.name,
            kind=row.dataset.kind,
            status=row.status,
            k=row.k,
            params=dict(row.params),
            summary=dict(row.summary or {}),
            metrics=dict(row.metrics or {}),
            timings=dict(row.timings or {}),
            error=row.error,
            created=row.created,
            finished=row.finished,
        )

    def to_dict(self, *, full: bool = False) -> dict[str, Any]:
        """JSON-ready; ``full`` adds the segmentation summary and the classifier metrics."""
        out: dict[str, Any] = {
            "id": self.id,
            "dataset": self.dataset,
            "dataset_name": self.dataset_name,
            "kind": self.kind,
            "status": self.status,
            "k": self.k,
            "error": self.error,
            "created": self.created.isoformat(timespec="seconds"),
            "finished": self.finished.isoformat(timespec="seconds") if self.finished else None,
            "timings": self.timings,
        }
        if full:
            out |= {"params": self.params, "summary": self.summary, "classifier": self.metrics}
        return out


def start_run(
    source: str | Path,
    options: SegmentOptions | None = None,
    *,
    engine: str = "local",
    like: str | None = None,
    match: str | None = None,
    classifier: bool = False,
    pseudonymise: bool | None = None,
    settings: Settings | None = None,
) -> RunInfo:
    """Record a queued run of a dataset id, or of a file (ingested first), in the catalog
    and the audit log (analysts and admins)."""
    from segwise.service.audit import record_event, require

    require("run")
    settings = settings or get_settings()
    options = options or SegmentOptions()
    catalog = open_catalog(settings)
    fail_stale(catalog, settings)
    started = time.perf_counter()
    dataset = _dataset(source, options, pseudonymise, settings, catalog)
    # the runs to follow, by their ids: `latest` means the newest run before this one
    like, match = (
        None if other is None else done_run(catalog, other).id for other in (like, match)
    )
    run = Run(
        id="r" + secrets.token_hex(6),
        dataset_id=dataset.id,
        status="queued",
        params=_params(options, engine, like, match, classifier),
        summary={},
        metrics={},
        timings={"ingest_s": round(time.perf_counter() - started, 3)},
        versions=versions(),
        pid=os.getpid(),
        host=socket.gethostname(),
        created=now(),
    )
    catalog.add(run)
    record_event("run.start", run.id, {"dataset": dataset.id}, settings=settings)
    return RunInfo.of(catalog.run(run.id))


def execute_run(
    run_id: str, *, settings: Settings | None = None, progress: Progress | None = None
) -> Segmentation:
    """Do the work of a queued run; on any failure the run is marked failed and the error
    re-raised, and no file of it is left behind."""
    settings = settings or get_settings()
    catalog = open_catalog(settings)
    row = catalog.run(run_id)
    if row.status != "queued":
        raise InputError(f"run {row.id} is {row.status}, not queued")
    catalog.update_run(row.id, status="running", started=now(), pid=os.getpid())
    try:
        return _execute(catalog, row, settings, progress)
    except BaseException as error:
        message = " ".join(str(error).split()) or type(error).__name__
        if catalog.run(row.id).status != "cancelled":  # a cancelled run stays cancelled
            catalog.update_run(row.id, status="failed", error=message[:2000], finished=now())
        raise


def run_segment(
    source: str | Path,
    options: SegmentOptions | None = None,
    *,
    engine: str = "local",
    like: str | None = None,
    match: str | None = None,
    classifier: bool = False,
    pseudonymise: bool | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> tuple[RunInfo, Segmentation]:
    """Record and run a segmentation now (the CLI's ``segwise segment``)."""
    from segwise.service.warmup import warm

    if engine == "local":
        warm()  # scikit-learn loads while the data is read
    settings = settings or get_settings()
    queued = start_run(
        source,
        options,
        engine=engine,
        like=like,
        match=match,
        classifier=classifier,
        pseudonymise=pseudonymise,
        settings=settings,
    )
    seg = execute_run(queued.id, settings=settings, progress=progress)
    return RunInfo.of(open_catalog(settings).run(queued.id)), seg


def fail_stale(catalog: Catalog, settings: Settings) -> None:
    """Mark runs whose process is gone as failed, and remove their half-written folders."""
    import shutil

    for run_id in catalog.fail_stale_runs():
        for staged in run_path(settings.home, run_id).parent.glob(f".{run_id}.*.tmp"):
            shutil.rmtree(staged, ignore_errors=True)


def done_run(catalog: Catalog, run_id: str) -> Run:
    """The run, which must be finished (else one line saying it is not)."""
    run = catalog.run(run_id)
    if run.status != "done":
        raise NotDoneError(f"run {run.id} is {run.status}, not done", hint="see `segwise runs`")
    return run


def _dataset(
    source: str | Path,
    options: SegmentOptions,
    pseudonymise: bool | None,
    settings: Settings,
    catalog: Catalog,
) -> DatasetInfo:
    path = Path(source)
    if path.is_file():
        return ingest(
            path,
            kind=options.kind,
            options=options.rfm,
            pseudonymise=pseudonymise,
            settings=settings,
        )
    try:
        return DatasetInfo.of(catalog.dataset(str(source)))
    except NotFoundError:
        raise InputError(
            f"'{source}' is neither a file nor a stored dataset",
            hint="give a CSV/TSV/XLSX/Parquet path, or an id from `segwise ingest`",
        ) from None


def _params(
    options: SegmentOptions, engine: str, like: str | None, match: str | None, classifier: bool
) -> dict[str, Any]:
    rfm = options.rfm
    grid = None
    if rfm.grid is not DEFAULT_GRID:
        grid = [[r, fm, name] for (r, fm), name in sorted(rfm.grid.cells.items())]
    return {
        "kind": options.kind,
        "features": options.features,
        "outcomes": options.outcomes,
        "k": options.k,
        "k_max": options.k_max,
        "k_min": options.k_min,
        "min_share": options.min_share,
        "seed": options.seed,
        "rules": str(options.rules) if options.rules else None,
        "bins": rfm.bins,
        "as_of": rfm.as_of.isoformat() if rfm.as_of else None,
        "grid": grid,
        "engine": engine,
        "like": like,
        "match": match,
        "classifier": classifier,
        "value": options.value,
    }


def _options(params: dict[str, Any], dataset: DatasetInfo) -> SegmentOptions:
    """The options a run was recorded with, reading the stored dataset back."""
    grid = DEFAULT_GRID
    if params.get("grid"):
        grid = SegmentGrid({(int(r), int(fm)): str(n) for r, fm, n in params["grid"]})
    as_of = date.fromisoformat(params["as_of"]) if params.get("as_of") else dataset.as_of
    rfm = RfmOptions(
        columns=dict(LINE_ROLES, amount="value", quantity="quantity"),
        as_of=as_of,
        bins=int(params.get("bins", 5)),
        grid=grid,
    )
    return SegmentOptions(
        kind="transactions" if dataset.kind == "transactions" else "customers",
        features=params.get("features"),
        outcomes=params.get("outcomes"),
        k=params.get("k", "auto"),
        k_max=int(params.get("k_max", 10)),
        k_min=int(params.get("k_min", 2)),
        min_share=float(params.get("min_share", MIN_SHARE)),
        seed=int(params.get("seed", 0)),
        rfm=rfm,
        rules=Path(params["rules"]) if params.get("rules") else None,
        value=bool(params.get("value", True)),
    )


def _execute(
    catalog: Catalog, row: Run, settings: Settings, progress: Progress | None
) -> Segmentation:
    from segwise.service import follow

    params, dataset = row.params, DatasetInfo.of(row.dataset)
    options = _options(params, dataset)
    timings = dict(row.timings)
    clock = time.perf_counter()
    stored = settings.home / row.dataset.path
    if params.get("like"):
        seg = follow.assign_like(
            stored, options, catalog, done_run(catalog, params["like"]), settings, progress
        )
    else:
        from segwise.service.segments import segment

        seg = segment(
            stored,
            options,
            engine=params.get("engine", "local"),
            settings=settings,
            progress=progress,
        )
        if params.get("match"):
            seg = follow.match_to(seg, done_run(catalog, params["match"]), settings)
    if dataset.kind == "transactions":
        rfm = seg.extra.get("rfm", {})
        seg.extra["rfm"] = rfm | {
            "input": {"dataset": dataset.id, "name": dataset.name},
            "report": dataset.report,
        }
    timings["segment_s"] = round(time.perf_counter() - clock, 3)
    step = progress or (lambda _: None)
    if dataset.kind == "transactions" and options.value and options.rfm.as_of is not None:
        from segwise.service.value_columns import add_run_value

        clock = time.perf_counter()
        step("valuing the customers")
        add_run_value(seg, stored, options.rfm.as_of)
        timings["value_s"] = round(time.perf_counter() - clock, 3)
    model_row, metrics = None, {}
    # the tables are written (Parquet, outside the interpreter lock) while the model is
    # trained and saved (Python); both only read the segmentation
    with (
        staged_folder(run_path(settings.home, row.id)) as folder,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="segwise-tables") as pool,
    ):
        from segwise.service.predict import save_segment_model, train_segment_model

        tables = pool.submit(write_run_files, seg, folder)
        surrogate = None
        if params.get("classifier", False):
            clock = time.perf_counter()
            step("training the surrogate classifier")
            surrogate = train_segment_model(seg, seed=options.seed)
            metrics = surrogate[1].to_dict()
            seg.extra["classifier"] = metrics
            timings["classifier_s"] = round(time.perf_counter() - clock, 3)
        clock = time.perf_counter()
        step("storing the run")
        saved = save_segment_model(seg, folder / "model.skops", surrogate=surrogate)
        model_row = ModelRow(
            id="m" + secrets.token_hex(6),
            run_id=row.id,
            kind="segment",
            path=str((run_path(settings.home, row.id) / saved.name).relative_to(settings.home)),
            manifest={"metrics": metrics, "names": list(seg.names)},
            created=now(),
        )
        tables.result()
        timings["store_s"] = round(time.perf_counter() - clock, 3)
    summary = jsonable(seg.summary())
    segments = [
        SegmentRow(
            run_id=row.id,
            segment=int(p.segment),
            name=name,
            size=int(p.size),
            share=float(p.share),
            profile=jsonable(
                p.to_dict()
                | {"outcomes": [r.to_dict() for r in rates]}
                | {"value": seg.segment_value.get(p.segment)}  # a log's value, else None
            ),
            recommendation=advice,
        )
        for p, name, advice, rates in zip(
            seg.profiles,
            seg.names,
            seg.recommendations,
            seg.outcomes or [[] for _ in seg.profiles],
            strict=True,
        )
    ]
    catalog.finish_run(
        row.id,
        segments,
        model_row,
        k=seg.k,
        summary=summary,
        metrics=jsonable(metrics),
        timings=timings,
        path=str(run_path(settings.home, row.id).relative_to(settings.home)),
        finished=now(),
    )
    seg.extra["run"] = row.id
    return seg
