"""REST API benchmark: a real ``segwise serve`` (uvicorn) called over loopback.

Run::

    .venv/bin/python benchmarks/bench_api.py                     # 20k-customer shop, defaults
    .venv/bin/python benchmarks/bench_api.py --calls 1000 --out -  # print only

The first run generates the seeded sample shop log (``segwise.demo``, ``--customers``),
ingests it and records a run with its segment classifier in a data folder of its own
(``benchmarks/data/api/``, git-ignored); later runs reuse it. The server is started as a
user would (``segwise serve``, one process, its default event loop and HTTP parser) on a
free loopback port, with a key. Just after it answers ``/healthz``, the first predict is sent
while 20 ``/healthz`` calls go out 20 ms apart (the slowest is reported: the event loop must
stay free while the model loads); the rest is measured after 100 warm-up calls:

- one customer, sequential: ``POST /v1/runs/{id}/predict`` with one customer per call,
  ``--calls`` calls over distinct customers of the run, through one keep-alive ``httpx``
  client (what a Python caller sees, client included); median, p99, max. The same for
  ``GET /v1/runs/{id}/customers/{customer_id}`` (the look-up: features, percentiles, history).
- throughput: ``--clients`` concurrent keep-alive connections each sending one-customer
  predicts back to back for ``--seconds`` seconds, from a minimal asyncio HTTP/1.1 client
  (pre-built requests) so the load generator takes as little of the 2 cores as possible;
  requests/s, median and p99 latency, and the server's CPU time per request (from
  ``/proc/PID/stat``). Both processes share the machine.
- batch: one predict of ``--batch`` customers (drawn with replacement), median of 5 calls,
  wall time as the client sees it (JSON encoding and decoding on both sides included).

Writes the ``bench_api`` section of ``docs/benchmarks.md`` (``--out -``: stdout only).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench_rfm import replace_section  # this folder is sys.path[0]

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data" / "api"
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench_api:begin -->", "<!-- bench_api:end -->"
KEY = "bench-key-0123456789abcdef"
TARGET_P99_MS = 20.0
TARGET_RPS = 500.0
FEATURES = ["recency", "frequency", "monetary"]


def prepare(customers: int) -> tuple[Path, str, list[dict[str, Any]], list[str]]:
    """The data folder, its run, and the run's customers as predict rows and ids."""
    home = DATA / f"home-{customers}"
    os.environ["SEGWISE_HOME"] = str(home)
    from segwise import service
    from segwise.demo import generate_log, write_log

    done = [r for r in service.list_runs() if r.status == "done"]
    if done:
        run_id = done[0].id
    else:
        log = DATA / f"shop_{customers}.csv"
        DATA.mkdir(parents=True, exist_ok=True)
        write_log(generate_log(customers, seed=1).lines, log, style="uk")
        print(f"segmenting {customers:,} customers ...", file=sys.stderr, flush=True)
        run_id = service.run_segment(log)[0].id
    table = service.read_assignments(run_id)
    rows = table[FEATURES].to_dict("records")
    return home, run_id, rows, [str(i) for i in table.customer_id]


class Server:
    """``segwise serve`` on a free loopback port."""

    def __init__(self, home: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        env = os.environ | {"SEGWISE_HOME": str(home), "SEGWISE_API_KEYS": KEY}
        serve = [sys.executable, "-c", "from segwise.cli import main; main()", "serve"]
        self.process = subprocess.Popen(
            [*serve, "--port", str(self.port), "--log-level", "warning"], env=env
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("segwise serve did not start")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def sequential(client: httpx.Client, calls: list[tuple[str, str, Any]]) -> list[float]:
    """Latency in ms of each call, one after the other."""
    times = []
    for method, path, body in calls:
        clock = time.perf_counter()
        answer = client.request(method, path, json=body)
        times.append((time.perf_counter() - clock) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text}")
    return times


async def _connection(port: int, requests: list[bytes], stop: float, times: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    index = 0
    while time.perf_counter() < stop:
        clock = time.perf_counter()
        writer.write(requests[index % len(requests)])
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await reader.readexactly(length)
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(head.decode())
        times.append((time.perf_counter() - clock) * 1000)
        index += 1
    writer.close()


def throughput(
    server: Server, path: str, rows: list[dict[str, Any]], clients: int, seconds: float
) -> dict[str, float]:
    """Requests/s and latency of ``clients`` connections predicting one customer each call."""
    requests = []
    for row in rows[:2000]:
        body = json.dumps({"customers": [row]}).encode()
        requests.append(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
    times: list[float] = []

    async def run() -> None:
        stop = time.perf_counter() + seconds
        await asyncio.gather(
            *(_connection(server.port, requests[i::clients], stop, times) for i in range(clients))
        )

    cpu, own, clock = server.cpu_seconds(), time.process_time(), time.perf_counter()
    asyncio.run(run())
    elapsed = time.perf_counter() - clock
    return {
        "clients": clients,
        "requests": len(times),
        "rps": len(times) / elapsed,
        "p50_ms": statistics.median(times),
        "p99_ms": float(np.percentile(times, 99)),
        "server_cpu_ms": (server.cpu_seconds() - cpu) / len(times) * 1000,
        "client_cpu_ms": (time.process_time() - own) / len(times) * 1000,
    }


def stats(times: list[float]) -> dict[str, float]:
    return {
        "p50_ms": statistics.median(times),
        "p99_ms": float(np.percentile(times, 99)),
        "max_ms": max(times),
        "calls": len(times),
    }


def cold_start(server: Server, predict: str, row: dict[str, Any]) -> dict[str, float]:
    """Just after start-up: the first predict (its model may still be loading) and the
    slowest of 20 ``/healthz`` calls sent meanwhile, 20 ms apart."""
    import threading

    headers = {"X-API-Key": KEY}
    first: list[float] = []

    def call() -> None:
        clock = time.perf_counter()
        httpx.post(
            f"{server.url}{predict}", json={"customers": [row]}, headers=headers, timeout=120
        )
        first.append((time.perf_counter() - clock) * 1000)

    caller = threading.Thread(target=call)
    caller.start()
    health = []
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for _ in range(20):
            clock = time.perf_counter()
            client.get("/healthz")
            health.append((time.perf_counter() - clock) * 1000)
            time.sleep(0.02)
    caller.join()
    return {"first_predict_ms": first[0], "health_max_ms": max(health)}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    home, run_id, rows, ids = prepare(args.customers)
    rng = np.random.default_rng(0)
    picked = rng.choice(len(rows), size=min(args.calls, len(rows)), replace=False)
    predict = f"/v1/runs/{run_id}/predict"
    server = Server(home)
    try:
        cold = cold_start(server, predict, rows[0])
        headers = {"X-API-Key": KEY}
        with httpx.Client(base_url=server.url, headers=headers, timeout=120) as client:
            warm = [("POST", predict, {"customers": [rows[i]]}) for i in range(100)]
            warm += [("GET", f"/v1/runs/{run_id}/customers/{ids[i]}", None) for i in range(100)]
            sequential(client, warm)
            one = stats(
                sequential(client, [("POST", predict, {"customers": [rows[i]]}) for i in picked])
            )
            lookup = stats(
                sequential(
                    client, [("GET", f"/v1/runs/{run_id}/customers/{ids[i]}", None) for i in picked]
                )
            )
            batch_rows = [rows[i] for i in rng.integers(0, len(rows), size=args.batch)]
            batch = sequential(client, [("POST", predict, {"customers": batch_rows})] * 5)
        loads = [throughput(server, predict, rows, n, args.seconds) for n in args.clients]
    finally:
        server.stop()
    from segwise import service

    run = service.get_run(run_id)
    return {
        "run": run_id,
        "customers": len(rows),
        "k": run.k,
        "one": one,
        "lookup": lookup,
        "batch_ms": statistics.median(batch),
        "batch": args.batch,
        "loads": loads,
        "cold": cold,
    }


def machine() -> str:
    import fastapi
    import uvicorn

    info = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name")), "?")
    try:
        import uvloop

        loop = f"uvloop {uvloop.__version__}"
    except ImportError:
        loop = "asyncio"
    return (
        f"Machine: {os.cpu_count()} cores (`nproc`), {cpu}, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}, FastAPI "
        f"{fastapi.__version__}, uvicorn {uvicorn.__version__} ({loop})."
    )


def render(result: dict[str, Any], load: float) -> str:
    one, lookup = result["one"], result["lookup"]
    best = max(result["loads"], key=lambda r: r["rps"])
    p99_met = "**met**" if one["p99_ms"] < TARGET_P99_MS else "**missed**"
    rps_met = "**met**" if best["rps"] >= TARGET_RPS else "**missed**"
    lines = [
        BEGIN,
        "## REST API",
        "",
        f"Generated by `benchmarks/bench_api.py` (how to run and what is measured: its "
        f"docstring) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. {machine()} 1-minute load "
        f"average at start: {load:.1f} (the machine is shared). One `segwise serve` process "
        f"over loopback; the run: the seeded demo shop, {result['customers']:,} customers, "
        f"k = {result['k']}, the run artifact (preprocessing + nearest centre).",
        "",
        "**One customer, sequential** (ms, one keep-alive `httpx` client, client time included):",
        "",
        "| call | median | p99 | max | calls |",
        "|---|--:|--:|--:|--:|",
        f"| `POST /v1/runs/{{id}}/predict`, one customer | **{one['p50_ms']:.2f}** "
        f"| **{one['p99_ms']:.2f}** | {one['max_ms']:.2f} | {one['calls']} |",
        f"| `GET /v1/runs/{{id}}/customers/{{customer_id}}` (look-up) | {lookup['p50_ms']:.2f} "
        f"| {lookup['p99_ms']:.2f} | {lookup['max_ms']:.2f} | {lookup['calls']} |",
        "",
        "**Throughput**: one-customer predicts from concurrent keep-alive connections "
        "(minimal asyncio client), both processes on the same 2 cores:",
        "",
        "| connections | requests/s | median (ms) | p99 (ms) | server CPU per request (ms) "
        "| client CPU per request (ms) |",
        "|--:|--:|--:|--:|--:|--:|",
    ]
    for r in result["loads"]:
        lines.append(
            f"| {r['clients']} | **{r['rps']:,.0f}** | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} "
            f"| {r['server_cpu_ms']:.2f} | {r['client_cpu_ms']:.2f} |"
        )
    batch_s = result["batch_ms"] / 1000
    cold = result["cold"]
    lines += [
        "",
        f"**Just after start-up** (the server's first predict, while 20 `/healthz` calls are"
        f" sent 20 ms apart): first predict {cold['first_predict_ms']:.0f} ms, slowest"
        f" `/healthz` {cold['health_max_ms']:.1f} ms (target < 100 ms:"
        f" {'**met**' if cold['health_max_ms'] < 100 else '**missed**'}).",
        "",
        f"**Batch**: one predict of {result['batch']:,} customers: {batch_s:.2f} s "
        f"({result['batch'] / batch_s:,.0f} customers/s), median of 5, JSON both ways included.",
        "",
        f"Targets: one customer p99 under {TARGET_P99_MS:.0f} ms over {one['calls']} "
        f"sequential calls: {p99_met} ({one['p99_ms']:.2f} ms); at least {TARGET_RPS:.0f} "
        f"requests/s on 2 cores: {rps_met} ({best['rps']:,.0f} with {best['clients']} "
        "connections).",
        END,
    ]
    return "\n".join(lines)


def write_doc(section: str) -> None:
    """Replace the bench_api section of docs/benchmarks.md (or append it), re-reading it."""
    replace_section(DOC, BEGIN, END, section)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000, help="size of the demo shop")
    parser.add_argument("--calls", type=int, default=300, help="sequential calls per route")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 20])
    parser.add_argument("--seconds", type=float, default=20.0, help="per throughput level")
    parser.add_argument("--batch", type=int, default=10_000, help="customers in the batch call")
    parser.add_argument("--json", help="also write the raw results to this file")
    parser.add_argument("--out", default=str(DOC), help="markdown file, or - for stdout only")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    result = measure(args)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    section = render(result, load)
    print(section)
    if args.out != "-":
        write_doc(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
