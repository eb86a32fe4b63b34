"""Segments: choose features and k, run with progress; charts, segment cards, downloads."""

from __future__ import annotations

import streamlit as st

from segwise import service
from segwise.app import cached, exports, figures, forms, state
from segwise.app.widgets import attempt, chart, dataset_line, require_dataset, segment_card
from segwise.report.html import segment_cards

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
    with st.status("Finding segments…", expanded=True) as status:
        done = attempt(
            service.run_segment,
            info.id,
            options,
            classifier=surrogate,
            progress=lambda step: status.update(label=f"{step.capitalize()}…"),
        )
        if done is None:
            status.update(label="Stopped", state="error")
        else:
            run, seg = done
            state.set_run(run.id, seg)
            status.update(label=f"{seg.k} segments found (run {run.id})", state="complete")

latest = state.segmentation()
if latest is None:
    st.stop()
run_id, seg = latest
summary = seg.summary()
charts = state.figure_store(run_id)
if not charts:
    charts.update(figures.report_figures(seg))

cols = st.columns(3)
cols[0].metric("Customers", f"{summary['customers']:,}")
cols[1].metric("Segments", summary["k"])
cols[2].metric("Stability", f"{summary['stability']['mean_ari']:.2f}", help="mean adjusted Rand")
st.caption(summary["k_reason"])
if learned := summary.get("classifier"):
    st.caption(
        f"A classifier trained on these segments names the right one for "
        f"{learned['accuracy']:.0%} of customers it did not see (macro F1 "
        f"{learned['macro_f1']:.2f}): the lower, the more the segments blur into each other."
    )
if summary["stability"].get("warning"):
    st.warning(summary["stability"]["warning"], icon=":material/warning:")

st.subheader("Segment cards")
card_cols = st.columns(3)
for i, card in enumerate(segment_cards(seg)):
    with card_cols[i % 3]:
        segment_card(card)

st.subheader("Segment sizes")
chart(charts["sizes"], key="sizes")
st.subheader("Profiles")
st.caption("How far each segment's mean sits from all customers' (z-score).")
chart(charts["profiles"], key="profiles")
st.subheader("Segment map")
view = st.radio("View", ["2-D", "3-D"], horizontal=True, label_visibility="collapsed")
chart(charts["map3d"] if view == "3-D" and "map3d" in charts else charts["map2d"], key="map")
if "k" in charts:
    st.subheader("Number of segments")
    st.caption("Inertia with the elbow marked, silhouette on the right axis; the chosen k shaded.")
    chart(charts["k"], key="k")
if "rfm" in charts:
    st.subheader("RFM grid")
    chart(charts["rfm"], key="rfm")

st.subheader("Downloads")
down = st.columns(3)
for column, suffix in zip(down[:2], (".csv", ".xlsx"), strict=True):
    column.download_button(
        f"Customers with segments ({suffix[1:].upper()})",
        data=exports.later_table(seg.assignments, suffix),
        file_name=f"segments-{run_id}{suffix}",
        mime=exports.MIME[suffix],
        on_click="ignore",
        icon=":material/download:",
        width="stretch",
    )
down[2].download_button(
    "HTML report",
    data=exports.later_report(seg, f"Customer segments of {info.name}"),
    file_name=f"report-{run_id}.html",
    mime=exports.MIME[".html"],
    on_click="ignore",
    icon=":material/description:",
    width="stretch",
)
