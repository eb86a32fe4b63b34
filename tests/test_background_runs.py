"""Runs executed in the background of the dashboard's process: queued in the catalog, done
while nobody watches, visible to any session, cancelled between stages without leftovers."""

from __future__ import annotations

from pathlib import Path

import pytest

from segwise import service
from segwise.demo import generate_log, write_log
from segwise.errors import NotAllowedError
from segwise.service import segments as segments_module

WAIT = 120


@pytest.fixture
def shop(tmp_path: Path) -> str:
    """A stored demo log (planted segments), as a dataset id."""
    path = write_log(generate_log(200, seed=4).lines, tmp_path / "shop.csv")
    return service.ingest(path).id


def test_a_background_run_finishes_and_its_result_is_kept(shop):
    runs = service.BackgroundRuns()
    try:
        queued = service.start_run(shop, service.SegmentOptions(k=3))
        assert runs.stage(queued.id).status in ("queued", "running")
        assert runs.submit(queued.id).result(timeout=WAIT) == "done"
        stage = runs.stage(queued.id)
        assert (stage.status, stage.stage) == ("done", "")
        seg = runs.result(queued.id)
        assert seg is not None and seg.k == 3
        # the stored run is the same as the in-memory one: every customer in its segment
        stored = service.read_assignments(queued.id).set_index("customer_id")["segment"]
        assert stored.to_dict() == seg.assignments().set_index("customer_id")["segment"].to_dict()
        # another process (a fresh object) sees the status, not the in-memory result
        other = service.BackgroundRuns()
        assert other.stage(queued.id).status == "done" and other.result(queued.id) is None
        other.shutdown()
    finally:
        runs.shutdown()


def test_cancel_while_running_stops_at_the_next_stage_and_leaves_no_files(shop, monkeypatch):
    real = segments_module.segment

    def cancelled_meanwhile(*args, **kwargs):  # the user presses Cancel as the work starts
        service.cancel_run(queued.id)
        return real(*args, **kwargs)

    monkeypatch.setattr(segments_module, "segment", cancelled_meanwhile)
    runs = service.BackgroundRuns()
    try:
        queued = service.start_run(shop, service.SegmentOptions(k=3))
        assert runs.submit(queued.id).result(timeout=WAIT) == "cancelled"
    finally:
        runs.shutdown()
    run = service.get_run(queued.id)
    assert run.status == "cancelled" and run.finished is not None
    assert runs.result(queued.id) is None
    assert not list(_runs_folder().rglob(f"*{queued.id}*"))
    assert [e.action for e in service.audit_events() if e.target == queued.id] == [
        "run.start",
        "run.cancel",
    ]


def test_a_run_cancelled_before_its_turn_never_starts(shop):
    runs = service.BackgroundRuns()
    try:
        first = service.start_run(shop, service.SegmentOptions(k=2))
        second = service.start_run(shop, service.SegmentOptions(k=4))
        done = runs.submit(first.id)
        later = runs.submit(second.id)  # one worker: it waits for the first
        assert service.cancel_run(second.id).status == "cancelled"
        assert later.result(timeout=WAIT) == "cancelled"
        assert done.result(timeout=WAIT) == "done"
    finally:
        runs.shutdown()
    never = service.get_run(second.id)
    assert never.status == "cancelled" and never.k is None and "segment_s" not in never.timings
    # cancelling a finished run changes nothing
    assert service.cancel_run(first.id).status == "done"


def test_a_viewer_may_not_cancel(shop):
    queued = service.start_run(shop, service.SegmentOptions(k=2))
    viewer = service.Actor(name="vic", role="viewer", via="app")
    with service.acting_as(viewer), pytest.raises(NotAllowedError):
        service.cancel_run(queued.id)
    assert service.get_run(queued.id).status == "queued"


def _runs_folder() -> Path:
    from segwise.config import get_settings

    return get_settings().home / "runs"
