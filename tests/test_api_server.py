"""``segwise serve`` for real: uvicorn on a free loopback port, runs in worker processes.

Called over HTTP with httpx as a client would: no key -> 401; upload -> run -> done ->
segments -> predict; then a run interrupted by a shutdown is reported failed after restart.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from segwise.demo import generate_log, write_log

KEY = "server-test-key-0123456789"
STOPPED = (0, -signal.SIGTERM)  # uvicorn shuts down cleanly, then re-raises the signal


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """``segwise serve`` in a subprocess, stopped with SIGTERM as a service manager would."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home.parent / f"serve-{self.port}.log"
        env = os.environ | {"SEGWISE_HOME": str(home), "SEGWISE_API_KEYS": KEY}
        command = [sys.executable, "-c", "from segwise.cli import main; main()", "serve"]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port), "--log-level", "warning"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self._wait_up()

    def _wait_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError(f"server did not start: {self.log.read_text()}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise
        return self.process.returncode


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def server(home: Path) -> Iterator[Server]:
    running = Server(home)
    try:
        yield running
    finally:
        running.stop()


def poll(client: httpx.Client, run_id: str, until: set[str], timeout: float = 180) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = client.get(f"/v1/runs/{run_id}").json()
        if found["status"] in until:
            return found
        time.sleep(0.25)
    raise AssertionError(f"run {run_id} still {found['status']}")


def upload(client: httpx.Client, path: Path) -> str:
    with path.open("rb") as handle:
        answer = client.post("/v1/datasets", files={"file": (path.name, handle, "text/csv")})
    assert answer.status_code == 201, answer.text
    dataset: str = answer.json()["id"]
    return dataset


def test_serve_over_http_upload_run_predict_and_restart(server: Server, home: Path, tmp_path):
    assert httpx.get(f"{server.url}/v1/runs").status_code == 401
    assert httpx.get(f"{server.url}/v1/runs", headers={"X-API-Key": "nope"}).status_code == 401
    assert httpx.get(f"{server.url}/openapi.json").json()["info"]["title"] == "segwise"
    small, big = tmp_path / "small.csv", tmp_path / "big.csv"
    write_log(generate_log(150, seed=11).lines, small, style="uk")
    write_log(generate_log(3000, seed=12).lines, big, style="uk")

    with httpx.Client(base_url=server.url, headers={"X-API-Key": KEY}, timeout=60) as client:
        dataset = upload(client, small)
        started = client.post("/v1/runs", json={"dataset": dataset, "k": 3})
        assert started.status_code == 202 and started.json()["status"] == "queued"
        run = started.json()["id"]
        done = poll(client, run, {"done", "failed"})
        assert done["status"] == "done", done["error"]
        assert len(client.get(f"/v1/runs/{run}/segments").json()) == 3
        customer = {"recency": 12, "frequency": 4, "monetary": 250.0}
        answer = client.post(f"/v1/runs/{run}/predict", json={"customers": [customer] * 2})
        assert answer.status_code == 200, answer.text
        assert [set(p) for p in answer.json()] == [
            {"segment", "segment_name", "probability", "recommendation"}
        ] * 2
        assert answer.json()[0]["segment"] in range(3)
        assert (
            client.post("/v1/runs/rnope/predict", json={"customers": [customer]}).status_code == 404
        )
        metrics = client.get("/metrics").text
        assert 'segwise_run_duration_seconds_count{status="done"} 1.0' in metrics

        slow = client.post("/v1/runs", json={"dataset": upload(client, big)}).json()["id"]
        assert poll(client, slow, {"running", "done", "failed"})["status"] == "running"

    assert server.stop() in STOPPED  # a clean shutdown stops the running worker too
    restarted = Server(home)
    try:
        with httpx.Client(base_url=restarted.url, headers={"X-API-Key": KEY}, timeout=60) as client:
            found = client.get(f"/v1/runs/{slow}").json()
            assert found["status"] == "failed" and "interrupted" in found["error"]
            assert client.get(f"/v1/runs/{run}").json()["status"] == "done"  # nothing lost
            again = client.post(f"/v1/runs/{run}/predict", json={"customers": [customer]})
            assert again.json()[0] == answer.json()[0]
    finally:
        assert restarted.stop() in STOPPED


def test_serve_without_keys_warns_and_binds_loopback(cli, monkeypatch):
    import uvicorn

    called: dict[str, Any] = {}
    monkeypatch.delenv("SEGWISE_API_KEYS", raising=False)
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: called.update(kwargs))
    result = cli("serve", "--port", "8123")
    assert result.exit_code == 0, result.stderr
    assert "SEGWISE_API_KEYS is not set" in result.stderr
    assert called["host"] == "127.0.0.1" and called["port"] == 8123


def test_serve_workers_start_processes_that_build_their_own_app(cli, monkeypatch):
    import uvicorn

    called: dict[str, Any] = {}
    monkeypatch.setenv("SEGWISE_API_KEYS", KEY)
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: called.update(kwargs, app=app))
    assert cli("serve", "--workers", "3").exit_code == 0
    assert called["app"] == "segwise.api:create_app" and called["factory"] is True
    assert called["workers"] == 3 and called["host"] == "127.0.0.1"
    from segwise.api import create_app

    assert callable(create_app)  # what each worker process imports and calls
    assert cli("serve", "--workers", "0").exit_code == 2


def test_serve_refuses_an_unknown_log_level(cli):
    result = cli("serve", "--log-level", "loud")
    assert result.exit_code == 2 and "--log-level" in result.stderr
