"""Runs in the background of the dashboard's server: one executor per server process, and the
strip at the top of every page that shows what is working, with a Cancel button.

A page records a queued run in the catalog and hands it to ``runner()``; the run goes on
while the user clicks elsewhere, reloads or signs out. The strip polls every few seconds only
while a run is queued or running, and reruns the whole page once a run the session started
has ended, so its result appears wherever the user is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from segwise import service
from segwise.app import state
from segwise.app.messages import say
from segwise.app.widgets import attempt, plain
from segwise.config import get_settings
from segwise.errors import SegwiseError

if TYPE_CHECKING:
    from segwise.service import BackgroundRuns, RunInfo

POLL_SECONDS = 2
WATCHING = "background_watching"  # run ids this session started and has not yet seen end


def runner() -> BackgroundRuns:
    """The server process's executor of background runs (shared by every session)."""
    return _runner(str(get_settings().home))


@st.cache_resource(show_spinner=False)
def _runner(home: str) -> BackgroundRuns:
    return service.BackgroundRuns()


def start(run_id: str) -> None:
    """Execute a recorded (queued) run in the background and look at it in this session."""
    runner().submit(run_id)
    state.set_run(run_id)
    st.session_state.setdefault(WATCHING, set()).add(run_id)


def active_runs() -> list[RunInfo]:
    """Runs queued or running now (anyone's), oldest first."""
    runs = service.list_runs()
    return [r for r in reversed(runs) if r.status in ("queued", "running")]


def strip() -> None:
    """What is working now, at the top of the page; polls only while something is."""
    if not service.allowed("read"):
        return
    if active_runs():
        st.fragment(run_every=POLL_SECONDS)(_strip_body)()
    else:
        _ended_note()


def _strip_body() -> None:
    working = active_runs()
    if not working:  # the last one just ended: show its outcome on the whole page
        st.rerun(scope="app")
    for run in working:
        stage = runner().stage(run.id).stage or ("waiting" if run.status == "queued" else "")
        with st.container(border=True, horizontal=True, vertical_alignment="center"):
            st.markdown(
                f":material/autorenew: Finding segments of **{plain(run.dataset_name)}** "
                f"(run {run.id}){': ' + stage if stage else ''}…",
                width="stretch",
            )
            if service.allowed("run") and st.button(
                "Cancel", key=f"cancel-{run.id}", icon=":material/cancel:"
            ):
                _cancel(run.id)


def _cancel(run_id: str) -> None:
    if attempt(service.cancel_run, run_id) is not None:
        st.rerun(scope="app")


def _ended_note() -> None:
    """Once per run this session started: how it ended, with a way to its result."""
    watching: set[str] = st.session_state.get(WATCHING, set())
    for run_id in sorted(watching):
        try:
            run = service.get_run(run_id)
        except SegwiseError:  # erased meanwhile: nothing to say
            watching.discard(run_id)
            continue
        if run.status in ("queued", "running"):
            continue
        watching.discard(run_id)
        if run.status == "done":
            st.success(f"Run {run.id} is done: {run.k} segments found.", icon=":material/done:")
        elif run.status == "cancelled":
            st.info(f"Run {run.id} was cancelled.", icon=":material/cancel:")
        else:
            st.error(
                f"Run {run.id} stopped: {say(run.error or 'it failed')}", icon=":material/error:"
            )
