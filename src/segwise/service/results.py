"""Use cases on finished runs: list them, read their segments, assignments and files, and
load a run's model once per process to place customers."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segwise.config import Settings, get_settings
from segwise.errors import InputError
from segwise.service.datasets import open_catalog
from segwise.service.runs import RunInfo, done_run, fail_stale

if TYPE_CHECKING:
    import pandas as pd

    from segwise.service.predict import Predictor


def get_run(run_id: str, *, settings: Settings | None = None) -> RunInfo:
    return RunInfo.of(open_catalog(settings).run(run_id))


def list_runs(*, settings: Settings | None = None) -> list[RunInfo]:
    """Every run, newest first (stale running runs are marked failed first)."""
    settings = settings or get_settings()
    catalog = open_catalog(settings)
    fail_stale(catalog, settings)
    return [RunInfo.of(r) for r in catalog.runs()]


def run_segments(run_id: str, *, settings: Settings | None = None) -> list[dict[str, Any]]:
    """The segments of a finished run: id, name, size, share, profile, recommendation, the
    rates of the outcomes set aside from clustering and, for a log, the segment's customer
    value (both stored with the profile)."""
    catalog = open_catalog(settings)
    run = done_run(catalog, run_id)
    return [
        {
            "segment": s.segment,
            "name": s.name,
            "size": s.size,
            "share": s.share,
            "profile": {k: v for k, v in s.profile.items() if k not in ("outcomes", "value")},
            "recommendation": s.recommendation,
            "outcomes": s.profile.get("outcomes", []),
            "value": s.profile.get("value"),
        }
        for s in run.segments
    ]


def run_files(run_id: str, *, settings: Settings | None = None) -> Path:
    """The folder of a finished run (assignments.parquet, model.skops, ...)."""
    settings = settings or get_settings()
    run = done_run(open_catalog(settings), run_id)
    assert run.path is not None
    return settings.home / run.path


def read_assignments(run_id: str, *, settings: Settings | None = None) -> pd.DataFrame:
    """One row per customer of a finished run: features, segment, segment_name (and RFM)."""
    import pandas as pd

    return pd.read_parquet(run_files(run_id, settings=settings) / "assignments.parquet")


def copy_run_model(run_id: str, target: str | Path, *, settings: Settings | None = None) -> Path:
    """Copy a finished run's model file (its fitted preprocessing + clustering) to ``target``,
    atomically."""
    import shutil

    from segwise.io.atomic import atomic_path

    source = run_files(run_id, settings=settings) / "model.skops"
    if not source.exists():
        raise InputError(f"run {run_id} has no model file", hint="run it again")
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
    return Path(target)


def run_predictor(run_id: str, *, settings: Settings | None = None) -> Predictor:
    """The run's model (its fitted preprocessing + clustering), loaded once per process and
    kept in memory; a done run never changes, so later calls answer without the catalog."""
    settings = settings or get_settings()
    return _load_predictor(str(settings.home), settings.database_url, run_id)


@lru_cache(maxsize=16)
def _load_predictor(home: str, url: str | None, run_id: str) -> Predictor:
    from segwise.service.predict import Predictor

    settings = get_settings().model_copy(update={"home": Path(home), "database_url": url})
    path = run_files(run_id, settings=settings) / "model.skops"
    if not path.exists():
        raise InputError(f"run {run_id} has no model file", hint="run it again")
    return Predictor.load(path)
