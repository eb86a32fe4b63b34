"""The web dashboard (Streamlit): ``segwise app`` runs ``streamlit_app.py``.

Pages in ``app_pages/`` read like a description of the UI and call ``segwise.service``;
shared pieces live in ``state`` (per-user session state), ``cached`` (read-only service
results), ``forms`` (widget values -> service inputs), ``figures`` and ``widgets``.
Importing this package does not import Streamlit.
"""
