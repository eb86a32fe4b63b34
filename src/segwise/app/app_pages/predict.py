"""Predict: a form built from a run's model (its inputs, ranges and answers) -> segment."""

from __future__ import annotations

import streamlit as st

from segwise import service
from segwise.app import cached, forms, state
from segwise.app.widgets import attempt, plain, prediction_card, run_picker
from segwise.report.charts import color

st.title("Predict")
st.caption("Place a new customer in a run's segments: fill in what you know, then predict.")
run_id = run_picker()
if run_id is None:
    st.stop()
predictor = attempt(cached.predictor, run_id)
if predictor is None:
    st.stop()

prefix = f"predict-{run_id}-"


def _label(field: forms.InputField) -> str:
    return plain(field.name) + (f" ({field.unit})" if field.unit else "")


fields = forms.input_fields(predictor.manifest.features, predictor.typical_inputs())
with st.form("predict"):
    values: dict[str, object] = {}
    for field in fields:
        if field.kind == "number":
            # no bounds on the widget: a value outside the training range is placed with a
            # note, one far outside is refused with a message (never a silently red field)
            values[field.name] = st.number_input(
                _label(field),
                value=field.value,
                step=field.step,
                format=field.format,
                key=prefix + field.name,
                help=field.range_words,
            )
        else:
            values[field.name] = st.selectbox(
                _label(field), field.options, index=field.index, key=prefix + field.name
            )
    submitted = st.form_submit_button("Predict", type="primary", icon=":material/bolt:")

if st.button("Reset", icon=":material/restart_alt:"):
    state.forget(prefix)
    st.session_state.pop(state.PREDICTION, None)
    st.rerun()

if submitted:
    st.session_state.pop(state.PREDICTION, None)  # never an answer to other values
    result = attempt(forms.predict_one, predictor, values)
    if result is not None:
        st.session_state[state.PREDICTION] = (run_id, result)
        service.record_event("predict", run_id, {"customers": 1})

shown = st.session_state.get(state.PREDICTION)
if shown is not None and shown[0] == run_id:
    labels = predictor.manifest.labels
    prediction_card(shown[1], {int(label): color(i) for i, label in enumerate(labels)})
