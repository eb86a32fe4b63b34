"""The server keeps answering while a model loads: the first predict after a restart loads
the run's model in a worker thread, never on the event loop (and start-up preloads it)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import httpx
import pytest

from segwise import service
from segwise.api import create_app
from segwise.config import Settings
from segwise.demo import generate_log, write_log
from segwise.service.results import _load_predictor

KEY = "no-stall-key-0123456789"


@pytest.fixture
def app_with_a_run(tmp_path: Path) -> tuple[object, str]:
    settings = Settings(home=tmp_path / "home", api_keys=KEY)
    log = write_log(generate_log(120, seed=2).lines, tmp_path / "shop.csv", style="uk")
    run, _ = service.run_segment(log, service.SegmentOptions(k=3), settings=settings)
    _load_predictor.cache_clear()  # as after a restart: the model is not in memory
    return create_app(settings, worker_mode="thread"), run.id


def test_health_answers_while_the_first_predict_loads(app_with_a_run, monkeypatch):
    app, run_id = app_with_a_run
    slow_load = service.Predictor.load

    def load(path):  # a big model on a slow disk
        time.sleep(1.5)
        return slow_load(path)

    monkeypatch.setattr(service.Predictor, "load", staticmethod(load))
    finished: list[str] = []

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)  # one event loop, as in the server
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:

            async def predict() -> None:
                rows = {"customers": [{"recency": 10, "frequency": 3, "monetary": 120.0}]}
                answer = await client.post(
                    f"/v1/runs/{run_id}/predict", json=rows, headers={"X-API-Key": KEY}
                )
                assert answer.status_code == 200, answer.text
                finished.append("predict")

            async def health() -> None:
                await asyncio.sleep(0.3)  # the predict is loading by now
                assert (await client.get("/healthz")).status_code == 200
                finished.append("health")

            await asyncio.gather(predict(), health())

    asyncio.run(scenario())
    assert finished == ["health", "predict"]  # the loop was free while the model loaded


def test_start_up_preloads_the_newest_runs_models(app_with_a_run):
    from fastapi.testclient import TestClient

    app, _ = app_with_a_run
    assert _load_predictor.cache_info().currsize == 0
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        for _ in range(200):  # a bounded wait for the background load, not a speed check
            if _load_predictor.cache_info().currsize:
                break
            time.sleep(0.05)
        assert _load_predictor.cache_info().currsize == 1


def test_uploads_are_read_in_a_memory_capped_process(tmp_path):
    """A file that needs more memory than SEGWISE_UPLOAD_MEMORY_MB is refused with one line
    naming the setting; the server's own process never reads it and goes on answering."""
    from fastapi.testclient import TestClient

    settings = Settings(home=tmp_path / "home", api_keys=KEY, upload_memory_mb=512)
    big = write_log(generate_log(60_000, seed=3).lines, tmp_path / "big.parquet")  # ~1.9M lines
    small = write_log(generate_log(200, seed=3).lines, tmp_path / "small.csv", style="uk")
    headers = {"X-API-Key": KEY}
    with TestClient(create_app(settings, worker_mode="process")) as client:
        with big.open("rb") as handle:
            refused = client.post("/v1/datasets", files={"file": handle}, headers=headers)
        assert refused.status_code == 422, refused.text
        detail = refused.json()["detail"]
        assert "SEGWISE_UPLOAD_MEMORY_MB" in detail and "\n" not in detail
        assert client.get("/healthz").status_code == 200
        with small.open("rb") as handle:
            stored = client.post("/v1/datasets", files={"file": handle}, headers=headers)
        assert stored.status_code == 201, stored.text
        assert [d.id for d in service.list_datasets(settings)] == [stored.json()["id"]]
        assert stored.json()["customers"] == 200  # read in full by the fresh reader process


def test_every_duckdb_connection_of_the_reader_process_gets_half_its_memory(tmp_path):
    """Not only the ingest's engine: the kind detection and the customer-table read of an
    upload open their own connections, and they hold DuckDB to half the reader's memory too."""
    import subprocess
    import sys

    script = (
        "from segwise.api.reader import _cap_memory; _cap_memory(512)\n"
        "from segwise.io.duck import connect\n"
        "print(connect().execute(\"SELECT current_setting('memory_limit')\").fetchone()[0])\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "SEGWISE_MEMORY_LIMIT"}
    env["SEGWISE_HOME"] = str(tmp_path)
    shown = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert shown == ["244.1", "MiB"]  # 256 MB, as DuckDB shows it
