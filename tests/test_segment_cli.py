"""`segwise segment` end to end: planted shop log, AER CreditCard, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segwise.demo import generate_log, write_log


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    log = generate_log(1_500, seed=11)
    path = write_log(log.lines, tmp_path_factory.mktemp("log") / "shop.csv", style="uk")
    return path, log.customers.to_pandas()


def test_planted_log_chooses_k4_and_recovers_the_types(cli, planted, tmp_path):
    path, truth = planted
    out = tmp_path / "seg.csv"
    result = cli("segment", path, "--json", "--out", out)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["kind"] == "transactions"
    assert summary["k"] == 4
    assert [s["k"] for s in summary["k_selection"]] == list(range(2, 11))
    assert "k = 4" in summary["k_reason"]
    got = pd.read_csv(out, dtype={"customer_id": str}).merge(truth, on="customer_id")
    assert len(got) == len(truth)  # every planted customer is labelled
    assert adjusted_rand_score(got["planted_type"], got["segment"]) >= 0.9
    assert list(pd.read_csv(out).columns) == [
        "customer_id",
        "recency",
        "frequency",
        "monetary",
        "segment",
        "segment_name",
        "p_alive",
        "expected_purchases",
        "expected_value",
        "clv",
        "churn_risk",
    ]
    # value follows the planted behaviour: at-risk customers (last purchase 120-250 days ago
    # after 6-15 visits) are likelier lapsed and worth less than champions
    by_type = got.groupby("planted_type")[["p_alive", "expected_value"]].mean()
    assert by_type.loc["At risk", "p_alive"] < 0.5 < by_type.loc["Champions", "p_alive"]
    assert by_type.loc["At risk", "expected_value"] < by_type.loc["Champions", "expected_value"]
    names = [s["name"] for s in summary["segments"]]
    assert len(set(names)) == 4
    champions = got.loc[got["planted_type"] == "Champions", "segment_name"].mode()[0]
    assert "Champions" in champions


def test_creditcard_table_gets_unique_names_and_advice(cli, creditcard, tmp_path):
    out = tmp_path / "seg.xlsx"
    result = cli("segment", creditcard, "--json", "--out", out)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["kind"] == "customers"
    assert 2 <= summary["k"] <= 10
    names = [s["name"] for s in summary["segments"]]
    assert len(set(names)) == len(names)
    assert all(s["recommendation"] for s in summary["segments"])
    prep = summary["preprocessing"]
    assert {"owner", "selfemp"} <= set(prep["binary_columns"])
    assert prep["outcome_columns"] == ["card"]  # the outcome is described, not clustered on
    assert "rownames" not in prep["used"]
    frame = pd.read_excel(out)
    assert len(frame) == 1_319
    assert sum(s["size"] for s in summary["segments"]) == 1_319


def test_fixed_k_and_features(cli, creditcard):
    result = cli(
        "segment", creditcard, "--k", "3", "--features", "income,expenditure,age", "--json"
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["k"] == 3
    assert summary["k_selection"] == []
    assert set(summary["preprocessing"]["used"]) == {"income", "expenditure", "age"}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--k", "many"], "--k 'many' is not a number"),
        (["--k", "1"], "--k 1 is too small"),
        (["--kind", "shops"], "--kind 'shops' is unknown"),
        (["--features", "income,salary"], "'salary', which is not a column"),
        (["--report", "r.pdf"], "must end in .html"),
        (["--out", "seg.json"], "unknown file type"),
        (["--k", "51"], "--k 51 is too large"),
        (["--k-max", "1"], "--k-max 1 is out of range"),
        (["--bins", "12"], "--bins 12 is out of range"),
        (["--as-of", "soon"], "--as-of 'soon' is not a date"),
    ],
)
def test_bad_segment_flags_exit_2(cli, creditcard, args, needle):
    result = cli("segment", creditcard, *args)
    assert result.exit_code == 2, result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
    assert needle in result.stderr


def test_rfm_options_of_a_log_reach_its_run(cli, planted, tmp_path):
    """--as-of and --bins change the RFM the segments are built on, as they do for rfm."""
    log, _ = planted
    out = tmp_path / "quartiles.csv"
    args = ("segment", log, "--k", "3", "--bins", "4", "--as-of", "2012-01-09", "--json")
    result = cli(*args, "--out", out)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["rfm"]["as_of"] == "2012-01-09"
    rfm = cli("rfm", log, "--bins", "4", "--as-of", "2012-01-09", "--out", tmp_path / "r.csv")
    assert rfm.exit_code == 0, rfm.stderr
    want = pd.read_csv(tmp_path / "r.csv", dtype={"customer_id": str})
    got = pd.read_csv(out, dtype={"customer_id": str}).merge(want, on="customer_id")
    assert len(got) == len(want)
    assert (got["recency_x"] == got["recency_y"]).all()  # counted to the asked day
