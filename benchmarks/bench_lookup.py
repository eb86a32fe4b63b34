"""Customer look-up benchmark: one customer of a stored run of 1M customers, as the API and the
dashboard ask for it (``service.lookup_customer``), beside what a user would otherwise write.

Run::

    .venv/bin/python benchmarks/bench_lookup.py                   # 1M customers (~31M lines)
    .venv/bin/python benchmarks/bench_lookup.py --customers 100000 --out -

The first run generates the seeded sample shop log (``segwise.demo``; cached as Parquet in
``benchmarks/data/lookup/``), ingests it and records a run without classifier in a data
folder of its own there (``SEGWISE_HOME``); later runs reuse them.

Measured in this process with ``time.perf_counter`` over ``--calls`` distinct random customers,
after one warm-up call (which loads the run's description into the cache):

- segwise: ``lookup_customer`` (features, segment, advice, percentiles, RFM scores, purchases
  by month, top products); median, p95, p99, max.
- pandas, the usual way: the assignments Parquet and the cleaned lines read once with
  ``pd.read_parquet`` and kept in memory (load time and resident memory reported), then per
  customer a boolean filter of both frames and a ``groupby`` by month; median and p99.
- DuckDB on the same files without the sort order: a copy of both files shuffled, the same
  query text as segwise; median and p99 (what the sort by customer id buys).

Writes ``docs/benchmarks-lookup.md`` (``--out -``: stdout only).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data" / "lookup"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks-lookup.md"))
    args = parser.parse_args()
    home = DATA / f"home-{args.customers}"
    os.environ["SEGWISE_HOME"] = str(home)
    from segwise import service

    run_id, build = _prepare(args.customers, home)
    ids = service.read_assignments(run_id).customer_id.to_numpy()
    rng = np.random.default_rng(0)
    picked = [str(i) for i in rng.choice(ids, size=min(args.calls, len(ids)), replace=False)]
    service.lookup_customer(run_id, picked[0])
    segwise_ms = _time(lambda c: service.lookup_customer(run_id, c), picked)
    pandas_ms, pandas_load, pandas_mib = _pandas(run_id, picked)
    shuffled_ms = _shuffled(run_id, picked)
    text = _render(args, run_id, build, segwise_ms, pandas_ms, pandas_load, pandas_mib, shuffled_ms)
    if args.out == "-":
        print(text)
    else:
        Path(args.out).write_text(text)
        print(text)
    return 0


def _prepare(customers: int, home: Path) -> tuple[str, dict[str, float]]:
    from segwise import service
    from segwise.demo import generate_log, write_log

    log = DATA / f"shop_{customers}.parquet"
    build: dict[str, float] = {}
    if not log.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        clock = time.perf_counter()
        write_log(generate_log(customers, seed=1).lines, log, style="parquet")
        build["generate_s"] = time.perf_counter() - clock
    done = [r for r in service.list_runs() if r.status == "done"]
    if done:
        return done[0].id, build
    clock = time.perf_counter()
    run, _ = service.run_segment(log, classifier=False)
    build["ingest_and_run_s"] = time.perf_counter() - clock
    return run.id, build


def _time(call: Callable[[str], object], ids: list[str]) -> list[float]:
    times = []
    for ident in ids:
        clock = time.perf_counter()
        call(ident)
        times.append((time.perf_counter() - clock) * 1000)
    return times


def _pandas(run_id: str, ids: list[str]) -> tuple[list[float], float, float]:
    import pandas as pd

    from segwise import service

    clock = time.perf_counter()
    before = _rss_mib()
    assignments = service.read_assignments(run_id)
    lines = pd.read_parquet(_lines_path(run_id))
    load = time.perf_counter() - clock
    mib = _rss_mib() - before

    def one(ident: str) -> object:
        row = assignments[assignments.customer_id == ident]
        mine = lines[lines.customer_id == ident]
        value = mine.value.astype(float)
        months = value.groupby(pd.to_datetime(mine.day).dt.to_period("M")).sum()
        top = value.groupby(mine["product"]).sum().nlargest(5)
        return row, months, top

    return _time(one, ids[:50]), load, mib


def _shuffled(run_id: str, ids: list[str]) -> list[float]:
    import duckdb

    from segwise import service

    folder = DATA / f"shuffled-{run_id}"
    folder.mkdir(exist_ok=True)
    files = {
        "assignments": service.run_files(run_id) / "assignments.parquet",
        "lines": _lines_path(run_id),
    }
    for name, source in files.items():
        target = folder / f"{name}.parquet"
        if not target.exists():
            duckdb.execute(
                f"COPY (SELECT * FROM read_parquet('{source}') ORDER BY hash(customer_id)) "
                f"TO '{target}' (FORMAT parquet, ROW_GROUP_SIZE 65536)"
            )
    con = duckdb.connect()
    con.execute("SET parquet_metadata_cache = true")

    def one(ident: str) -> object:
        con.execute(
            "SELECT * FROM read_parquet(?) WHERE customer_id = ?",
            [str(folder / "assignments.parquet"), ident],
        ).fetchall()
        return con.execute(
            "SELECT strftime(date_trunc('month', day), '%Y-%m'), sum(value) "
            "FROM read_parquet(?) WHERE customer_id = ? GROUP BY 1",
            [str(folder / "lines.parquet"), ident],
        ).fetchall()

    return _time(one, ids[:50])


def _lines_path(run_id: str) -> Path:
    from segwise.service.datasets import open_catalog

    catalog = open_catalog()
    home = Path(os.environ["SEGWISE_HOME"])
    return home / catalog.run(run_id).dataset.path


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _stats(times: list[float]) -> tuple[float, float, float]:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return statistics.median(ordered), p99, ordered[-1]


def _render(
    args: argparse.Namespace,
    run_id: str,
    build: dict[str, float],
    segwise_ms: list[float],
    pandas_ms: list[float],
    pandas_load: float,
    pandas_mib: float,
    shuffled_ms: list[float],
) -> str:
    from segwise import service

    run = service.get_run(run_id)
    s_med, s_p99, s_max = _stats(segwise_ms)
    p_med, p_p99, _ = _stats(pandas_ms)
    d_med, d_p99, _ = _stats(shuffled_ms)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [
        "# Benchmark: customer look-up",
        "",
        f"Machine: {machine}. Date: {datetime.now(UTC):%Y-%m-%d}. Command: "
        f"`benchmarks/bench_lookup.py --customers {args.customers}`.",
        "",
        f"A stored run of {run.summary.get('customers', 0):,} customers "
        f"(dataset {run.dataset}, k = {run.k}); "
        f"{len(segwise_ms)} distinct random customers, one call each, after one warm-up.",
        "",
        "| way | median ms | p99 ms | max ms | vs segwise (median) |",
        "|---|--:|--:|--:|--:|",
        f"| segwise `lookup_customer` (features, percentiles, RFM, history, top products) "
        f"| {s_med:.1f} | {s_p99:.1f} | {s_max:.1f} | 1.0× |",
        f"| DuckDB, same files not sorted by customer | {d_med:.1f} | {d_p99:.1f} | | "
        f"{d_med / s_med:.1f}× |",
        f"| pandas, both frames in memory (load {pandas_load:.1f} s, +{pandas_mib:,.0f} MiB) "
        f"| {p_med:.1f} | {p_p99:.1f} | | {p_med / s_med:.1f}× |",
        "",
        "Why it is fast: assignments and cleaned lines are stored sorted by customer id in "
        "row groups of 65,536 rows, so DuckDB reads only the row groups whose min/max hold the "
        "id; Parquet footers are cached by DuckDB (`parquet_metadata_cache`) and what "
        "describes the run (names, advice, quantiles) is read once.",
    ]
    if build:
        lines += ["", "Building the data: " + ", ".join(f"{k} {v:.0f}" for k, v in build.items())]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
