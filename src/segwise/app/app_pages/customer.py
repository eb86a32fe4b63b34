"""Customer: look one customer up in a run: segment, advice, RFM, value, standing in the
segment and among all, distributions with the customer marked, history, products."""

from __future__ import annotations

import streamlit as st

from segwise import service
from segwise.app import cached, customer_view, figures, state
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
        st.caption(f"Customers of this run include {customer_view.examples(known)}.")
    st.stop()

found = attempt(service.lookup_customer, run_id, wanted)
known = attempt(cached.assignments, run_id)
if found is None:
    if known is not None and len(known):
        st.caption(f"Customers of this run include {customer_view.examples(known)}.")
    st.stop()

segment = int(found["segment"])
with st.container(border=True):
    st.subheader(f"Customer {plain(found['customer_id'])}")
    st.markdown(f"Segment **{plain(found['segment_name'])}** (segment {segment})")
    if found.get("recommendation"):
        st.markdown(f":material/lightbulb: {plain(found['recommendation'])}")
rfm = found.get("rfm")
if rfm:
    cols = st.columns(4)
    cols[0].metric("R score", rfm.get("r_score"))
    cols[1].metric("F score", rfm.get("f_score"))
    cols[2].metric("M score", rfm.get("m_score"))
    cols[3].metric("RFM segment", rfm.get("rfm_segment") or "–", help=f"code {rfm.get('rfm_code')}")
if numbers := customer_view.value_numbers(found):
    st.subheader("Value")
    value_cols = st.columns(len(numbers))
    for column, (words, shown, meaning) in zip(value_cols, numbers, strict=True):
        column.metric(words, shown, help=meaning)

features = customer_view.plain_features(found)
in_segment = service.segment_standing(known, segment, features) if known is not None else {}
st.subheader("Features and standing")
st.caption(
    f"In segment: the share of the {plain(found['segment_name'])} customers with a lower "
    "value; among all: the same among every customer of this run."
)
standing = found.get("standing", {})
table(
    [
        {
            "feature": name,
            "value": value,
            "in segment": in_segment.get(name),
            "among all": standing.get(name),
        }
        for name, value in features.items()
    ],
    **{
        column: st.column_config.ProgressColumn(column, min_value=0, max_value=100, format="%.0f")
        for column in ("in segment", "among all")
    },
)

drawn = customer_view.distributed(found, found.get("kind") or customer_view.kind_of(known))
if known is not None and drawn:
    st.subheader(f"Against the {plain(found['segment_name'])} segment")
    dist_cols = st.columns(len(drawn))
    for i, (column, feature) in enumerate(zip(dist_cols, drawn, strict=True)):
        with column:
            chart(
                figures.distribution_chart(
                    customer_view.segment_values(known, segment, feature),
                    float(features[feature]),
                    feature,
                    str(found["segment_name"]),
                    i,
                ),
                key=f"distribution-{feature}",
            )

history = found.get("history")
if history:
    st.subheader("Purchases by month")
    chart(figures.history_chart(history), key="history")
if found.get("top_products"):
    st.subheader("Top products")
    table(customer_view.product_rows(found["top_products"]))
