"""RFM benchmark: ``segwise rfm`` beside the usual ways to compute RFM, each in its own process.

Run (needs ``pip install -e '.[bench]'``; all of it takes ~25 min on 2 cores, mostly pandas)::

    .venv/bin/python benchmarks/bench_rfm.py                  # 1M and 10M lines, CSV and Parquet
    .venv/bin/python benchmarks/bench_rfm.py --sizes 1M --formats parquet --repeat 5
    .venv/bin/python benchmarks/bench_rfm.py --sizes 10M --repeat 3 --best   # a busy machine
    .venv/bin/python benchmarks/bench_rfm.py --contender polars --file benchmarks/data/rfm_1M.csv
    # few lines per customer (CDNOW-scaled), on a loaded machine: no idle wait, a subset
    .venv/bin/python benchmarks/bench_rfm.py --shapes cdnow --sizes 10M --repeat 3 --max-wait 0 \
        --contenders segwise polars_rfm duckdb polars

``make bench`` runs this and the other ``benchmarks/bench_*.py`` through ``benchmarks/run.py``.

Two shapes of log, cached in ``benchmarks/data/`` (git-ignored): *retail* from
``segwise.demo.generate_log`` (~31 lines per customer, invoices and cancellations) and *cdnow*
from ``benchmarks/logs.py`` (CDNOW histories bootstrapped, ~3 lines per customer: 10M lines
are 3.4M customers; columns customer_id, date, number_of_cds, dollar_value).
Every contender (``rfm_contenders.py``) runs as a child process, timed whole-process
(interpreter start, imports, reading, computing) with its peak RSS from ``os.wait4``
(ru_maxrss). Median of ``--repeat`` runs (``--best``: the fastest; a contender slower than
``--slow`` seconds, a minute by default, runs once), by default 3 at 1M lines and one above;
files are read warm (page cache). The tables replace the ``bench_rfm`` section of
``docs/benchmarks.md``; results of other sizes from earlier runs are kept in
``benchmarks/data/rfm_results.json``, and tables of the page that this run did not measure stay.
Each table gives the 1-minute load average before and after, and the median over rounds of
segwise's time divided by the Polars lazy RFM query's in the same round (paired runs).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import rfm_contenders  # beside this file
from rfm_contenders import _cdnow, _sums

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data"
DOC = ROOT / "docs" / "benchmarks.md"
RESULTS = DATA / "rfm_results.json"
SIZES = {"1M": 1_000_000, "10M": 10_000_000}
LINES_PER_CUSTOMER = 30.9  # what generate_log gives on average
LIMIT_S = 20 * 60
BEGIN, END = "<!-- bench_rfm:begin -->", "<!-- bench_rfm:end -->"
SHAPES = ("retail", "cdnow")
LIBS = ("segwise", "duckdb", "polars", "pandas", "pyarrow", "numpy", "lifetimes", "pymc-marketing")
CONTENDERS = {
    "segwise": "`segwise rfm F --out OUT.parquet --json`",
    "textbook": "textbook pandas: `groupby().agg`, `Series.apply`, `DataFrame.apply(axis=1)`",
    "tutorial": "same, per-customer `groupby().apply(fn)` instead of `agg`",
    "lifetimes": "lifetimes `summary_data_from_transaction_data`",
    "pymc": "pymc-marketing `rfm_summary`",
    "duckdb": "bare DuckDB aggregate (floor)",
    "polars": "bare Polars aggregate (floor)",
    "polars_rfm": "Polars lazy: R, F, M, scores 1..5, segments, written to Parquet",
    "polars_exact": "the same, ids read as text, amounts as exact decimals (segwise's contract)",
}
NOT_FOR = {"cdnow": ("tutorial",)}  # per-customer apply over 339k+ customers: many minutes
BARE = ("duckdb", "polars")
PAIRED = "polars_rfm"  # segwise's time is divided by this one's, round by round
HEADER = (
    "| contender | time (s) | CPU (s) | peak memory (MiB) | × segwise | × faster bare query "
    "| customers | same R/F/M as segwise | others' load (cores) |\n|---|" + "--:|" * 6 + "---|--:|"
)
SAME_RFM = (
    "textbook",
    "tutorial",
    "polars_rfm",
    "polars_exact",
)  # R, F and M by the DESIGN.md definitions, like segwise


# ---------------------------------------------------------------- the parent: data, runs, report
def generate(size: str, shape: str = "retail") -> dict[str, float]:
    """Write the CSV and Parquet logs of about ``SIZES[size]`` lines (run in a child)."""
    from segwise.demo import generate_log, write_log

    DATA.mkdir(parents=True, exist_ok=True)
    if shape == "cdnow":
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from logs import write_cdnow_scaled

        for fmt in ("csv", "parquet"):
            write_cdnow_scaled(SIZES[size], DATA / f"cdnow_{size}.{fmt}", seed=2024)
        return {"lines": SIZES[size]}
    log = generate_log(round(SIZES[size] / LINES_PER_CUSTOMER), seed=2024)
    write_log(log.lines, DATA / f"rfm_{size}.parquet")
    write_log(log.lines, DATA / f"rfm_{size}.csv", style="us")
    return {"lines": log.lines.num_rows}


def sums(path: str) -> dict[str, float]:
    """The fingerprint of segwise's output file (run in a child, after the timed run)."""
    import pyarrow.parquet as pq

    t = pq.read_table(path, columns=["recency", "frequency", "monetary"])
    return _sums(t.num_rows, *(t[c].to_numpy().sum() for c in t.column_names))


def child(*args: str) -> Any:
    """Run this file with ``args`` in a child process and return what it prints (JSON).

    Work that needs memory never runs in the parent: on Linux a child's ru_maxrss starts at
    the peak RSS of the process that spawned it, so a big parent would inflate every peak.
    """
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr.strip().splitlines()[-1])
    return json.loads(done.stdout.strip().splitlines()[-1])


def log_files(size: str, shape: str = "retail") -> dict[str, Path]:
    """The cached CSV and Parquet logs of about ``SIZES[size]`` lines (generated once)."""
    stem = "cdnow" if shape == "cdnow" else "rfm"
    files = {fmt: DATA / f"{stem}_{size}.{fmt}" for fmt in ("csv", "parquet")}
    if not all(f.exists() for f in files.values()):
        print(f"generating {size} {shape} lines ...", file=sys.stderr, flush=True)
        child("--generate", size, "--shape", shape)
    return files


def warm(path: Path) -> None:
    """Read the file once so that every contender finds it in the page cache."""
    with path.open("rb") as fh:
        while fh.read(1 << 24):
            pass


def busy_seconds() -> float:
    """CPU seconds spent by the whole machine so far (all cores, /proc/stat)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def wait_idle(max_wait: float) -> None:
    """On a shared machine, wait (at most ``max_wait`` s) until others use < 0.2 cores."""
    deadline = time.monotonic() + max_wait
    while time.monotonic() < deadline:
        before = busy_seconds()
        time.sleep(2)
        if busy_seconds() - before < 0.4:
            return


def run_once(name: str, path: Path, tmp: Path) -> dict[str, Any]:
    """One whole-process run of a contender: seconds, CPU, peak RSS (KiB), others' load."""
    out = tmp / "segwise.parquet"
    argv = [sys.executable, __file__, "--contender", name, "--file", str(path)]
    if name == "segwise":
        argv = [str(Path(sys.executable).parent / "segwise"), "rfm", str(path), "--out", str(out)]
        argv.append("--json")
    with (tmp / "out").open("w+") as stdout, (tmp / "err").open("w+") as stderr:
        start, busy = time.perf_counter(), busy_seconds()
        proc = subprocess.Popen(argv, stdout=stdout, stderr=stderr, cwd=ROOT)
        timer = threading.Timer(LIMIT_S, proc.kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds, busy = time.perf_counter() - start, busy_seconds() - busy
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        text, err = stdout.read(), stderr.read()
    cpu = usage.ru_utime + usage.ru_stime
    run = {"seconds": seconds, "cpu": cpu, "rss_kib": usage.ru_maxrss}
    run["others"] = max(0.0, busy - cpu) / seconds  # cores busy with other work meanwhile
    if seconds >= LIMIT_S:
        return run | {"error": f"> {LIMIT_S // 60} min (limit)"}
    if proc.returncode != 0:
        return run | {"error": "failed: " + (err.strip().splitlines() or ["?"])[-1][:150]}
    if name == "segwise":
        lines = json.loads(text)["input"]["rows"]
        return run | {"result": child("--sums", str(out)), "lines": lines}
    return run | {"result": json.loads(text.strip().splitlines()[-1])}


def bench(
    path: Path,
    repeat: int,
    max_wait: float,
    best: bool = False,
    names: list[str] | None = None,
    once: tuple[str, ...] = (),
    slow: float = 60,
) -> dict[str, Any]:
    """Run the contenders ``repeat`` times, round robin; keep the median (or fastest) run."""
    commit = _commit()
    warm(path)
    shape = "cdnow" if _cdnow(str(path)) else "retail"
    chosen = [n for n in names or CONTENDERS if n not in NOT_FOR.get(shape, ())]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in chosen}
    if "pymc" in runs and _version("pymc-marketing") == "not installed":
        runs["pymc"] = [{"error": "not installed", "seconds": 0, "cpu": 0, "rss_kib": 0}]
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="bench_rfm.") as tmp:
        for i in range(repeat):
            for name, got in runs.items():
                if got and ("error" in got[-1] or got[-1]["seconds"] > slow or name in once):
                    continue  # failed, hit the limit, slow or asked once: once is enough
                wait_idle(max_wait)
                got.append(run_once(name, path, Path(tmp)))
                shown = got[-1].get("error") or f"{got[-1]['seconds']:.2f} s"
                print(f"{path.name} {name} #{i + 1}: {shown}", file=sys.stderr, flush=True)
    load.append(os.getloadavg()[0])
    median = {}
    for name, got in runs.items():
        ok = sorted((r for r in got if "error" not in r), key=lambda r: r["seconds"]) or got
        median[name] = ok[0 if best else (len(ok) - 1) // 2] | {"runs": len(got)}
    lines = median["segwise"].get("lines", 0)
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    middle = "median" if repeat % 2 else "lower middle"  # of 2 runs: the faster
    pick = f"{'best' if best else middle} of {repeat}" if repeat > 1 else "one run"
    res = {"lines": lines, "date": date, "commit": commit, "runs": median, "pick": pick}
    res["load"] = load
    pairs = zip(runs.get("segwise", []), runs.get(PAIRED, []), strict=False)
    ratios = [
        {k: a[k] / b[k] for k in ("seconds", "cpu", "rss_kib")}
        for a, b in pairs
        if "error" not in a and "error" not in b
    ]
    if ratios:
        res["paired"] = {k: _median([r[k] for r in ratios]) for k in ratios[0]}
        res["paired"] |= {"pairs": len(ratios), "wall": [r["seconds"] for r in ratios]}
    return res


def table(key: str, res: dict[str, Any]) -> str:
    """The markdown table of one (size, shape, format) with the target verdicts."""
    runs = res["runs"]
    ok = {n: r for n, r in runs.items() if "error" not in r}
    seg = ok["segwise"]["seconds"] if "segwise" in ok else None
    floor = min((ok[n]["seconds"] for n in BARE if n in ok), default=None)
    ref = ok.get("segwise", {}).get("result", {})
    when = f"{res['date']}, segwise at commit {res.get('commit', '?')}"
    when += f"; {res['pick']}" if "pick" in res else ""
    rows = [f"### {key} ({res['lines']:,} lines; {when})", ""]
    if "load" in res:
        before, after = res["load"]
        rows += [f"1-minute load average (2 cores): {before:.1f} before, {after:.1f} after.", ""]
    rows.append(HEADER)
    for name, label in CONTENDERS.items():
        if name not in runs:
            continue
        r, same = runs[name], "own definitions"
        got = r.get("result", {})
        if name in SAME_RFM or name in BARE:
            same = "yes" if all(_close(v, ref.get(k)) for k, v in got.items()) else "**no**"
            same += " (F, M; R is a date)" if name in BARE else ""
        if r.get("error") == "not installed":
            rows.append(f"| {label} | not installed |" + " |" * 7)
            continue
        cells = [r.get("error") or f"{r['seconds']:.2f}", f"{r['cpu']:.2f}"]
        cells += [f"{r['rss_kib'] / 1024:,.0f}", _ratio(r["seconds"], seg)]
        cells += [_ratio(r["seconds"], floor), f"{got.get('customers', 0):,}"]
        cells += ["" if name == "segwise" else same, f"{r.get('others', 0):.1f}"]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    if seg:
        mem = runs["segwise"]["rss_kib"] / 1024
        if "paired" in res and PAIRED in ok:
            p, other = res["paired"], ok[PAIRED]
            cpu = runs["segwise"]["cpu"] / other["cpu"]
            rss = runs["segwise"]["rss_kib"] / other["rss_kib"]
            each = ", ".join(f"{r:.2f}" for r in p.get("wall", []))
            rows += [
                "",
                f"- segwise / Polars lazy RFM: **{p['seconds']:.2f}×** wall (median of "
                f"{p['pairs']} paired rounds: {each}), {cpu:.2f}× CPU and {rss:.2f}× peak memory "
                f"(the runs above); within 1.3×: {_met(p['seconds'] <= 1.3)}; memory within 2×: "
                f"{_met(rss <= 2)}",
            ]
        else:
            within = _met(floor and seg <= 1.5 * floor)
            rows += [
                "",
                f"- within 1.5× of the faster bare query: {within} ({_ratio(seg, floor)}×)",
            ]
        for name in ("textbook", "tutorial"):
            if name not in runs or ("error" in runs[name] and not runs[name]["seconds"]):
                continue
            faster = runs[name]["seconds"] / seg
            bound = "at least " if "error" in runs[name] else ""
            verdict = f"{_met(faster >= 30)} ({bound}{faster:.1f}×)"
            rows.append(f"- ≥ 30× faster than {name} pandas: {verdict}")
        rows.append(f"- peak memory under 2 GiB: {_met(mem < 2048)} ({mem:,.0f} MiB)")
    return "\n".join(rows)


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _close(a: float, b: float | None) -> bool:
    return b is not None and abs(a - b) <= 1e-6 * max(1.0, abs(b))


def _ratio(a: float, b: float | None) -> str:
    return f"{a / b:.2f}" if b else ""


def _met(ok: object) -> str:
    return "**met**" if ok else "**missed**"


def replace_section(doc: Path, begin: str, end: str, section: str) -> None:
    """Put ``section`` (which starts with ``begin`` and ends with ``end``) in place of the
    old one in ``doc``, or append it; every benchmark writes its own part of the page."""
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)


def machine() -> str:
    """Cores, CPU, RAM, Python and library versions."""
    info = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name")), "?")
    gib = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    libs = ", ".join(f"{lib} {_version(lib)}" for lib in LIBS)
    return (
        f"Machine: {os.cpu_count()} cores ({cpu}), {gib:.1f} GiB RAM, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}; {libs}."
    )


def _version(lib: str) -> str:
    try:
        return metadata.version(lib)
    except metadata.PackageNotFoundError:
        return "not installed"


def _commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
        return done.stdout.strip()

    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "src")
    return (git("rev-parse", "--short", "HEAD") or "?") + (" + changes in src/" if dirty else "")


NOTES = """\
Generated by `benchmarks/bench_rfm.py` (how to run: its docstring). Time is the whole process:
interpreter start, imports, reading the file, computing (segwise also writes its Parquet output
and prints its JSON summary); CPU is user + system time of that process. Peak memory is its
peak RSS (`os.wait4`). Median of 3 runs at 1M lines, one run at 10M, unless a table's heading
says otherwise (e.g. best of 3; contenders slower than a minute run once); warm page cache. The
machine is shared: the last column is how many cores other work kept busy during the run (the
benchmark waits for an idle machine before each run, up to `--max-wait`: 5 minutes by
default, 1 minute for the tables dated 2026-11-21).
segwise's CSV time includes detecting the columns and the date format; the bare queries are
told the format. The bare queries only aggregate (no scores, segments or cleaning report): they
are the floor. The textbook way is `groupby().agg` then `Series.apply` and `DataFrame.apply`;
the tutorial variant computes each customer's R, F, M in `groupby().apply(fn)`, as many
tutorials do: its time is the order of the issue's "~40 s at 1M lines" reference.
lifetimes and pymc-marketing get the non-cancelled lines and compute their own definitions
(repeat-purchase days, mean value). Target at 10M Parquet lines: within 1.5× of the faster bare
query, at least 30× faster than the textbook way, peak memory under 2 GiB.

*cdnow* tables are the many-customers shape (CDNOW histories bootstrapped by
`benchmarks/logs.py`, ~3 lines per customer, no invoice column: frequency counts distinct days).
Beside them runs a Polars lazy query that computes what segwise computes (R, F, M, scores by
segwise's tie rule, segments, the table written to Parquet; its R, F, M, scores and segments
equal segwise's on these logs); the line under each such table gives segwise's time divided by
that query's, as the median over rounds of the ratio within a round (each round runs every
contender once, back to back). Targets there: within 1.3× of it, peak memory within 2×, at
least 30× faster than the textbook way. The machine is shared: each table gives the 1-minute
load average on its 2 cores before and after."""


def _kept_tables(results: dict[str, Any]) -> dict[str, str]:
    """The page's tables of (size, shape, format) that ``results`` does not hold, as they are."""
    text = DOC.read_text() if DOC.exists() else ""
    if BEGIN not in text or END not in text:
        return {}
    section = text.split(BEGIN, 1)[1].split(END, 1)[0]
    kept = {}
    for part in section.split("\n### ")[1:]:
        key = part.split(" (", 1)[0]
        if key not in results and key.split()[0] in SIZES:
            kept[key] = "### " + part.rstrip("\n")
    return kept


def write_doc(results: dict[str, Any]) -> None:
    """Replace the bench_rfm section of docs/benchmarks.md (or append it)."""
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    body = [BEGIN, "## RFM: `segwise rfm` beside the usual ways", "", NOTES, "", machine()]
    body += [f"Peak RSS of the launching process (a floor under every peak): {floor:.0f} MiB.", ""]
    tables = _kept_tables(results)
    tables |= {key: table(key, res) for key, res in results.items()}
    for key in sorted(tables, key=lambda k: (SIZES[k.split()[0]], k)):
        body += [tables[key], ""]
    section = "\n".join([*body, END])
    replace_section(DOC, BEGIN, END, section)


def main() -> None:
    parser = argparse.ArgumentParser(description="RFM benchmark, see the module docstring.")
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--formats", nargs="+", default=["csv", "parquet"])
    parser.add_argument("--shapes", nargs="+", default=["retail"], choices=SHAPES)
    parser.add_argument("--contenders", nargs="+", choices=list(CONTENDERS), help="a subset")
    parser.add_argument("--once", nargs="+", default=[], help="contenders to run only once")
    parser.add_argument(
        "--slow", type=float, default=60, help="s after which a contender runs once"
    )
    parser.add_argument("--shape", default="retail", choices=SHAPES, help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, help="runs per contender (default 3 at 1M, 1 above)")
    parser.add_argument("--best", action="store_true", help="keep the fastest run, not the median")
    parser.add_argument("--max-wait", type=float, default=300, help="s to wait for an idle CPU")
    parser.add_argument("--contender", choices=[n for n in CONTENDERS if n != "segwise"])
    parser.add_argument("--file", help="with --contender: run it once on this file")
    parser.add_argument("--generate", choices=list(SIZES), help=argparse.SUPPRESS)
    parser.add_argument("--sums", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.contender:
        wrappers = {
            "tutorial": lambda f: rfm_contenders.textbook(f, True),
            "pymc": lambda f: rfm_contenders.lifetimes(f, True),
        }
        job = wrappers.get(args.contender) or getattr(rfm_contenders, args.contender)
        print(json.dumps(job(args.file)))
        return
    if args.generate or args.sums:
        print(json.dumps(generate(args.generate, args.shape) if args.generate else sums(args.sums)))
        return
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for size, shape in ((size, shape) for shape in args.shapes for size in args.sizes):
        files = log_files(size, shape)
        for fmt in args.formats:
            key = f"{size} {fmt}" if shape == "retail" else f"{size} {shape} {fmt}"
            repeat = args.repeat or (3 if SIZES[size] <= 1_000_000 else 1)
            results[key] = bench(
                files[fmt],
                repeat,
                args.max_wait,
                args.best,
                args.contenders,
                tuple(args.once),
                args.slow,
            )
            RESULTS.write_text(json.dumps(results, indent=1))
            print(table(key, results[key]) + "\n", flush=True)
    write_doc(results)
    print(f"wrote {DOC}", file=sys.stderr)


if __name__ == "__main__":
    main()
