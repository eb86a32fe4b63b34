"""History: every run with its data and settings; compare two runs (migration and drift)."""

from __future__ import annotations

import streamlit as st

from segwise import service
from segwise.app import figures
from segwise.app.app_pages.alerts_section import show_alerts
from segwise.app.messages import say
from segwise.app.widgets import attempt, chart, names_of, plain, table

st.title("History")
runs = attempt(service.list_runs) or []
if not runs:
    st.info("No runs yet: find segments first.", icon=":material/info:")
    if service.allowed("run"):
        st.page_link(
            "app_pages/segments.py", label="Go to Segments", icon=":material/bubble_chart:"
        )
    st.stop()

table(
    [
        {
            "run": r.id,
            "status": r.status if r.status != "failed" else f"failed: {say(r.error or '')[:80]}",
            "data": r.dataset_name,
            "kind": r.kind,
            "k": r.k,
            "asked": "auto" if r.params.get("k") == "auto" else f"k={r.params.get('k')}",
            "features": ", ".join(r.params.get("features") or []) or "all usable",
            "seed": r.params.get("seed"),
            "created": f"{r.created:%Y-%m-%d %H:%M}",
            "seconds": round(sum(v for v in r.timings.values() if isinstance(v, int | float)), 1),
        }
        for r in runs
    ]
)
show_alerts()

done = [r for r in runs if r.status == "done"]
names = {r.id: f"{r.dataset_name} · k={r.k} · {r.created:%m-%d %H:%M} · {r.id}" for r in done}
ids = list(names)
if done:
    with st.expander("Segments of a run"):
        shown = st.selectbox("Run", ids, format_func=names_of(names), key="history-run")
        segments = attempt(service.run_segments, shown) if shown else None
        if segments:
            table(
                [
                    {
                        "segment": s["segment"],
                        "name": s["name"],
                        "customers": s["size"],
                        "share": f"{s['share']:.1%}",
                        "advice": s["recommendation"],
                    }
                    for s in segments
                ]
            )

st.subheader("Compare two runs")
if len(done) < 2:
    st.caption("Two finished runs are needed, e.g. last month's log and this month's.")
    st.stop()
# by default the newest run against the newest earlier one of the same data (its dataset,
# else the same kind: a log against a log), never a log against a customer table
newest = done[0]
alike = [r for r in done[1:] if r.dataset == newest.dataset] or [
    r for r in done[1:] if r.kind == newest.kind
]
cols = st.columns(2)
earlier = cols[0].selectbox(
    "Earlier run",
    ids,
    index=ids.index(alike[0].id) if alike else 1,
    format_func=names_of(names),
)
later = cols[1].selectbox("Later run", ids, index=0, format_func=names_of(names))
if earlier == later:
    st.caption("Choose two different runs.")
    st.stop()
compared = attempt(service.compare_runs, earlier, later)
if compared is None:
    st.stop()
people = compared["customers"]
if people["shared"] == 0:
    st.warning(
        "These two runs have no customer in common, so nobody moved between them: they are "
        "of different data. Choose two runs of the same customers, e.g. last month's log and "
        "this month's.",
        icon=":material/compare_arrows:",
    )
    st.stop()
counts = st.columns(4)
counts[0].metric("In both", f"{people['shared']:,}")
counts[1].metric("Same segment name", f"{people['same_segment_name']:,}")
counts[2].metric("New", f"{people['new']:,}")
counts[3].metric("Gone", f"{people['lost']:,}")
st.markdown("**Who moved**")
chart(figures.migration_chart(compared["migration"]), key="migration")
for move in compared["moves"]:
    st.markdown(f"- {plain(move['text'])}")
if compared["drift"]:
    st.markdown("**What drifted** (population stability index per feature)")
    drift = compared["drift"]
    shifted = [plain(f) for f, v in drift.items() if v is not None and v > figures.PSI_SHIFTED]
    st.caption(
        f"Shifted: {', '.join(shifted)}." if shifted else "No feature shifted (all PSI ≤ 0.25)."
    )
    chart(figures.drift_chart(compared["drift"]), key="drift")
