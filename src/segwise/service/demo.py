"""The demo: the whole flow on a seeded synthetic shop log with planted customer types."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from segwise.config import get_settings
from segwise.service.rfm import compute_rfm

if TYPE_CHECKING:
    from segwise.engines.result import RfmResult
    from segwise.segment.pipeline import Progress, Segmentation


@dataclass(frozen=True)
class DemoRun:
    """What the demo made: the sample log, its RFM, its segments and the model file."""

    log: Path
    rfm: RfmResult
    segmentation: Segmentation
    segments: Path
    model: Path


def run_demo(
    folder: str | Path | None = None,
    *,
    customers: int = 2_000,
    seed: int = 7,
    progress: Progress | None = None,
) -> DemoRun:
    """Write a sample shop log, compute RFM, segment it and save the segments and the model."""
    from segwise.demo import generate_log, write_log
    from segwise.io.writers import write_frame
    from segwise.service.predict import save_segment_model, train_segment_model
    from segwise.service.segments import segment

    step = progress or (lambda _: None)
    settings = get_settings()
    folder = Path(folder) if folder else settings.home / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    step("writing the sample shop log")
    log = write_log(generate_log(customers, seed=seed).lines, folder / "shop_log.csv", style="uk")
    rfm = compute_rfm(log, settings=settings)
    result = segment(log, settings=settings, progress=progress)
    segments = write_frame(result.assignments(), folder / "segments.csv")
    step("training the segment classifier")
    pipeline, evaluation = train_segment_model(result, seed=seed)
    model = save_segment_model(result, pipeline, evaluation, folder / "model.skops")
    result.extra["classifier"] = evaluation.to_dict()
    return DemoRun(log, rfm, result, segments, model)
