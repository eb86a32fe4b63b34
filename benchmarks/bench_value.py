"""Value benchmark: fitting BG/NBD + Gamma-Gamma at millions of customers, and ``segwise
value`` beside ``segwise rfm`` on the same log.

Run: ``.venv/bin/python benchmarks/bench_value.py [--customers 3400000] [--lifetimes-max
340000] [--log-customers 340000]`` (about 3 min on 2 idle cores).

- **fit**: a population drawn from BG/NBD and Gamma-Gamma themselves (CDNOW's parameters,
  in whole days over two years; summary in weeks, as ``segwise value`` computes it):
  segwise (``segwise.value``: grouping, both fits, the scores over 180 days) beside
  lifetimes (``BetaGeoFitter`` with the grouped rows as weights, which lifetimes supports, and
  without grouping up to ``--lifetimes-max`` customers; ``GammaGammaFitter`` on every repeat
  customer) and pymc-marketing's ``BetaGeoModel`` MAP fit (when installed, up to
  ``--lifetimes-max``). Wall and CPU seconds, and the parameters found against those planted.
- **whole process**: a CDNOW-like log of ``--log-customers`` customers (about 3 lines each),
  ``segwise rfm LOG --out`` and ``segwise value LOG --out``, best of 3, and their ratio.

Writes the ``bench_value`` section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench_rfm import machine, replace_section, wait_idle  # this folder is sys.path[0]

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench_value:begin -->", "<!-- bench_value:end -->"
PLANTED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "p": 6.25, "q": 3.74, "v": 15.44}
DAYS = 730


def population(customers: int, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Purchase days drawn from the models (rates per day = CDNOW's per week / 7): the
    per-customer summary in weeks, and (``lines=True``) the purchase lines."""
    rng = np.random.default_rng(seed)
    first = rng.integers(0, DAYS, customers)
    lam = rng.gamma(PLANTED["r"], 1 / (PLANTED["alpha"] * 7), customers)
    drop = rng.beta(PLANTED["a"], PLANTED["b"], customers)
    nu = rng.gamma(PLANTED["q"], 1 / PLANTED["v"], customers)
    x, last, now, spend = (np.zeros(customers) for _ in range(4))
    seen = np.zeros(customers)  # day 0 is the first purchase
    cids, days, amounts = (
        [np.arange(customers)],
        [first.astype(float)],
        [rng.gamma(PLANTED["p"], 1 / nu)],
    )
    active = np.ones(customers, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        now[idx] += rng.exponential(1 / lam[idx])
        idx = idx[now[idx] <= DAYS - first[idx]]
        day = np.floor(now[idx])
        new = idx[day > seen[idx]]  # a second purchase on the same day is the same day
        nd = np.floor(now[new])
        value = rng.gamma(PLANTED["p"], 1 / nu[new])
        x[new] += 1
        last[new], seen[new] = nd, nd
        spend[new] += value
        cids.append(new), days.append(first[new] + nd), amounts.append(value)
        active[:] = False
        active[idx] = rng.random(len(idx)) >= drop[idx]
    summary = pd.DataFrame(
        {
            "repeat_purchases": x,
            "t_x": last / 7,
            "T": (DAYS - first) / 7,
            "mean_repeat_value": np.where(x > 0, spend / np.maximum(x, 1), 0.0),
        }
    )
    lines = pd.DataFrame(
        {
            "customer_id": np.concatenate(cids),
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.concatenate(days), "D"),
            "amount": np.concatenate(amounts).round(2),
        }
    )
    return summary, lines


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def fit_segwise(summary: pd.DataFrame) -> tuple[dict[str, float], float]:
    from segwise.value.bgnbd import BgNbd
    from segwise.value.clv import score_customers
    from segwise.value.gamma_gamma import GammaGamma

    x = summary["repeat_purchases"].to_numpy()
    bg = BgNbd().fit(x, summary["t_x"].to_numpy(), summary["T"].to_numpy())
    gg = GammaGamma().fit(x, summary["mean_repeat_value"].to_numpy())
    score_customers(bg, gg, summary, horizon_days=180, discount_rate=0.1, period_days=7)
    return bg.params_ | gg.params_, float(bg.fit_.iterations)


def fit_lifetimes(summary: pd.DataFrame, grouped: bool) -> dict[str, float]:
    from lifetimes import BetaGeoFitter

    from segwise.value.bgnbd import group_rows

    x, t_x, T = (summary[c].to_numpy() for c in ("repeat_purchases", "t_x", "T"))
    if grouped:
        g = group_rows(x, t_x, T)
        bg = BetaGeoFitter().fit(g.x, g.t_x, g.T, weights=g.weight.astype(int))
    else:
        bg = BetaGeoFitter().fit(x, t_x, T)
    return dict(bg.params_)


def fit_lifetimes_gg(summary: pd.DataFrame) -> dict[str, float]:
    from lifetimes import GammaGammaFitter

    r = summary[(summary["repeat_purchases"] > 0) & (summary["mean_repeat_value"] > 0)]
    return dict(GammaGammaFitter().fit(r["repeat_purchases"], r["mean_repeat_value"]).params_)


def fit_pymc(summary: pd.DataFrame) -> dict[str, float]:
    from pymc_marketing.clv import BetaGeoModel

    data = summary.rename(columns={"repeat_purchases": "frequency", "t_x": "recency"})
    data = data.assign(customer_id=np.arange(len(data)))[
        ["customer_id", "frequency", "recency", "T"]
    ]
    model = BetaGeoModel(data=data)
    model.fit(method="map")
    post = model.fit_summary()
    return {k: float(post[k]) for k in ("r", "alpha", "a", "b")}


def fits(customers: int, lifetimes_max: int, max_wait: float) -> list[dict[str, Any]]:
    summary, _ = population(customers)
    small = summary.iloc[:lifetimes_max]
    rows = []
    contenders: list[tuple[str, int, Callable[[], Any]]] = [
        (
            "segwise (SciPy, grouped): BG/NBD + Gamma-Gamma + 180-day scores",
            customers,
            lambda: fit_segwise(summary)[0],
        ),
        (
            "lifetimes BetaGeoFitter, grouped rows as weights",
            customers,
            lambda: fit_lifetimes(summary, True),
        ),
        (
            "lifetimes GammaGammaFitter, every repeat customer",
            customers,
            lambda: fit_lifetimes_gg(summary),
        ),
        ("segwise (SciPy, grouped)", len(small), lambda: fit_segwise(small)[0]),
        (
            "lifetimes BetaGeoFitter, one row per customer",
            len(small),
            lambda: fit_lifetimes(small, False),
        ),
    ]
    try:
        import pymc_marketing  # noqa: F401

        contenders.append(
            (
                "pymc-marketing BetaGeoModel, MAP (first fit: compiles)",
                len(small),
                lambda: fit_pymc(small),
            )
        )
    except ImportError:
        pass
    for name, n, fn in contenders:
        wait_idle(max_wait)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            params, wall, cpu = timed(fn)
        found = ", ".join(f"{k} {v:.3f}" for k, v in params.items() if k in PLANTED)
        rows.append({"name": name, "customers": n, "wall": wall, "cpu": cpu, "params": found})
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def whole_process(customers: int, max_wait: float) -> dict[str, float]:
    _, lines = population(customers, seed=2)
    assert lines is not None
    segwise = str(Path(sys.executable).parent / "segwise")
    out: dict[str, float] = {"lines": len(lines), "customers": customers}
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "log.parquet"
        lines.to_parquet(log)
        for name in ("rfm", "value"):
            best = float("inf")
            for _ in range(3):
                wait_idle(max_wait)
                t = time.perf_counter()
                args = [name, str(log), "--out", str(Path(folder) / f"{name}.parquet"), "--json"]
                subprocess.run([segwise, *args], check=True, capture_output=True)
                best = min(best, time.perf_counter() - t)
            out[name] = best
    return out


def section(rows: list[dict[str, Any]], whole: dict[str, float]) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    table = "\n".join(
        f"| {r['name']} | {r['customers']:,} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['params']} |"
        for r in rows
    )
    planted = ", ".join(f"{k} {v}" for k, v in PLANTED.items())
    ratio = whole["value"] / whole["rfm"]
    log = f"{int(whole['lines']):,}-line log, {int(whole['customers']):,} customers"
    return f"""{BEGIN}
## Value: fitting BG/NBD + Gamma-Gamma, and `segwise value` beside `segwise rfm`

Generated by `benchmarks/bench_value.py` on {stamp}. {machine()}

Customers drawn from the models themselves (planted: {planted}; whole days over two years,
summary in weeks). Wall and CPU seconds of the fit alone (the summary is given).

| fit | customers | wall (s) | CPU (s) | parameters found |
|---|--:|--:|--:|---|
{table}

| {log}, whole process, best of 3 | time (s) |
|---|--:|
| `segwise rfm LOG --out r.parquet --json` | {whole["rfm"]:.2f} |
| `segwise value LOG --out v.parquet --json` (RFM, summary, fits, scores) | {whole["value"]:.2f} |
| ratio (target < 2×) | {ratio:.2f}× |
{END}"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=3_400_000)
    parser.add_argument("--lifetimes-max", type=int, default=340_000)
    parser.add_argument("--log-customers", type=int, default=340_000)
    parser.add_argument("--max-wait", type=float, default=60, help="for an idle machine, s")
    args = parser.parse_args()
    rows = fits(args.customers, args.lifetimes_max, args.max_wait)
    whole = whole_process(args.log_customers, args.max_wait)
    text = section(rows, whole)
    replace_section(DOC, BEGIN, END, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
