"""Waiting for a background run in tests: polled a bounded number of times, never timed."""

from __future__ import annotations

import time

import pytest

from segwise import service

POLLS = 900  # 0.2 s apart: three minutes at most, for a busy 2-core machine


def wait_until_ended(run_id: str) -> str:
    """The run's final status, once it is no longer queued or running (fails the test if it
    never ends)."""
    for _ in range(POLLS):
        status = service.get_run(run_id).status
        if status not in ("queued", "running"):
            return status
        time.sleep(0.2)
    pytest.fail(f"run {run_id} did not end")
