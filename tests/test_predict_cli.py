"""`segwise segment --model`, `segwise predict` and `segwise target` end to end."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pandas as pd
import pytest

from segwise.demo import generate_log, write_log


def test_segment_model_predicts_the_runs_segments(cli, creditcard, tmp_path):
    model, out = tmp_path / "m.skops", tmp_path / "seg.csv"
    result = cli(
        "segment", creditcard, "--model", model, "--out", out, "--json", "--k", "4", "--classifier"
    )
    assert result.exit_code == 0, result.stderr
    classifier = json.loads(result.stdout)["classifier"]
    assert classifier["accuracy"] >= 0.9
    assert {"macro_f1", "confusion_matrix", "strategy", "cv_macro_f1"} <= set(classifier)
    placed = tmp_path / "placed.csv"
    result = cli("predict", model, creditcard, "--out", placed)
    assert result.exit_code == 0, result.stderr
    got = pd.read_csv(placed, dtype={"customer_id": str})
    assert list(got.columns) == ["customer_id", "segment", "segment_name", "probability"]
    want = pd.read_csv(out, dtype={"customer_id": str})
    merged = got.merge(want, on="customer_id", suffixes=("", "_run"))
    assert len(merged) == 1_319
    assert (merged["segment"] == merged["segment_run"]).all()  # the run's own rule, exactly
    assert (merged["segment_name"] == merged["segment_name_run"]).all()
    assert merged["probability"].between(0, 1).all()


def test_log_model_places_customers_of_a_new_log(cli, tmp_path):
    log = generate_log(600, seed=5)
    path = write_log(log.lines, tmp_path / "log.csv", style="us")
    model = tmp_path / "m.skops"
    assert cli("segment", path, "--model", model, "--quiet").exit_code == 0
    result = cli("predict", model, path, "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["kind"] == "segment"
    assert len(payload["predictions"]) == 600
    assert {"customer_id", "segment", "segment_name", "probability"} == set(
        payload["predictions"][0]
    )
    assert "ignored" not in result.stderr + result.stdout  # RFM scores are ours, not extra


def test_target_card_with_importances(cli, creditcard, tmp_path):
    model = tmp_path / "card.skops"
    result = cli("target", creditcard, "--target", "card", "--model", model, "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["target"] == "card"
    assert summary["macro_f1"] >= 0.9
    top = max(summary["importance"], key=summary["importance"].get)
    assert top in {"expenditure", "share"}
    assert "card" not in summary["importance"]
    result = cli("predict", model, creditcard, "--json")
    assert result.exit_code == 0, result.stderr
    first = json.loads(result.stdout)["predictions"][0]
    assert set(first) == {"customer_id", "prediction", "probability", "reasons"}
    assert "chance" in first["reasons"]


class Boom:
    def __reduce__(self):
        return (Path.touch, (Path("/tmp/segwise-pickle-ran"),))


def test_a_pickle_renamed_skops_exits_2(cli, creditcard, tmp_path):
    fake = tmp_path / "m.skops"
    fake.write_bytes(pickle.dumps(Boom()))
    marker = Path("/tmp/segwise-pickle-ran")
    marker.unlink(missing_ok=True)
    result = cli("predict", fake, creditcard)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "pickle" in result.stderr
    assert not marker.exists()


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("age,income\n30,abc\n", "missing"),
        (
            "rownames,reports,age,income,share,expenditure,owner,selfemp,dependents,months,"
            "majorcards,active\n1,0,-5,3,0.1,10,yes,no,0,12,1,3\n",
            "age",
        ),
    ],
)
def test_bad_prediction_rows_exit_2(cli, creditcard, tmp_path, content, needle):
    model = tmp_path / "m.skops"
    assert cli("segment", creditcard, "--model", model, "--k", "2", "--quiet").exit_code == 0
    rows = tmp_path / "rows.csv"
    rows.write_text(content)
    result = cli("predict", model, rows)
    assert result.exit_code == 2, result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
    assert needle in result.stderr
