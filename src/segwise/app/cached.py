"""Read-only service results shared by every session, cached by Streamlit.

A finished run never changes, so its model and assignments are cached by run id (and data
folder); a file preview by path, size and modification time. Lists that grow (runs,
datasets) are read fresh each time.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from segwise import service
from segwise.config import get_settings

if TYPE_CHECKING:
    import pandas as pd

    from segwise.service import FilePreview, Predictor


def predictor(run_id: str) -> Predictor:
    """The run's model (its fitted preprocessing + clustering), loaded once per process."""
    return _predictor(run_id, str(get_settings().home))


def assignments(run_id: str) -> pd.DataFrame:
    """One row per customer of a finished run (features, segment, segment_name, RFM)."""
    return _assignments(run_id, str(get_settings().home))


def file_preview(path: Path) -> FilePreview:
    """First rows and detected roles of a file."""
    stat = path.stat()
    return _preview(str(path), stat.st_size, stat.st_mtime)


@st.cache_resource(max_entries=16, show_spinner="Loading the model…")
def _predictor(run_id: str, home: str) -> Predictor:
    return service.run_predictor(run_id)


@st.cache_data(max_entries=8, show_spinner=False)
def _assignments(run_id: str, home: str) -> pd.DataFrame:
    return service.read_assignments(run_id)


@st.cache_data(max_entries=16, show_spinner="Reading the file…")
def _preview(path: str, size: int, modified: float) -> FilePreview:
    return service.preview_file(Path(path))
