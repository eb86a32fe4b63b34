"""Prometheus metrics of one app: requests, latency, predictions per segment, run durations.

Each app has its own ``CollectorRegistry`` (two apps in one process, as in the tests, never
share counters). Requests are labelled by route template (``/v1/runs/{run_id}``), never by
raw path, so ids do not explode the number of series.
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
RUN_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0)


class Metrics:
    """The collectors of one app and the few calls that feed them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "segwise_http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "segwise_http_request_duration_seconds",
            "Time from request to the end of the response, by method and route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "segwise_predictions",
            "Customers placed by POST /v1/runs/{run_id}/predict, by run and segment name.",
            ["run", "segment"],
            registry=self.registry,
        )
        self.runs = Histogram(
            "segwise_run_duration_seconds",
            "Wall time of runs executed by this server's workers, by final status.",
            ["status"],
            buckets=RUN_BUCKETS,
            registry=self.registry,
        )
        self.runs_active = Gauge(
            "segwise_runs_in_progress",
            "Runs submitted to this server's workers and not finished yet.",
            registry=self.registry,
        )

    def count_predictions(self, run_id: str, segment_names: Iterable[str]) -> None:
        """Add one prediction per name to its segment's counter."""
        for name, count in Tally(segment_names).items():
            self.predictions.labels(run_id, name).inc(count)

    def run_started(self) -> None:
        self.runs_active.inc()

    def run_finished(self, status: str, seconds: float) -> None:
        self.runs_active.dec()
        self.runs.labels(status).observe(seconds)

    def render(self) -> bytes:
        """The Prometheus text exposition of every collector."""
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and times every HTTP request by route template (pure ASGI: no extra task)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        answered = {"status": 500}

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered["status"] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = _template(scope.get("route"))
            method = str(scope.get("method", ""))
            self.metrics.requests.labels(method, route, str(answered["status"])).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)


def _template(route: Any) -> str:
    """``/v1/runs/{run_id}`` for a matched route; one label for everything unmatched."""
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"
