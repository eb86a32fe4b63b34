"""Campaigns: choose segments of a run, keep a control group, download the audience, and read
out next month's log (who bought again, spend, RFM score; uplift with its 95% interval)."""

from __future__ import annotations

from datetime import date

import streamlit as st

from segwise import service
from segwise.app import exports, figures, state
from segwise.app.widgets import attempt, chart, names_of, plain, run_picker, table

REPORT = "campaign_report"

st.title("Campaigns")
st.caption(
    "A campaign keeps a random control group of each chosen segment: they do not get the "
    "message, so next month's purchases show what the message changed."
)

campaigns = attempt(service.list_campaigns) or []
with st.expander("New campaign", expanded=not campaigns):
    run_id = run_picker("Run whose segments to use")
    if run_id is not None:
        segments = attempt(service.run_segments, run_id) or []
        with st.form("new-campaign", clear_on_submit=False):
            name = st.text_input("Name", placeholder="e.g. Dec win-back", max_chars=200)
            chosen = st.multiselect(
                "Segments",
                [s["name"] for s in segments],
                help="Their customers are split into treatment (who get the message) and "
                "control (who do not).",
            )
            control = st.slider("Control group", 0.05, 0.5, 0.1, 0.05, format="%.2f")
            start = st.date_input(  # any past day: a campaign already run can be read out
                "Start", value=date.today(), min_value=date(1990, 1, 1), max_value=date(2100, 1, 1)
            )
            message = st.text_area("Message or offer", max_chars=10_000)
            seed = st.number_input("Seed (0: random)", min_value=0, value=0, step=1)
            create = st.form_submit_button("Create", type="primary", icon=":material/campaign:")
        if create:
            if not name.strip() or not chosen:
                st.warning("Give the campaign a name and choose at least one segment.")
            else:
                made = attempt(
                    service.create_campaign,
                    run_id,
                    chosen,
                    name=name,
                    control=float(control),
                    start=start if isinstance(start, date) else None,
                    message=message,
                    seed=int(seed) or None,
                )
                if made is not None:
                    campaigns = [made, *campaigns]
                    st.success(
                        f"Campaign {plain(made.name)}: {made.treatment:,} customers get the "
                        f"message, {made.control:,} are the control group."
                    )

if not campaigns:
    st.info("No campaigns yet: create one above.", icon=":material/info:")
    st.stop()

table(
    [
        {
            "campaign": c.name,
            "segments": ", ".join(c.segments),
            "start": c.start.isoformat(),
            "treatment": c.treatment,
            "control": c.control,
            "control share": f"{c.control_share:.0%}",
            "message": c.message,
        }
        for c in campaigns
    ]
)
names = {
    c.name: f"{c.name} · starts {c.start} · {c.treatment:,} + {c.control:,}" for c in campaigns
}
picked = st.selectbox("Campaign", list(names), format_func=names_of(names), key="campaign")
if picked is None:
    st.stop()

st.subheader("Audience")
st.caption(
    "The customers who get the message, with their segment and its advice; the control "
    "group is never in it."
)
cols = st.columns(2)
for col, suffix in zip(cols, (".csv", ".xlsx"), strict=True):
    col.download_button(
        f"Download {suffix[1:].upper()}",
        data=exports.later_table(lambda: service.campaign_audience(picked), suffix),
        file_name=f"audience{suffix}",
        mime=exports.MIME[suffix],
        icon=":material/download:",
        key=f"audience{suffix}",
    )

st.subheader("Did it work?")
logs = [d for d in (attempt(service.list_datasets) or []) if d.kind == "transactions"]
stored = {d.id: f"{d.name} · {d.customers:,} customers · {d.id}" for d in logs}
with st.form("read-out"):
    after = st.selectbox(
        "The log after the start",
        list(stored),
        format_func=names_of(stored),
        index=None,
        placeholder="a stored log",
    )
    upload = st.file_uploader("or upload it", type=state.UPLOAD_TYPES)
    read = st.form_submit_button("Read out", type="primary", icon=":material/analytics:")
if read:
    source: str | None = after
    if upload is not None:
        saved = attempt(state.save_upload, upload.name, upload.getvalue())
        source = str(saved) if saved is not None else None
    elif after is None:
        st.warning("Choose the log of the time after the start, or upload it.")
    if source is not None:
        found = attempt(service.campaign_report, picked, source)
        if found is not None:
            st.session_state[REPORT] = (picked, found.to_dict())

shown = st.session_state.get(REPORT)
if not shown or shown[0] != picked:
    st.stop()
report = shown[1]
window = report["window"]
st.caption(f"Purchases from {window['from']} to {window['to']}; earlier lines are not counted.")
for group in report["groups"]:
    st.markdown(f"**{plain(group['segment'])}**: {plain(group['summary'])}")
chart(figures.uplift_chart(report["groups"]), key="uplift")
table(
    [
        {
            "group": g["segment"],
            "measure": m["measure"],
            "treatment": m["treatment"],
            "control": m["control"],
            "uplift": m["uplift"],
            "95% low": m["ci_low"],
            "95% high": m["ci_high"],
            "verdict": m["verdict"],
        }
        for g in report["groups"]
        for m in g["measures"].values()
    ]
)
