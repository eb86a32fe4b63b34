"""Segments: choose features and k, start a run in the background; open any stored run:
charts, segment cards, downloads."""

from __future__ import annotations

import streamlit as st

from segwise import service
from segwise.app import background, cached, forms, run_view, state
from segwise.app.messages import say
from segwise.app.widgets import attempt, dataset_line, names_of, plain, require_dataset


def _status(status: str, k: int | None) -> str:
    return f"k={k}" if status == "done" else status


info = require_dataset()
st.title("Segments")
st.markdown(dataset_line(info))

if info.kind == "transactions":
    choices = forms.RFM_FEATURES
    st.caption("A transaction log is segmented on recency, frequency and monetary (RFM).")
else:
    stored_file = attempt(service.dataset_file, info.id)
    head = attempt(cached.file_preview, stored_file) if stored_file else None
    choices = [c for c in (head.columns if head else []) if c != "customer_id"]

with st.form("segment"):
    features = st.multiselect(
        "Features",
        choices,
        default=choices if info.kind == "transactions" else [],
        placeholder="all usable columns",
        help="Leave empty to let segwise use every usable column (ids and constants are left "
        "out, text answers coded).",
    )
    outcomes = None
    if info.kind != "transactions":
        outcomes = st.multiselect(
            "Outcomes (described per segment, not clustered on)",
            choices,
            default=[c for c in choices if service.looks_like_outcome(c) and c not in features],
            help="Results to explain with the segments (churn, card accepted, status...): "
            "each segment shows their rates. Clear this to cluster on them too.",
        )
    auto = st.toggle("Choose the number of segments automatically", value=True)
    k = st.slider("Number of segments (when not automatic)", 2, 12, 4)
    with st.expander("More settings"):
        k_max = st.slider("Largest number tried automatically", 3, 15, 10)
        min_percent = st.slider(
            "Smallest segment worth having (% of customers)",
            0,
            20,
            3,
            help="When choosing automatically, a number of segments that would leave a "
            "segment smaller than this is not chosen.",
        )
        seed = st.number_input("Random seed (same seed, same segments)", 0, 2**31 - 1, 0)
        bins = 5
        if info.kind == "transactions":
            bins = st.radio("RFM scores from 1 to", [5, 4], horizontal=True)
        surrogate = st.toggle(
            "Also check how learnable the segments are (trains a classifier; slower)",
            value=False,
            help="A random forest learns the segments; how often it gets them right on "
            "customers it did not see appears below. Customers are always placed by the "
            "segments themselves.",
        )
    go = st.form_submit_button("Find segments", type="primary", icon=":material/play_arrow:")

if go:
    options = forms.segment_options(
        kind=info.kind,
        features=features,
        outcomes=outcomes,
        k=None if auto else k,
        k_max=k_max,
        min_percent=float(min_percent),
        seed=int(seed),
        bins=int(bins),
    )
    queued = attempt(service.start_run, info.id, options, classifier=surrogate)
    if queued is not None:
        background.start(queued.id)
        st.rerun()  # the strip at the top follows it from now on, on every page

runs = attempt(service.list_runs) or []
current = state.run_id()
shown = [r for r in runs if r.status == "done" or r.id == current]
if not shown:
    st.stop()
names = {
    r.id: f"{r.dataset_name} · {_status(r.status, r.k)} · {r.created:%Y-%m-%d %H:%M} · {r.id}"
    for r in shown
}
ids = list(names)
mine = [r.id for r in shown if r.dataset == info.id]
start_at = current if current in names else (mine[0] if mine else ids[0])
picked = st.selectbox("Run shown", ids, index=ids.index(start_at), format_func=names_of(names))
if picked is None:
    st.stop()
if picked != current:
    state.set_run(picked)
run = next(r for r in shown if r.id == picked)
if run.status in ("queued", "running"):
    st.info(
        "This run is working: its progress shows at the top of every page, and its result "
        "appears here when it is done. You may leave this page meanwhile.",
        icon=":material/hourglass_top:",
    )
elif run.status == "cancelled":
    st.info("This run was cancelled.", icon=":material/cancel:")
elif run.status != "done":
    st.error(f"This run stopped: {say(run.error or 'it failed')}", icon=":material/error:")
else:
    finished = f" at {run.finished:%Y-%m-%d %H:%M}" if run.finished else ""
    st.caption(f"Run {run.id} · done{finished} · {plain(run.dataset_name)}")
    run_view.show(
        run, background.runner().result(run.id), f"Customer segments of {run.dataset_name}"
    )
