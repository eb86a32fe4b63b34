"""Audit: who did what and when (admins)."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from segwise import service
from segwise.app.widgets import attempt, table

st.title("Audit")
st.caption(
    "Sign-ins, uploads, runs, downloads, customer look-ups (a customer is named by a code, "
    "never by the id), predictions, erasures and account changes."
)
cols = st.columns(2)
since = cols[0].date_input("From", value=dt.date.today() - dt.timedelta(days=7))
user = cols[1].text_input("Only this account", value="")
found = attempt(service.audit_events, since=since, user=user.strip() or None) or []
if not found:
    st.info("Nothing recorded in this period.", icon=":material/info:")
    st.stop()
table(
    [
        {
            "when": f"{e.at:%Y-%m-%d %H:%M:%S}",
            "who": e.actor,
            "what": e.action,
            "target": e.target or "",
            "detail": ", ".join(f"{k} {v}" for k, v in e.detail.items()),
            "from": e.address or "",
        }
        for e in reversed(found)
    ]
)
