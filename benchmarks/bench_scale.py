"""Scale benchmark: 1M / 10M / 100M-line Parquet logs on one machine, each tool in its own process.

Run (needs ``pip install -e '.[bench]'`` and, for the Spark row, ``.[spark]`` and Java 17)::

    .venv/bin/python benchmarks/bench_scale.py                      # 1M, 10M and 100M lines
    .venv/bin/python benchmarks/bench_scale.py --sizes 100M --contenders segwise_rfm segment

``make bench`` runs this and the other ``benchmarks/bench_*.py`` through ``benchmarks/run.py``.

Logs are made by ``segwise.demo.generate_log`` in chunks of 100,000 customers (each chunk its
own seed and id range, about 3.1M lines), appended to one Parquet file, so 100M lines never sit
in memory at once; they are cached in ``benchmarks/data/`` (git-ignored; 100M lines ~0.9 GB).

Contenders, each a child process in its own session (killed with its children at the limit):

- ``segwise_rfm``: ``segwise rfm LOG --out OUT.parquet --json`` (DuckDB engine);
- ``segment``: ``service.segment`` (RFM, choice of k, k-means, stability, projection, profiles,
  names) and the assignments written with ``io.writers.write_frame``: what ``segwise segment
  --out`` computes, without the catalog;
- ``segment_cli``: the whole command, as a user runs it: the log is ingested into a fresh
  catalog (its cleaned lines stored as Parquet), segmented, the model file and run files stored;
- ``spark``: ``service.compute_rfm(LOG, engine="spark")`` then its table written (local[*],
  driver heap ``--spark-driver-memory``, 3g: Spark's default 1g runs out at 100M lines);
- ``textbook``: pandas ``read_parquet`` + ``groupby`` (``bench_rfm.textbook``), with an
  address-space cap (``RLIMIT_AS``, 12 GiB or half the RAM) so it fails with MemoryError
  rather than take the machine down.

The segwise rows run with ``SEGWISE_MEMORY_LIMIT`` (default 3GB). Time is the whole process;
peak memory is the largest sum of RSS over the process and its descendants (the JVM for
Spark), polled from ``/proc`` every 50 ms, or ``ru_maxrss`` if larger. Best of ``--repeat``
runs up to 10M lines, one run above. Results are kept in ``benchmarks/data/scale_results.json``
and replace the ``bench_scale`` section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_rfm import (  # this folder is sys.path[0]
    busy_seconds,
    machine,
    replace_section,
    wait_idle,
)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data"
DOC = ROOT / "docs" / "benchmarks.md"
RESULTS = DATA / "scale_results.json"
SIZES = {"1M": 1_000_000, "10M": 10_000_000, "100M": 100_000_000}
LINES_PER_CUSTOMER = 30.9  # what generate_log gives on average
CHUNK_CUSTOMERS = 100_000
BEGIN, END = "<!-- bench_scale:begin -->", "<!-- bench_scale:end -->"
CONTENDERS = {
    "segwise_rfm": "segwise rfm (DuckDB)",
    "segment": "segwise RFM + segmentation + assignments (DuckDB, scikit-learn)",
    "segment_cli": (
        "`segwise segment LOG --out OUT.parquet --json` (+ ingest into the catalog, files, model)"
    ),
    "spark": 'segwise rfm, `engine="spark"` (Spark local[*])',
    "textbook": "textbook pandas (`read_parquet`, `groupby`, `apply`)",
}
TARGET_GIB = 4.0


# ---------------------------------------------------------------- data (run in a child)
def generate(size: str) -> dict[str, int]:
    """Write ``scale_<size>.parquet`` chunk by chunk (never the whole log in memory)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from segwise.demo import generate_log

    DATA.mkdir(parents=True, exist_ok=True)
    target = DATA / f"scale_{size}.parquet"
    tmp = target.with_suffix(".parquet.tmp")
    customers = round(SIZES[size] / LINES_PER_CUSTOMER)
    lines = 0
    writer: pq.ParquetWriter | None = None
    try:
        for chunk, start in enumerate(range(0, customers, CHUNK_CUSTOMERS)):
            n = min(CHUNK_CUSTOMERS, customers - start)
            table = generate_log(n, seed=2024 + chunk).lines
            # generate_log draws ids from 12,000 + [0, 10n): shift each chunk to its own range
            shifted = pc.add(table["CustomerID"], float(10 * CHUNK_CUSTOMERS * chunk))
            table = table.set_column(
                table.schema.get_field_index("CustomerID"), "CustomerID", shifted
            )
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table, row_group_size=1 << 20)
            lines += table.num_rows
            print(f"  {size}: {lines:,} lines", file=sys.stderr, flush=True)
            del table, shifted
    finally:
        if writer is not None:
            writer.close()
    tmp.replace(target)
    return {"lines": lines}


def log_file(size: str) -> Path:
    """The cached log of about ``SIZES[size]`` lines (generated once, in a child process)."""
    path = DATA / f"scale_{size}.parquet"
    if not path.exists():
        print(f"generating {size} lines ...", file=sys.stderr, flush=True)
        done = subprocess.run([sys.executable, __file__, "--generate", size], check=False)
        if done.returncode:
            raise RuntimeError(f"generating {size} lines failed")
    return path


# ---------------------------------------------------------------- contenders (run in a child)
def segment(path: str, out: str) -> dict[str, Any]:
    """RFM, segmentation and the assignments file, as ``segwise segment --out`` computes them."""
    from segwise import service
    from segwise.io.writers import write_frame

    seg = service.segment(path, service.SegmentOptions(kind="transactions"))
    write_frame(seg.assignments(), out)
    return {"customers": len(seg.labels), "k": seg.k}


def spark(path: str, out: str) -> dict[str, Any]:
    """The Spark engine's RFM, its table written like ``segwise rfm --out``."""
    from segwise import service

    result = service.compute_rfm(path, engine="spark")
    result.write(out)
    return {"customers": result.customers}


def textbook(path: str, out: str) -> dict[str, Any]:
    """The usual pandas way (``rfm_contenders.textbook``): the whole log in one DataFrame."""
    from rfm_contenders import textbook as pandas_rfm

    return {"customers": int(pandas_rfm(path)["customers"])}


# ---------------------------------------------------------------- measuring
def tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants, in KiB (0 once it is gone)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(
                next(ln.split()[1] for ln in status.splitlines() if ln.startswith("VmRSS"))
            )
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration, ValueError):
            continue
    return total


def run_once(name: str, path: Path, tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One whole-process run: seconds, CPU, peak RSS of the process tree (KiB), others' load."""
    out = tmp / f"{name}.parquet"
    out.unlink(missing_ok=True)
    home = tmp / "home"  # a fresh catalog for every run: nothing is found ingested already
    shutil.rmtree(home, ignore_errors=True)
    env = dict(os.environ, SEGWISE_MEMORY_LIMIT=args.memory_limit, SEGWISE_HOME=str(home))
    env["PYSPARK_SUBMIT_ARGS"] = f"--driver-memory {args.spark_driver_memory} pyspark-shell"
    argv = [sys.executable, __file__, "--contender", name, "--file", str(path), "--out", str(out)]
    if name in ("segwise_rfm", "segment_cli"):
        command = "rfm" if name == "segwise_rfm" else "segment"
        argv = [str(Path(sys.executable).parent / "segwise"), command, str(path)]
        argv += ["--out", str(out), "--json"]
    cap = int(args.pandas_cap_gib * 2**30)

    def limit() -> None:  # in the child, before exec: MemoryError instead of the OOM killer
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    peak, stop = [0], threading.Event()
    with (tmp / "out").open("w+") as stdout, (tmp / "err").open("w+") as stderr:
        start, busy = time.perf_counter(), busy_seconds()
        proc = subprocess.Popen(
            argv,
            stdout=stdout,
            stderr=stderr,
            cwd=ROOT,
            env=env,
            start_new_session=True,
            preexec_fn=limit if name == "textbook" else None,
        )

        def poll() -> None:
            while not stop.wait(0.05):
                peak[0] = max(peak[0], tree_rss_kib(proc.pid))

        def kill() -> None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        watcher = threading.Thread(target=poll, daemon=True)
        watcher.start()
        timer = threading.Timer(args.limit_min * 60, kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds, busy = time.perf_counter() - start, busy_seconds() - busy
        timer.cancel()
        stop.set()
        watcher.join()
        with contextlib.suppress(ProcessLookupError):  # a JVM or other child left behind
            os.killpg(proc.pid, signal.SIGKILL)
        code = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        text, err = stdout.read(), stderr.read()
    cpu = usage.ru_utime + usage.ru_stime
    run = {"seconds": seconds, "cpu": cpu, "rss_kib": max(peak[0], usage.ru_maxrss)}
    run["others"] = max(0.0, busy - cpu) / seconds
    if seconds >= args.limit_min * 60:
        return run | {"error": f"timeout (> {args.limit_min:g} min)"}
    if code != 0:
        errors = [ln.strip() for ln in err.splitlines() if "Error" in ln or "error:" in ln]
        last = (errors or err.strip().splitlines() or ["?"])[-1][:200]
        if "java.lang.OutOfMemoryError" in err:
            heap = args.spark_driver_memory
            return run | {"error": f"JVM out of memory (driver heap {heap})", "detail": last}
        if name == "textbook" and ("MemoryError" in err or "Cannot allocate" in err):
            return run | {"error": f"OOM (> {args.pandas_cap_gib:g} GiB cap)", "detail": last}
        missing = ("needs PySpark", "needs Java", "cannot start Spark", "No module named 'pyspark'")
        if name == "spark" and any(m in err for m in missing):
            return run | {"error": "not available", "detail": last}
        return run | {"error": "failed", "detail": last}
    shutil.rmtree(home, ignore_errors=True)
    if name in ("segwise_rfm", "segment_cli"):  # the command's JSON summary
        return run | {"result": {"customers": json.loads(text)["customers"]}}
    result = json.loads(text.strip().splitlines()[-1])
    return run | {"result": result}


def bench(size: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run the contenders on one size, round robin; keep the fastest run of each."""
    path = log_file(size)
    with path.open("rb") as fh:  # warm the page cache
        while fh.read(1 << 24):
            pass
    repeat = args.repeat if SIZES[size] <= 10_000_000 else 1
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in args.contenders}
    with tempfile.TemporaryDirectory(prefix="bench_scale.") as tmp:
        for i in range(repeat):
            for name, got in runs.items():
                if got and "error" in got[-1]:
                    continue  # failed once (OOM, timeout, not available): do not retry
                wait_idle(args.max_wait)
                got.append(run_once(name, path, Path(tmp), args))
                r = got[-1]
                shown = r.get("error") or f"{r['seconds']:.2f} s"
                mib = r["rss_kib"] / 1024
                print(
                    f"{size} {name} #{i + 1}: {shown}, {mib:,.0f} MiB", file=sys.stderr, flush=True
                )
    best = {}
    for name, got in runs.items():
        ok = sorted((r for r in got if "error" not in r), key=lambda r: r["seconds"]) or got
        best[name] = ok[0] | {"runs": len(got)}
    import pyarrow.parquet as pq

    lines = pq.ParquetFile(path).metadata.num_rows
    date = datetime.now(UTC).strftime("%Y-%m-%d")
    return {"lines": lines, "date": date, "memory_limit": args.memory_limit, "runs": best}


# ---------------------------------------------------------------- report
def _cell(run: dict[str, Any] | None) -> tuple[str, str]:
    if run is None:
        return "", ""
    mib = f"{run['rss_kib'] / 1024:,.0f}"
    if "error" in run:
        if run["error"] == "not available":
            return "not available", ""
        return f"{run['error']} after {run['seconds']:.0f} s", mib
    return f"{run['seconds']:.2f}", mib


def _ratio(run: dict[str, Any] | None, ref: dict[str, Any] | None, key: str) -> str:
    if not run or not ref or "error" in run or "error" in ref:
        return ""
    return f"{run[key] / ref[key]:.2f}"


def tables(results: dict[str, Any]) -> list[str]:
    """Time and peak memory per tool and size, then the same as multiples of segwise rfm."""
    sizes = [s for s in SIZES if s in results]
    head = "| tool | " + " | ".join(f"{s} time (s) | {s} peak (MiB)" for s in sizes) + " |"
    rows = [head, "|---|" + "--:|--:|" * len(sizes)]
    ratio_head = "| tool | " + " | ".join(f"{s} × time | {s} × memory" for s in sizes) + " |"
    ratios = [ratio_head, "|---|" + "--:|--:|" * len(sizes)]
    for name, label in CONTENDERS.items():
        runs = [results[s]["runs"].get(name) for s in sizes]
        if not any(runs):
            continue
        rows.append(f"| {label} | " + " | ".join(" | ".join(_cell(r)) for r in runs) + " |")
        cells = []
        for size, r in zip(sizes, runs, strict=True):
            ref = results[size]["runs"].get("segwise_rfm")
            cells += [_ratio(r, ref, "seconds"), _ratio(r, ref, "rss_kib")]
        ratios.append(f"| {label} | " + " | ".join(cells) + " |")
    lines = [f"{s}: {results[s]['lines']:,} lines, measured {results[s]['date']}" for s in sizes]
    out = ["; ".join(lines) + ".", "", *rows, "", "As multiples of `segwise rfm`:", "", *ratios, ""]
    for name in ("segment", "segment_cli"):
        big = results.get("100M", {}).get("runs", {}).get(name)
        if not big:
            continue
        gib = big["rss_kib"] / 2**20
        verdict = "**met**" if "error" not in big and gib < TARGET_GIB else "**missed**"
        shown = big.get("error") or f"{big['seconds'] / 60:.1f} min"
        what = "the library calls" if name == "segment" else "the whole `segwise segment` command"
        out.append(
            f"- RFM + segmentation of 100M lines under {TARGET_GIB:g} GiB peak on 2 cores, "
            f"{what}: {verdict} ({gib:.2f} GiB, {shown})"
        )
    return out


NOTES = """\
Generated by `benchmarks/bench_scale.py` (how to run and what is measured: its docstring).
Logs from `segwise.demo.generate_log`, written in chunks of 100,000 customers (~3.1M lines):
Online-Retail-style lines with cancellations, guests and adjustments, ~31 lines per customer,
so 100M lines are ~3.2M customers. Time is the whole process (start, imports, reading,
computing, writing the per-customer file); peak memory is the peak of the summed RSS of the
process and its children (the JVM for Spark). segwise runs with `SEGWISE_MEMORY_LIMIT` as
given below (DuckDB's cap; DuckDB spills to its own temp folder past it); Spark runs local[*]
with a 3g driver heap (`--driver-memory`; with its default 1g it ran out of heap after ~4 min
at 100M lines). The textbook pandas
run has an address-space cap (`RLIMIT_AS`) so that it fails with MemoryError instead of
taking the machine down. Best of 3 runs at 1M and 10M lines, one run at 100M; warm page
cache; the machine is shared (another helper's Spark tests ran at times), so times carry noise.
"""

CLUSTER = """\
**When to move to a cluster.** On one machine the DuckDB engine streams the Parquet file and
keeps only per-customer state (spilling to disk past `SEGWISE_MEMORY_LIMIT`), so its memory
is bounded by the cap and the number of customers, not lines, and its time grows about
linearly with lines: {rate}. One 2-core machine is enough for logs of a few hundred million
lines and a few million customers, re-run daily. Spark on the same machine pays for a JVM, a
shuffle and task scheduling: here it is slower and needs more memory. It pays off when the
work is spread over many machines: when the log no longer fits one machine's disk; when it
already lives in a Spark/Hive/Delta lake (moving it out costs more than computing there);
when tens of millions of customers make the per-customer tables themselves large; or when a
run must finish in a window one machine's cores cannot meet (at the rate above, the RFM of
~1B lines takes ~{billion} on 2 cores). The same RFM SQL text runs on both engines
(`--engine spark`, docs/spark.md), so moving is a flag, not a rewrite.
"""


def write_doc(results: dict[str, Any], memory_limit: str) -> None:
    """Replace the bench_scale section of docs/benchmarks.md (or append it)."""
    rate, billion = "see the table", "?"
    big = results.get("100M", {}).get("runs", {}).get("segwise_rfm")
    if big and "error" not in big:
        per10 = big["seconds"] / (results["100M"]["lines"] / 1e7)
        rate = f"~{per10:.1f} s per 10M lines for `segwise rfm` at 100M lines"
        billion = f"{per10 * 100 / 60:.0f} min"
    body = [BEGIN, "## Scale: 1M to 100M lines on one machine", "", NOTES, machine()]
    body += [f"`SEGWISE_MEMORY_LIMIT={memory_limit}` for the segwise rows.", ""]
    body += [*tables(results), "", CLUSTER.format(rate=rate, billion=billion).strip(), END]
    section = "\n".join(body)
    replace_section(DOC, BEGIN, END, section)


def main() -> None:
    parser = argparse.ArgumentParser(description="Scale benchmark, see the module docstring.")
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--contenders", nargs="+", default=list(CONTENDERS), choices=CONTENDERS)
    parser.add_argument("--repeat", type=int, default=3, help="runs up to 10M lines (1 above)")
    parser.add_argument("--memory-limit", default="3GB", help="SEGWISE_MEMORY_LIMIT for segwise")
    parser.add_argument("--spark-driver-memory", default="3g", help="JVM heap of local Spark")
    ram_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cap = min(12.0, round(ram_gib / 2))
    parser.add_argument("--pandas-cap-gib", type=float, default=cap, help="RLIMIT_AS of pandas")
    parser.add_argument("--limit-min", type=float, default=30.0, help="time limit of one run")
    parser.add_argument("--max-wait", type=float, default=120, help="s to wait for an idle CPU")
    parser.add_argument("--contender", choices=["segment", "spark", "textbook"])
    parser.add_argument("--file", help="with --contender: run it once on this file")
    parser.add_argument("--out", help="with --contender: the per-customer file to write")
    parser.add_argument("--generate", choices=list(SIZES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.contender:
        job = {"segment": segment, "spark": spark, "textbook": textbook}[args.contender]
        print(json.dumps(job(args.file, args.out)))
        return
    if args.generate:
        print(json.dumps(generate(args.generate)))
        return
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for size in args.sizes:
        got = bench(size, args)
        results[size] = got | {"runs": results.get(size, {}).get("runs", {}) | got["runs"]}
        RESULTS.write_text(json.dumps(results, indent=1))
        print("\n".join(tables({size: results[size]})) + "\n", flush=True)
    write_doc(results, args.memory_limit)
    print(f"wrote {DOC}", file=sys.stderr)


if __name__ == "__main__":
    main()
