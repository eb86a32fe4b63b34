"""Placement benchmark: a run artifact placing one customer, and re-assigning a million.

Run: ``.venv/bin/python benchmarks/bench_place.py [--customers 1000000] [--calls 2000]``.

- **one customer**: ``Predictor.predict`` on a one-row DataFrame made from a dict, as the
  API and the dashboard call it (input checks, the run's Preprocessor, distances to the
  centres, confidence, names), median and p99 over ``--calls`` calls after a warm-up; beside
  it the bare floor: ``SegmentClusterer.predict`` on a row already prepared;
- **re-assigning**: ``Predictor.predict`` on all ``--customers`` rows of the run's own
  RFM table (with the check that every customer gets the run's segment back), beside
  scikit-learn's ``KMeans.predict`` with the same centres on the prepared matrix;
- **segment vs rfm**: ``segwise rfm LOG --out`` and ``segwise segment LOG --out`` as whole
  processes on the same log (fresh catalog), paired, and the ratio, on two ~1M-line shapes:
  CDNOW histories scaled up (~3 lines per customer, ``benchmarks/logs.py``) and the demo shop
  (~31 lines per customer).

The run is fitted on a synthetic RFM table: ``segwise.demo.generate_log`` customers'
recency/frequency/monetary, resampled to ``--customers`` rows with jitter. Writes the
``bench_place`` section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from bench_rfm import machine, replace_section, wait_idle  # this folder is sys.path[0]

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench_place:begin -->", "<!-- bench_place:end -->"


def rfm_table(customers: int, seed: int = 0) -> pd.DataFrame:
    """A realistic RFM table of ``customers`` rows: the demo shop's, resampled with jitter."""
    from segwise import service
    from segwise.demo import generate_log, write_log

    with tempfile.TemporaryDirectory() as folder:
        log = write_log(generate_log(20_000, seed=seed).lines, Path(folder) / "log.parquet")
        base = service.compute_rfm(log).to_pandas()[["recency", "frequency", "monetary"]]
    rng = np.random.default_rng(seed)
    rows = base.sample(customers, replace=True, random_state=seed).reset_index(drop=True)
    rows["recency"] = np.maximum(1, rows["recency"] + rng.integers(-3, 4, customers))
    rows["monetary"] = (rows["monetary"] * rng.uniform(0.9, 1.1, customers)).round(2)
    rows.index = pd.Index([f"c{i}" for i in range(customers)], name="customer_id")
    return rows


def one_customer(calls: int, customers: int) -> dict[str, float]:
    from sklearn.cluster import KMeans

    from segwise.predict.placement import place
    from segwise.segment.pipeline import segment_table
    from segwise.service.predict import Predictor, save_segment_model

    table = rfm_table(customers)
    started = time.perf_counter()
    seg = segment_table(table, kind="transactions", seed=0)
    fit_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        path = save_segment_model(seg, Path(folder) / "m.skops")
        predictor = Predictor.load(path)
    row = table.iloc[7].to_dict()
    prepared = seg.model.steps[0][1].transform(table.iloc[[7]])
    cluster = seg.model.steps[-1][1]
    for _ in range(50):
        predictor.predict(pd.DataFrame([row]))
    ms, floor = [], []
    for _ in range(calls):
        t = time.perf_counter()
        predictor.predict(pd.DataFrame([row]))
        ms.append((time.perf_counter() - t) * 1e3)
        t = time.perf_counter()
        cluster.predict(prepared)
        floor.append((time.perf_counter() - t) * 1e3)
    t = time.perf_counter()
    placed = predictor.predict(table)
    batch_s = time.perf_counter() - t
    assert (placed["segment"].to_numpy() == seg.labels).all(), "placement must be exact"
    t = time.perf_counter()
    found = place(seg.model, table)
    place_s = time.perf_counter() - t
    assert (found.segment == seg.labels).all()
    matrix = seg.model.steps[0][1].transform(table)
    km = KMeans(n_clusters=seg.k, init=cluster.cluster_centers_, n_init=1, max_iter=1)
    km.fit(matrix[: seg.k * 10])
    km.cluster_centers_ = cluster.cluster_centers_
    t = time.perf_counter()
    km.predict(matrix)
    kmeans_s = time.perf_counter() - t
    return {
        "customers": customers,
        "k": seg.k,
        "fit_s": fit_s,
        "one_median_ms": float(np.median(ms)),
        "one_p99_ms": float(np.percentile(ms, 99)),
        "floor_median_ms": float(np.median(floor)),
        "batch_s": batch_s,
        "place_s": place_s,
        "kmeans_s": kmeans_s,
    }


def segment_vs_rfm(log: Path, repeat: int = 3, segwise: str | None = None) -> dict[str, float]:
    """Whole ``segwise rfm``, ``segwise segment --no-value`` and ``segwise segment`` (with the
    value columns) processes on one log, fresh catalogs, in turn ``repeat`` times; the best of
    each. ``segwise`` is the command to run (default: the one beside this Python)."""
    import pyarrow.parquet as pq

    out: dict[str, float] = {"lines": pq.read_metadata(log).num_rows}
    segwise = segwise or str(Path(sys.executable).with_name("segwise"))
    with tempfile.TemporaryDirectory() as folder:
        for attempt in range(repeat):
            for name, args in (
                ("rfm_s", ["rfm", str(log), "--out", f"{folder}/r.parquet", "--json"]),
                ("bare_s", ["segment", str(log), "--out", f"{folder}/b.parquet", "--no-value"]),
                ("segment_s", ["segment", str(log), "--out", f"{folder}/s.parquet", "--json"]),
            ):
                env = os.environ | {"SEGWISE_HOME": f"{folder}/home-{name}-{attempt}"}
                t = time.perf_counter()
                subprocess.run([segwise, *args], env=env, check=True, capture_output=True)
                out[name] = min(out.get(name, float("inf")), time.perf_counter() - t)
        out["customers"] = pq.read_metadata(f"{folder}/r.parquet").num_rows
    return out


def logs(folder: Path) -> dict[str, Path]:
    """The two shapes: CDNOW histories scaled to ~1M lines (~3 lines per customer) and the
    demo shop (~31 lines per customer), both ~1M lines, as Parquet."""
    from logs import write_cdnow_scaled
    from segwise.demo import generate_log, write_log

    return {
        "CDNOW-scaled (few lines per customer)": write_cdnow_scaled(
            1_000_000, folder / "cdnow.parquet"
        ),
        "demo shop (many lines per customer)": write_log(
            generate_log(32_000, seed=1).lines, folder / "shop.parquet"
        ),
    }


def section(
    one: dict[str, float], whole: dict[str, dict[str, float]], segwise: str | None = None
) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    n = f"{one['customers']:,}"
    rows = [
        (
            "one customer, `Predictor.predict` (dict -> row, checks, preparation, distances)",
            f"median {one['one_median_ms']:.2f} ms, p99 {one['one_p99_ms']:.2f} ms",
            f"`SegmentClusterer.predict`, a prepared row: {one['floor_median_ms']:.3f} ms",
        ),
        (
            f"re-assign all {n} customers, `Predictor.predict`",
            f"{one['batch_s']:.2f} s",
            f"`KMeans.predict`, same centres, prepared matrix: {one['kmeans_s']:.2f} s",
        ),
        ("the same, `predict.placement.place` (no input checks)", f"{one['place_s']:.2f} s", ""),
    ]
    table = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
    whole_table = "\n".join(
        f"| {shape} | {w['lines']:,.0f} | {w['customers']:,.0f} | {w['rfm_s']:.2f} s"
        f" | {w['bare_s']:.2f} s | **{w['bare_s'] / w['rfm_s']:.1f}x**"
        f" | {w['segment_s']:.2f} s | {w['segment_s'] / w['rfm_s']:.1f}x |"
        for shape, w in whole.items()
    )
    return f"""{BEGIN}
## Placing customers with a run artifact

Generated by `benchmarks/bench_place.py` on {stamp}. {machine()}

The run: {n} customers (recency, frequency, monetary), k = {one["k"]}, fitted in
{one["fit_s"]:.2f} s (choice of k, k-means, stability, projection, profiles).

| what | segwise | bare floor |
|---|--:|--:|
{table}

Every customer got the run's own segment back (asserted).

Whole processes{" of an install without the test dependencies" if segwise else ""}, fresh
catalogs, in turn, best of 3: `segwise rfm LOG --out r.parquet --json`
against `segwise segment LOG --out b.parquet --no-value` (ingest, RFM once, k, fit,
stability, files) and `segwise segment LOG --out s.parquet --json`, which also fits the
value models and adds each customer's value columns (docs/value.md). Target: segment
(without value) at most 3x rfm.

| log (Parquet) | lines | customers | rfm | `--no-value` | ratio | with value | ratio |
|---|--:|--:|--:|--:|--:|--:|--:|
{whole_table}
{END}"""


def write_doc(text: str) -> None:
    """Replace the bench_place section of docs/benchmarks.md (or append it)."""
    replace_section(DOC, BEGIN, END, text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument(
        "--segwise",
        help="the segwise command for the whole-process runs, e.g. that of an install without"
        " the test dependencies (scikit-learn imports pytest when it is installed)",
    )
    args = parser.parse_args()
    wait_idle(120)
    one = one_customer(args.calls, args.customers)
    with tempfile.TemporaryDirectory() as folder:
        whole = {
            shape: segment_vs_rfm(log, segwise=args.segwise)
            for shape, log in logs(Path(folder)).items()
        }
    text = section(one, whole, args.segwise)
    write_doc(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
