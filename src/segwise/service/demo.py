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
    from segwise.service.datasets import DatasetInfo
    from segwise.service.runs import RunInfo


@dataclass(frozen=True)
class DemoRun:
    """What the demo made: the sample files, the log's dataset and run, RFM, segments, model."""

    log: Path
    samples: dict[str, Path]  # what each other sample file is for -> its path
    dataset: DatasetInfo
    run: RunInfo
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
    """The whole flow on a seeded sample shop log: ingest -> RFM -> segments -> classifier ->
    a run stored in the catalog; the segments and the model are also written to ``folder``.

    ``folder`` also gets the files the README's examples use: next month's log, a few new
    customers' lines, and a customer table with a business column to predict.
    """
    from segwise.demo import generate_customers, generate_log, next_month, write_log
    from segwise.demo_mpesa import mpesa_statement_lines, write_mpesa_statement
    from segwise.io.writers import write_frame
    from segwise.service.datasets import ingest
    from segwise.service.results import copy_run_model
    from segwise.service.runs import run_segment
    from segwise.service.segments import SegmentOptions

    step = progress or (lambda _: None)
    settings = get_settings()
    folder = Path(folder) if folder else settings.home / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    step("writing the sample shop log")
    shop = generate_log(customers, seed=seed)
    log = write_log(shop.lines, folder / "shop_log.csv", style="uk")
    samples = {
        "the log a month later": write_log(
            next_month(shop, seed=seed + 1), folder / "december.csv", style="uk"
        ),
        "new customers' lines": write_log(
            generate_log(50, seed=seed + 2).lines, folder / "new_customers.csv", style="uk"
        ),
        "a customer table (survey)": write_frame(
            generate_customers(customers // 2, seed=seed), folder / "customers.csv"
        ),
        "an M-Pesa paybill statement": write_mpesa_statement(
            mpesa_statement_lines(seed=seed), folder / "mpesa_statement.csv"
        ),
    }
    step("ingesting it into the catalog")
    dataset = ingest(log, name="sample shop", settings=settings)
    rfm = compute_rfm(log, settings=settings)
    options = SegmentOptions()  # as `segwise segment` runs by default: the same answer
    run, result = run_segment(dataset.id, options, settings=settings, progress=progress)
    segments = write_frame(result.assignments(), folder / "segments.csv")
    model = copy_run_model(run.id, folder / "model.skops", settings=settings)
    return DemoRun(log, samples, dataset, run, rfm, result, segments, model)
