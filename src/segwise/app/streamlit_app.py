"""Entry script of the dashboard: page setup, sign-in and navigation (``segwise app`` runs it).

Run it directly with ``streamlit run src/segwise/app/streamlit_app.py`` when developing.
"""

from __future__ import annotations

import warnings

import streamlit as st

from segwise import service
from segwise.app import background, signin, state

# library chatter (k-means convergence on small samples, deprecations) is not for users
warnings.simplefilter("ignore")

st.set_page_config(
    page_title="segwise · customer segments",
    page_icon=":material/groups:",
    layout="wide",
    initial_sidebar_state="collapsed",
)

PAGES = [  # (script, title, icon, what the user must be allowed to do to see it)
    ("app_pages/data.py", "Data", ":material/upload_file:", "upload"),
    ("app_pages/segments.py", "Segments", ":material/bubble_chart:", "run"),
    ("app_pages/customer.py", "Customer", ":material/person_search:", "lookup"),
    ("app_pages/predict.py", "Predict", ":material/online_prediction:", "predict"),
    ("app_pages/target.py", "Target", ":material/target:", "run"),
    ("app_pages/history.py", "History", ":material/history:", "read"),
    ("app_pages/campaigns.py", "Campaigns", ":material/campaign:", "export"),
    ("app_pages/audit.py", "Audit", ":material/policy:", "audit"),
    ("app_pages/accounts.py", "Accounts", ":material/manage_accounts:", "users"),
]

actor = signin.signed_in()
if actor is None:
    # every page known by its address, none run (the sign-in form is the default page):
    # the address keeps the page asked for (a reload, a link) until the user has signed in
    known = [st.Page(script, title=title) for script, title, _, _ in PAGES]
    sign_in = st.Page(signin.sign_in_form, title="Sign in", url_path="sign-in", default=True)
    st.navigation([sign_in, *known], position="hidden")
    signin.sign_in_form()
    st.stop()
signin.signed_in_bar(actor)
state.restore()  # after a reload: the dataset and run named in the address

shown = [page for page in PAGES if service.allowed(page[3])]
pages = [
    st.Page(script, title=title, icon=icon, default=i == 0)
    for i, (script, title, icon, _) in enumerate(shown)
]
page = st.navigation(pages, position="hidden")
# our own row of links across the top: it wraps on a phone instead of becoming a menu that
# stays open over the page after a choice
with st.container(horizontal=True, gap="small", key="pages-menu"):
    for item in pages:
        st.page_link(item, label=item.title, icon=item.icon, width="content")
background.strip()  # runs working in the background, on every page
page.run()
