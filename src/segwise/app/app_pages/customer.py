"""Customer: look one customer up in a run: segment, advice, RFM, standing, history."""

from __future__ import annotations

import streamlit as st

from segwise import service
from segwise.app import cached, figures, state
from segwise.app.widgets import attempt, chart, plain, run_picker, table

st.title("Customer")
run_id = run_picker()
if run_id is None:
    st.stop()

if "customer-input" not in st.session_state:  # back on the page: the last id asked
    st.session_state["customer-input"] = st.session_state.get(state.CUSTOMER, "")
with st.form("lookup"):
    query = st.text_input("Customer id", key="customer-input", placeholder="e.g. 12583")
    look = st.form_submit_button("Look up", type="primary", icon=":material/search:")
if look:
    st.session_state[state.CUSTOMER] = query.strip()
wanted = st.session_state.get(state.CUSTOMER, "")
if not wanted:
    known = attempt(cached.assignments, run_id)
    if known is not None and len(known):
        shown = (str(c).replace("`", "'") for c in known["customer_id"].head(5))
        examples = ", ".join(f"`{c}`" for c in shown)  # code spans: ids shown as typed
        st.caption(f"Customers of this run include {examples}.")
    st.stop()

found = attempt(service.lookup_customer, run_id, wanted)
if found is None:
    st.stop()

with st.container(border=True):
    st.subheader(f"Customer {plain(found['customer_id'])}")
    st.markdown(f"Segment **{plain(found['segment_name'])}** (segment {found['segment']})")
    if found.get("recommendation"):
        st.markdown(f":material/lightbulb: {plain(found['recommendation'])}")
rfm = found.get("rfm")
if rfm:
    cols = st.columns(4)
    cols[0].metric("R score", rfm.get("r_score"))
    cols[1].metric("F score", rfm.get("f_score"))
    cols[2].metric("M score", rfm.get("m_score"))
    cols[3].metric("RFM segment", rfm.get("rfm_segment") or "–", help=f"code {rfm.get('rfm_code')}")

st.subheader("Features and standing")
st.caption("Percentile: the share of this run's customers with a lower value.")
standing = found.get("standing", {})
table(
    [
        {"feature": name, "value": value, "percentile": standing.get(name)}
        for name, value in found["features"].items()
    ],
    percentile=st.column_config.ProgressColumn(
        "percentile", min_value=0, max_value=100, format="%.0f"
    ),
)

history = found.get("history")
if history:
    st.subheader("Purchases by month")
    chart(figures.history_chart(history), key="history")
if found.get("top_products"):
    st.subheader("Top products")
    table(found["top_products"])
