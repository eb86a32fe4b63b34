"""Use case helpers: make a new run's segment ids comparable with an earlier run's."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from segwise.config import Settings
from segwise.errors import InputError
from segwise.store.catalog import Catalog, Run

if TYPE_CHECKING:
    from segwise.segment.pipeline import Progress, Segmentation
    from segwise.service.segments import SegmentOptions


def _earlier(run: Run, settings: Settings) -> tuple[Any, list[str], list[str]]:
    """The earlier run's artifact (fitted preprocessing + clustering), names and advice."""
    from segwise.predict.placement import is_placement_model
    from segwise.store.model_files import load_model

    path = settings.home / run.path / "model.skops" if run.path else None
    if path is None or not path.exists():
        raise InputError(f"run {run.id} has no model file", hint="run it again")
    pipeline, manifest = load_model(path)
    if not is_placement_model(pipeline):
        raise InputError(
            f"run {run.id} was saved by an older segwise, without its clustering",
            hint="run it again, then follow the new run",
        )
    return pipeline, manifest.names, manifest.recommendations


def assign_like(
    stored: Path,
    options: SegmentOptions,
    catalog: Catalog,
    earlier: Run,
    settings: Settings,
    progress: Progress | None = None,
) -> Segmentation:
    """Segment a stored dataset with an earlier run's preprocessing and centres."""
    from segwise.segment.align import assign_table
    from segwise.service.segments import load_features

    if earlier.dataset.kind != ("transactions" if options.kind == "transactions" else "customers"):
        raise InputError(
            f"run {earlier.id} segmented {earlier.dataset.kind}, this dataset is not",
            hint="--like needs a run on the same kind of data",
        )
    (progress or (lambda _: None))(f"assigning with run {earlier.id}")
    table, rfm_segments, extra = load_features(stored, options, settings=settings)
    model, names, advice = _earlier(earlier, settings)
    seg = assign_table(
        table,
        kind=options.kind if options.kind != "auto" else "customers",  # type: ignore[arg-type]
        model=model,
        names=names,
        recommendations=advice,
        rfm_segments=rfm_segments,
        seed=options.seed,
    )
    seg.extra = extra | {"like": earlier.id}
    return seg


def match_to(seg: Segmentation, earlier: Run, settings: Settings) -> Segmentation:
    """Renumber a refitted segmentation so that each segment takes the id of the earlier
    segment whose centre is nearest (Hungarian matching in the earlier run's scaled space)."""
    from segwise.segment.align import centroids, match_order, relabel

    model, _, _ = _earlier(earlier, settings)
    prepare, centers = model.steps[0][1], model.steps[-1][1].cluster_centers_
    used = list(prepare.report_.used)
    missing = [c for c in used if c not in seg.features.columns]
    if missing:
        raise InputError(
            f"--match {earlier.id}: the data lacks its features {', '.join(missing)}",
            hint="match runs over the same kind of data",
        )
    matrix = prepare.transform(seg.features)
    order = match_order(centroids(matrix, seg.labels, seg.k), centers)
    matched = relabel(seg, order)
    matched.extra = seg.extra | {"matched_to": earlier.id}
    return matched
