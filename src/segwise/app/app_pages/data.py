"""Data: upload a file or choose a stored dataset; preview, column roles, cleaning report."""

from __future__ import annotations

import streamlit as st

from segwise import service
from segwise.app import cached, forms, state
from segwise.app.widgets import attempt, cleaning_report, dataset_line, names_of, plain

st.title("Data")
st.caption(
    "A transaction log (one line per product bought: customer, date, invoice, quantity, "
    "price) or a customer table (one row per customer)."
)

mode = st.radio(
    "Source", ["Upload a file", "Stored dataset"], horizontal=True, label_visibility="collapsed"
)

if mode == "Upload a file":
    uploaded = st.file_uploader("CSV, TSV, XLSX or Parquet", type=state.UPLOAD_TYPES)
    if uploaded is not None:
        attempt(state.accept_upload, uploaded.file_id, uploaded.name, uploaded.getvalue())
    path = state.source_path()
    preview = attempt(cached.file_preview, path) if path is not None and path.exists() else None
    if path is not None and preview is not None:
        st.subheader("Preview")
        kind = "transaction log" if preview.kind == "transactions" else "customer table"
        st.caption(
            f"{plain(path.name)}: {len(preview.columns)} columns, "
            f"{plain(preview.source.get('format', ''))}; reads as a **{kind}**"
        )
        st.dataframe(preview.head, hide_index=True, width="stretch", height=260)
        with st.form("roles"):
            st.subheader("Columns")
            name = st.text_input("Name", value=path.name)
            kinds = list(forms.KINDS)
            kind_choice = st.selectbox("Kind", kinds, format_func=names_of(forms.KINDS))
            st.caption("Column roles of a transaction log (detected from the headers):")
            chosen: dict[str, str | None] = {}
            role_cols = st.columns(3)
            for i, (role, words) in enumerate(forms.ROLE_LABELS.items()):
                detected = preview.roles.get(role)
                options = ([] if detected else [forms.NOT_IN_FILE]) + preview.columns
                with role_cols[i % 3]:
                    chosen[role] = st.selectbox(
                        words,
                        options,
                        index=options.index(detected) if detected in options else 0,
                        key=f"role-{role}",
                    )
            date_format = st.text_input(
                "Date format (optional)", placeholder="detected; e.g. %d-%m-%Y %H:%M"
            )
            store = st.form_submit_button("Store dataset", type="primary", icon=":material/save:")
        if store:
            with st.spinner("Reading and cleaning…"):
                info = attempt(
                    service.ingest,
                    path,
                    name=name.strip() or path.name,
                    kind=kind_choice,  # type: ignore[arg-type]
                    options=forms.rfm_options(chosen, preview.roles, date_format),
                )
            if info is not None:
                state.set_dataset(info)
else:
    stored = attempt(service.list_datasets) or []
    if not stored:
        st.info("Nothing stored yet: upload a file.", icon=":material/info:")
    else:
        by_id = {d.id: d for d in stored}
        current = state.dataset()
        ids = list(by_id)
        picked = st.selectbox(
            "Dataset",
            ids,
            index=ids.index(current.id) if current is not None and current.id in by_id else 0,
            format_func=lambda i: f"{by_id[i].name} · {by_id[i].customers:,} customers · {i}",
        )
        if picked is not None and (current is None or current.id != picked):
            state.set_dataset(by_id[picked])
        stored_file = attempt(service.dataset_file, picked) if picked else None
        head = attempt(cached.file_preview, stored_file) if stored_file else None
        if head is not None:
            st.dataframe(head.head, hide_index=True, width="stretch", height=260)

info = state.dataset()
if info is not None:
    st.subheader("Cleaning report")
    st.markdown(dataset_line(info))
    cleaning_report(info)
    st.page_link(
        "app_pages/segments.py", label="Next: find segments", icon=":material/arrow_forward:"
    )
elif mode == "Upload a file" and state.source_path() is None:
    st.caption(
        "No file yet. An export of your shop's orders works (one line per product bought, "
        "e.g. an Online-Retail-style CSV), as does a table with one row per customer."
    )
