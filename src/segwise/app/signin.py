"""Who uses the dashboard: the sign-in form, the session's expiry, the pages a role sees.

With any account in the catalog, nothing but the sign-in form shows until the user signs
in (argon2 check and rate limit in the service); the sign-in lasts SEGWISE_SESSION_MINUTES.
With no account at all, a dashboard on this machine only (``segwise app`` on a loopback
address) runs in single-user local mode, as the machine's own user would use the CLI; on
any other address ``segwise app`` refuses to start until an account exists.
"""

from __future__ import annotations

import time

import streamlit as st

from segwise import service
from segwise.app.messages import say
from segwise.config import get_settings
from segwise.errors import SegwiseError

LOOPBACK = ("127.0.0.1", "localhost", "::1")
ACTOR = "signin_actor"
SINCE = "signin_since"
LOCAL = service.Actor(name="local", role="admin", via="local")


def local_mode() -> bool:
    """No account exists and the dashboard listens on this machine only."""
    return get_settings().app_host in LOOPBACK and not service.has_accounts()


def signed_in() -> service.Actor | None:
    """The session's user while the sign-in lasts (expired: signed out), made the actor."""
    actor = LOCAL
    if not local_mode():
        found: service.Actor | None = st.session_state.get(ACTOR)
        lasts = get_settings().session_minutes * 60
        if found is None or time.monotonic() - st.session_state.get(SINCE, 0.0) > lasts:
            sign_out()
            return None
        actor = found
    service.set_actor(actor)
    return actor


def sign_in_form() -> None:
    """The sign-in form, alone on the page."""
    st.title("Sign in")
    with st.form("signin"):
        name = st.text_input("Name", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        go = st.form_submit_button("Sign in", type="primary")
    if go:
        try:
            actor = service.sign_in(name, password, address=_address())
        except SegwiseError as error:
            st.error(say(error), icon=":material/lock:")
            return
        st.session_state[ACTOR] = actor
        st.session_state[SINCE] = time.monotonic()
        st.rerun()
    st.caption("No account? Ask the person who runs segwise here to create one for you.")


def sign_out() -> None:
    for key in (ACTOR, SINCE):
        st.session_state.pop(key, None)


def signed_in_bar(actor: service.Actor) -> None:
    """Who is signed in, and the sign-out button (in the sidebar)."""
    if actor.via == "local":
        st.sidebar.caption("Local mode: no accounts yet, this machine only.")
        return
    st.sidebar.caption(f"Signed in as **{actor.name}** ({actor.role})")
    if st.sidebar.button("Sign out", icon=":material/logout:"):
        sign_out()
        st.rerun()


def _address() -> str | None:
    try:
        found = st.context.ip_address
    except Exception:  # no request behind this session (tests)
        return None
    return str(found) if found else None
