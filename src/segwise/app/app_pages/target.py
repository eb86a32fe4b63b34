"""Target: train a predictor of a business column of a customer table, and see how good it is."""

from __future__ import annotations

import streamlit as st

from segwise import service
from segwise.app import cached, exports, figures, forms, state
from segwise.app.widgets import attempt, chart, dataset_line, plain, require_dataset, table

info = require_dataset()
st.title("Target")
st.markdown(dataset_line(info))
if info.kind == "transactions":
    st.info(
        "A target model learns a business column of a customer table (e.g. 'would recommend "
        "us', graded A-D). Upload such a table on the Data page.",
        icon=":material/info:",
    )
    st.stop()

stored_file = attempt(service.dataset_file, info.id)
head = attempt(cached.file_preview, stored_file) if stored_file else None
if stored_file is None or head is None:
    st.stop()
columns = [c for c in head.columns if c != "customer_id"]

with st.form("target"):
    target = st.selectbox("Column to predict", columns, index=None, placeholder="choose a column")
    features = st.multiselect(
        "Use these columns", columns, placeholder="all the others (ids left out)"
    )
    train = st.form_submit_button("Train", type="primary", icon=":material/model_training:")

if train and target is None:
    st.warning("Choose the column to predict.", icon=":material/warning:")
elif train and target is not None:
    with st.status(f"Training a predictor of {target}…", expanded=False) as status:
        trained = attempt(
            service.train_target_model,
            stored_file,
            target,
            features=[f for f in features if f != target] or None,
        )
        scored = attempt(service.target_predictions, *trained) if trained else None
        if trained is None or scored is None:
            status.update(label="Stopped", state="error")
        else:
            pipeline, report, _ = trained
            state.set_target_model(state.TargetModel(info.id, pipeline, report, scored))
            status.update(label=f"Trained: {forms.model_words(report.model)}", state="complete")

model = state.target_model()
if model is None or model.dataset != info.id:
    st.stop()
summary = model.report.to_dict()
predictions = model.predictions
st.subheader(f"Predicting {plain(summary['target'])}")
cols = st.columns(3)
cols[0].metric("Accuracy", f"{summary['accuracy']:.1%}")
cols[1].metric("Macro F1", f"{summary['macro_f1']:.2f}", help="mean F1 over the classes")
cols[2].metric(
    "Model",
    forms.model_words(summary["model"]),
    help=f"classes: {forms.STRATEGIES.get(summary['strategy'], summary['strategy'])}",
)
rows = summary["rows"]
st.caption(
    f"Scored on {rows['test']:,} held-out rows the model never saw ({rows['train']:,} to learn "
    f"from); {summary['cv_folds']}-fold cross-validation chose the model."
)
for note in summary["notes"]:
    st.caption(plain(note))
for warning in summary["warnings"]:
    st.warning(plain(warning), icon=":material/warning:")

st.subheader("Confusion matrix")
chart(figures.confusion_chart(summary["confusion_matrix"], summary["classes"]), key="confusion")
st.subheader("What drives it")
chart(figures.importance_chart(summary["importance"]), key="importance")
table(summary["per_class"])

st.subheader("Per-customer predictions")
st.caption("Every row of the table, including those the model learned from.")
st.dataframe(
    forms.yes_no_columns(predictions.head(500)), hide_index=True, width="stretch", height=320
)
down = st.columns(2)
for column, suffix in zip(down, (".csv", ".xlsx"), strict=True):
    column.download_button(
        f"Predictions ({suffix[1:].upper()})",
        data=exports.later_table(lambda: predictions, suffix),
        file_name=f"predictions-{summary['target']}{suffix}",
        mime=exports.MIME[suffix],
        on_click="ignore",
        icon=":material/download:",
        width="stretch",
    )
