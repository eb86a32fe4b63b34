"""Dashboard runs that survive a click: started in the background, shown on any page and
after a reload (the address carries the dataset and the run), cancelled by a button, and any
stored run opened on the Segments page. In-process with ``AppTest``; the browser test does
the same with a real reload."""

from __future__ import annotations

import html
import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from run_waiting import wait_until_ended
from segwise import service
from segwise.app import background, state
from segwise.demo import generate_log, write_log
from segwise.service import segments as segments_module

ENTRY = Path(state.__file__).parent / "streamlit_app.py"
TIMEOUT = 180


@pytest.fixture
def shop(tmp_path: Path) -> service.DatasetInfo:
    """A stored demo log with planted segments."""
    path = write_log(generate_log(250, seed=8).lines, tmp_path / "shop.csv")
    return service.ingest(path, name="shop")


def app(**query: str) -> AppTest:
    at = AppTest.from_file(str(ENTRY), default_timeout=TIMEOUT)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def open_page(at: AppTest, page: str) -> AppTest:
    return at.switch_page(f"app_pages/{page}.py").run()


def click(at: AppTest, label: str) -> AppTest:
    [button] = [b for b in at.button if b.label == label]
    return button.click().run()


def headings(at: AppTest) -> list[str]:
    return [str(s.value) for s in at.subheader]


def test_a_run_goes_on_while_the_user_is_elsewhere_and_shows_after_a_reload(shop):
    at = open_page(app(dataset=shop.id), "segments")
    assert not at.exception and "Find segments" in [b.label for b in at.button]
    at = click(at, "Find segments")
    run_id = at.session_state[state.RUN]
    assert at.query_params["run"] == run_id and at.query_params["dataset"] == shop.id
    at = open_page(at, "history")  # leave the page: the run goes on
    assert not at.exception
    assert wait_until_ended(run_id) == "done"
    # a reload is a new session: the address brings the dataset and the run back
    again = open_page(app(dataset=shop.id, run=run_id), "segments")
    assert not again.exception
    assert again.session_state[state.DATASET].id == shop.id
    assert again.selectbox[0].value == run_id  # "Run shown"
    seg = background.runner().result(run_id)
    assert seg is not None
    for name in seg.names:
        assert any(name in str(m.value) for m in again.markdown)  # its cards
    assert {"Segment sizes", "Profiles", "Segment map", "RFM grid"} <= set(headings(again))
    # the run's address alone brings its dataset too
    only_run = open_page(app(run=run_id), "segments")
    assert only_run.session_state[state.DATASET].id == shop.id


def test_any_stored_run_opens_on_the_segments_page(shop):
    run, seg = service.run_segment(shop.id, service.SegmentOptions(k=3))  # as the CLI does
    at = open_page(app(dataset=shop.id), "segments")
    assert not at.exception
    assert at.selectbox[0].value == run.id  # the newest run of this dataset
    shown = "\n".join(str(m.value) for m in at.markdown)
    for name, profile in zip(seg.names, seg.profiles, strict=True):
        assert name in shown and f"**{profile.size:,}** customers" in shown
    assert "Segment sizes" in headings(at) and "Profiles" not in headings(at)
    labels = [d.label for d in at.download_button]
    assert labels == ["Customers with segments (CSV)", "Customers with segments (XLSX)"]


def test_cancel_in_the_strip_stops_the_run(shop, monkeypatch):
    started, release = threading.Event(), threading.Event()
    real = segments_module.segment

    def held(*args, **kwargs):  # the run waits in its first stage until the test says
        started.set()
        release.wait(TIMEOUT)
        return real(*args, **kwargs)

    monkeypatch.setattr(segments_module, "segment", held)
    at = open_page(app(dataset=shop.id), "segments")
    at = click(at, "Find segments")
    run_id = at.session_state[state.RUN]
    assert started.wait(TIMEOUT)
    at = open_page(at, "data")  # the strip shows on every page, with the Cancel button
    assert any(f"(run {run_id})" in str(m.value) for m in at.markdown)
    at = click(at, "Cancel")
    assert service.get_run(run_id).status == "cancelled"
    assert f"Run {run_id} was cancelled." in [str(i.value) for i in at.info]
    release.set()
    assert wait_until_ended(run_id) == "cancelled"
    at = open_page(at, "segments")
    assert not at.exception
    assert "This run was cancelled." in [str(i.value) for i in at.info]
    assert not list((_home() / "runs").glob(f"*{run_id}*"))


def _home() -> Path:
    from segwise.config import get_settings

    return get_settings().home


def test_the_rfm_grid_on_a_phone_keeps_every_cell_and_customer(shop):
    from segwise.app import figures

    _, seg = service.run_segment(shop.id, service.SegmentOptions(k=3))
    grid = figures.report_figures(seg)["rfm"]
    compact = figures.rfm_compact(grid)
    rows = figures.rfm_cell_list(grid)
    assert sum(r["customers"] for r in rows) == shop.customers
    tags = {r["segment"]: r["tag"] for r in rows}
    assert len(set(tags.values())) == len(tags)  # one tag, one segment
    assert all(len(tag) <= 3 for tag in tags.values())
    # each cell of the compact grid: its segment's tag and the same count as the full grid
    for full, short in zip(grid.data[0].text, compact.data[0].text, strict=True):
        for cell, tagged in zip(full, short, strict=True):
            *name, count = cell.split("<br>")
            tag, shown = tagged.split("<br>")
            assert shown == count
            if count != "0":
                assert tag == tags[html.unescape(" ".join(name))]
    assert compact.data[0].showscale is False
