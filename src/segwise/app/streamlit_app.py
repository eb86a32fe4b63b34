"""Entry script of the dashboard: page setup and navigation (``segwise app`` runs it).

Run it directly with ``streamlit run src/segwise/app/streamlit_app.py`` when developing.
"""

from __future__ import annotations

import warnings

import streamlit as st

# library chatter (k-means convergence on small samples, deprecations) is not for users
warnings.simplefilter("ignore")

st.set_page_config(
    page_title="segwise · customer segments",
    page_icon=":material/groups:",
    layout="wide",
    initial_sidebar_state="collapsed",
)

PAGES = [
    st.Page("app_pages/data.py", title="Data", icon=":material/upload_file:", default=True),
    st.Page("app_pages/segments.py", title="Segments", icon=":material/bubble_chart:"),
    st.Page("app_pages/customer.py", title="Customer", icon=":material/person_search:"),
    st.Page("app_pages/predict.py", title="Predict", icon=":material/online_prediction:"),
    st.Page("app_pages/target.py", title="Target", icon=":material/target:"),
    st.Page("app_pages/history.py", title="History", icon=":material/history:"),
    st.Page("app_pages/campaigns.py", title="Campaigns", icon=":material/campaign:"),
]

st.navigation(PAGES, position="top").run()
