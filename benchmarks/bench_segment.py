"""Segment benchmark: choosing k and fitting k-means on large tables, beside the usual loops.

Run (a few minutes on 2 cores)::

    .venv/bin/python benchmarks/bench_segment.py                 # all tables, 3 repeats
    .venv/bin/python benchmarks/bench_segment.py --tables rfm_1M --repeat 1
    .venv/bin/python benchmarks/bench_segment.py --child segwise rfm_1M    # one run, JSON

Tables are planted (the true groups are known) and already scaled, as the preprocessing
hands them to ``segment``: ``rfm_1M`` (1M customers, log recency/frequency/monetary in 5
groups of unequal size), ``table_200k`` (200k x 20, 6 groups) and ``rfm_50k`` (the RFM
generator at 50k rows, small enough for the textbook loop).

Contenders, each run as a child process (peak RSS from ``os.wait4``; the time is measured
inside the child around the work, so interpreter start, imports and data generation are
left out; ``data only`` shows the memory those take):

- ``segwise``: ``SegmentClusterer(k="auto").fit(X)``: k = 2..10 on a 100k-row sample
  (silhouette on 10k of them), then the final fit on all rows from the sample's centroids.
- ``full-data loop``: the same criteria and rule, every k-means fit on all rows
  (silhouette on the same 10k sample): the reference the sampled choice must match.
- ``textbook``: ``KMeans(k)`` per k on all rows, ``silhouette_score`` on all rows, k =
  best silhouette. Not run above 50k rows (quadratic: more than 5 minutes at 200k);
  stopped after ``--limit`` seconds otherwise.

Times are the median of ``--repeat`` runs (the textbook loop runs once). Writes
``docs/benchmarks-segment.md`` (``--out`` to change, ``--out -`` for stdout only).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks-segment.md"
TABLES = {"rfm_1M": 1_000_000, "table_200k": 200_000, "rfm_50k": 50_000}
CONTENDERS = ("data", "segwise", "full", "textbook")
LABELS = {
    "data": "data only (imports + table)",
    "segwise": "segwise `SegmentClusterer()`",
    "full": "full-data loop, same rule",
    "textbook": "textbook loop (silhouette on all rows)",
}
TEXTBOOK_MAX_ROWS = 50_000
KSELECT = "<!-- bench_kselect:begin -->"
K_RANGE = range(2, 11)
# share, log recency (days), log frequency (orders), log monetary: champions, loyal, new,
# at risk, lost; 0.35 spread in log units keeps the groups 5+ spreads apart
RFM_GROUPS = [
    (0.10, np.log(6), np.log(25), np.log(3000)),
    (0.20, np.log(20), np.log(8), np.log(700)),
    (0.15, np.log(15), np.log(1.2), np.log(60)),
    (0.15, np.log(150), np.log(6), np.log(500)),
    (0.40, np.log(400), np.log(1.3), np.log(70)),
]


def _scale(X: np.ndarray) -> np.ndarray:
    return np.asarray((X - X.mean(axis=0)) / X.std(axis=0), dtype=np.float64)


def make_table(name: str) -> tuple[np.ndarray, np.ndarray, int]:
    """The planted table: scaled features, true group of each row, number of groups."""
    n = TABLES[name]
    rng = np.random.default_rng(7)
    if name.startswith("rfm"):
        sizes = [int(share * n) for share, *_ in RFM_GROUPS]
        sizes[-1] += n - sum(sizes)
        centres = [group[1:] for group in RFM_GROUPS]
        parts = [rng.normal(c, 0.35, (m, 3)) for m, c in zip(sizes, centres, strict=True)]
        k = len(RFM_GROUPS)
    else:
        k, d = 6, 20
        std = rng.uniform(0.5, 1.5, k)
        points: list[np.ndarray] = []
        while len(points) < k:
            c = rng.uniform(-8, 8, d)
            i = len(points)
            if all(np.linalg.norm(c - o) >= 3 * (std[i] + std[j]) for j, o in enumerate(points)):
                points.append(c)
        weights = rng.uniform(1, 6, k)
        sizes = list((weights / weights.sum() * n).astype(int))
        sizes[-1] += n - sum(sizes)
        parts = [rng.normal(points[i], std[i], (sizes[i], d)) for i in range(k)]
    y = np.repeat(np.arange(k), sizes)
    return _scale(np.vstack(parts)), y, k


def run_child(contender: str, table: str) -> dict[str, Any]:
    """One contender on one table, in this process; returns what the parent reports."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import (
        adjusted_rand_score,
        calinski_harabasz_score,
        davies_bouldin_score,
        silhouette_score,
    )

    from segwise.segment.cluster import SegmentClusterer
    from segwise.segment.kselect import (
        KScore,
        choose_k,
        find_elbow,
        fit_kmeans,
        silhouettes,
        subsample,
    )

    X, y, planted = make_table(table)
    start = time.perf_counter()
    k: int | None = None
    labels = None
    if contender == "segwise":
        model = SegmentClusterer(k="auto", seed=0).fit(X)
        k, labels = model.n_clusters_, model.labels_
    elif contender == "full":
        models = {j: fit_kmeans(X, j, seed=0, n_init=3) for j in K_RANGE}
        sil_rows = subsample(len(X), 10_000, 1)
        sils = silhouettes(X[sil_rows], [m.labels_[sil_rows] for m in models.values()])
        scores = [
            KScore(
                j,
                float(m.inertia_),
                s,
                float(calinski_harabasz_score(X, m.labels_)),
                float(davies_bouldin_score(X, m.labels_)),
            )
            for (j, m), s in zip(models.items(), sils, strict=True)
        ]
        elbow = find_elbow([s.k for s in scores], [s.inertia for s in scores])
        k, _ = choose_k(scores, elbow)
        labels = models[k].labels_
    elif contender == "textbook":
        best = (-2.0, 0, None)
        for j in K_RANGE:
            m = KMeans(n_clusters=j, random_state=0).fit(X)
            s = silhouette_score(X, m.labels_)
            calinski_harabasz_score(X, m.labels_)
            davies_bouldin_score(X, m.labels_)
            if s > best[0]:
                best = (s, j, m.labels_)
        k, labels = best[1], best[2]
    seconds = time.perf_counter() - start
    ari = None if labels is None else float(adjusted_rand_score(y, labels))
    return {"seconds": seconds, "k": k, "planted": planted, "ari": ari}


def spawn(contender: str, table: str, limit: float) -> dict[str, Any]:
    """Run one child; add its peak RSS (MiB), or mark it stopped at the time limit."""
    cmd = [sys.executable, __file__, "--child", contender, table]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    timer = threading.Timer(limit, proc.kill)
    timer.start()
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    timer.cancel()
    if proc.returncode != 0:
        return {"failed": f"exit {proc.returncode}" if proc.returncode > 0 else "time limit"}
    result: dict[str, Any] = json.loads(out)
    result["rss_mib"] = usage.ru_maxrss / 1024
    return result


def measure(contender: str, table: str, repeat: int, limit: float) -> dict[str, Any]:
    if contender == "textbook" and TABLES[table] > TEXTBOOK_MAX_ROWS:
        return {"skipped": "> 5 min (not run: silhouette on all rows is quadratic)"}
    runs = [spawn(contender, table, limit) for _ in range(1 if contender == "textbook" else repeat)]
    done = [r for r in runs if "failed" not in r]
    if not done:
        reason = runs[0]["failed"]
        return {"skipped": f"> {limit:.0f} s (stopped)" if reason == "time limit" else reason}
    result = dict(done[0])
    result["seconds"] = statistics.median(r["seconds"] for r in done)
    result["rss_mib"] = max(r["rss_mib"] for r in done)
    return result


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores (`nproc`), {cpu}, Python {platform.python_version()}"


def render(rows: list[tuple[str, str, dict[str, Any]]], repeat: int, load: float) -> str:
    import sklearn

    lines = [
        "# Segment benchmark: choosing k and fitting k-means",
        "",
        f"Machine: {machine()}, scikit-learn {sklearn.__version__}, numpy {np.__version__}; "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; 1-minute load from other processes at "
        f"start {load:.1f}. Regenerate with `.venv/bin/python benchmarks/bench_segment.py`.",
        "",
        "Every contender tries k = 2..10 with inertia, silhouette, Calinski-Harabasz and "
        "Davies-Bouldin, then ends with a model fitted on all rows. Time: in-process, the "
        f"k choice plus the final fit, median of {repeat} runs (textbook: 1). Peak memory: "
        "whole child process (interpreter, libraries and the table included; compare with "
        "*data only*). ARI: adjusted Rand of the final labels against the planted groups.",
        "",
        "| table | contender | k chosen (planted) | ARI | time (s) | peak memory (MiB) |",
        "|---|---|---|--:|--:|--:|",
    ]
    for table, contender, r in rows:
        name = LABELS[contender]
        if "skipped" in r:
            lines.append(f"| {table} | {name} | – | – | {r['skipped']} | – |")
            continue
        if contender == "data":
            lines.append(f"| {table} | {name} | – | – | – | {r['rss_mib']:.0f} |")
            continue
        mark = "yes" if r["k"] == r["planted"] else "**no**"
        lines.append(
            f"| {table} | {name} | {r['k']} ({r['planted']}, {mark}) | {r['ari']:.3f} "
            f"| {r['seconds']:.2f} | {r['rss_mib']:.0f} |"
        )
    lines += [
        "",
        "How segwise gets there: each k is fitted (k-means++, 3 starts) on one seeded sample "
        "of at most 100k rows; the silhouette of every k comes from a single pass over the "
        "pairwise distances of 10k of those rows (one distance matrix chunk at a time, "
        "multiplied by the stacked one-hot labels of all ks); CH and DB use the 100k rows; "
        "then one Lloyd run on all rows starts from the chosen k's sample centroids and "
        "converges in a few iterations. Below 100k rows it is the full-data loop. The "
        "textbook loop is dominated by `silhouette_score` on all rows (quadratic time, "
        "and its distance chunks set its peak memory).",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=list(TABLES), choices=list(TABLES))
    parser.add_argument("--contenders", nargs="+", default=list(CONTENDERS), choices=CONTENDERS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limit", type=float, default=300.0, help="seconds per child run")
    parser.add_argument("--out", default=str(DOC), help="markdown file, or - for stdout only")
    parser.add_argument("--child", nargs=2, metavar=("CONTENDER", "TABLE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(*args.child)))
        return 0
    load = os.getloadavg()[0]
    rows = []
    for table in args.tables:
        for contender in args.contenders:
            print(f"{table} {contender} ...", file=sys.stderr, flush=True)
            rows.append((table, contender, measure(contender, table, args.repeat, args.limit)))
    text = render(rows, args.repeat, load)
    print(text)
    if args.out != "-":
        doc = Path(args.out)
        kept = doc.read_text() if doc.exists() else ""
        if KSELECT in kept:  # the k-rule comparison (bench_kselect.py) has its own section
            text += "\n" + KSELECT + kept.split(KSELECT, 1)[1]
        doc.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
