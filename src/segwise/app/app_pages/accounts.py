"""Accounts: who may sign in, with which role; add one, disable or enable one (admins)."""

from __future__ import annotations

import streamlit as st

from segwise import service
from segwise.app.widgets import attempt, table

st.title("Accounts")
st.caption(
    "Viewers see runs and segments; analysts also upload, run, download, look customers up "
    "and predict; admins also manage accounts and read the audit log."
)
users = attempt(service.list_users) or []
table([u.to_dict() for u in users])

with st.form("add-account", clear_on_submit=True):
    st.subheader("Add an account")
    name = st.text_input("Name")
    role = st.selectbox("Role", ["viewer", "analyst", "admin"])
    password = st.text_input("Password", type="password", help="10 characters or more.")
    again = st.text_input("Password again", type="password")
    add = st.form_submit_button("Add account", type="primary")
if add:
    if password != again:
        st.error("The two passwords differ.", icon=":material/error:")
    elif attempt(service.add_user, name.strip(), role, password) is not None:
        st.success(f"Account {name.strip()} added ({role}).", icon=":material/check:")
        st.rerun()

if users:
    st.subheader("Disable or enable an account")
    cols = st.columns([3, 1, 1], vertical_alignment="bottom")
    picked = cols[0].selectbox("Account", [u.name for u in users])
    if cols[1].button("Disable", width="stretch"):
        attempt(service.disable_user, picked)
        st.rerun()
    if cols[2].button("Enable", width="stretch"):
        attempt(service.disable_user, picked, enable=True)
        st.rerun()
