"""The History page's section on scheduled runs: their alerts, newest first, and when each
schedule runs next. Shown only when there is a schedule or an alert."""

from __future__ import annotations

import streamlit as st

from segwise import service
from segwise.app.widgets import attempt, table

SHOWN = 20
KIND_WORDS = {
    "psi": "a feature drifted",
    "size_shift": "a segment grew or shrank",
    "worse_share": "customers moved to worse segments",
    "failed": "the run failed",
}


def show_alerts() -> None:
    """Alerts of scheduled runs in plain words, and the schedules with their next run."""
    schedules = attempt(service.list_schedules) or []
    alerts = attempt(service.list_alerts, limit=SHOWN) or []
    if not schedules and not alerts:
        return
    st.subheader("Scheduled runs and alerts")
    if alerts:
        table(
            [
                {
                    "when": f"{a.created:%Y-%m-%d %H:%M}",
                    "schedule": a.schedule,
                    "what": KIND_WORDS.get(a.kind, a.kind),
                    # a failure's own message names files and options: not for this page
                    "details": a.message if a.kind != "failed" else "see the alert list",
                    "sent": ", ".join(c for c, s in a.delivery.items() if s == "sent") or "-",
                }
                for a in alerts
            ]
        )
    else:
        st.caption("No alerts: every scheduled run stayed within its thresholds.")
    if schedules:
        st.caption(
            "Next runs: "
            + "; ".join(f"{s.name} every {s.every}, next {s.next_due:%Y-%m-%d}" for s in schedules)
        )
