"""Per-user state of the dashboard, kept in ``st.session_state`` (never in module globals).

One browser tab is one session: the file it uploaded, the dataset it works on, the run it
looks at and its latest target model. The dataset and the run are also written into the
page's address (``?dataset=..&run=..``), so a reload or a shared link brings them back.
Uploaded files are written under ``SEGWISE_HOME/uploads/<content hash>/``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from segwise.config import Settings, get_settings
from segwise.errors import InputError, SegwiseError

if TYPE_CHECKING:
    import pandas as pd
    from sklearn.pipeline import Pipeline

    from segwise.service import DatasetInfo, TargetReport

UPLOAD_TYPES = ["csv", "tsv", "txt", "xlsx", "parquet"]
"""File name endings the upload widget accepts."""

SOURCE = "source_path"
UPLOAD_ID = "upload_file_id"
DATASET = "dataset"
RUN = "run_id"
FIGURES = "figures"
TARGET = "target_model"
PREDICTION = "prediction"
CUSTOMER = "customer_query"


@dataclass(frozen=True)
class TargetModel:
    """A target model trained in this session, its evaluation and its per-row predictions."""

    dataset: str
    pipeline: Pipeline
    report: TargetReport
    predictions: pd.DataFrame


def save_upload(name: str, data: bytes, *, settings: Settings | None = None) -> Path:
    """Write uploaded bytes to ``uploads/<hash>/<name>`` (once per content) and return the
    path; refuses files over ``max_upload_mb`` (Streamlit's own limit applies first when the
    app runs through ``segwise app``)."""
    settings = settings or get_settings()
    limit = settings.max_upload_mb
    if len(data) > limit * 1024 * 1024:
        raise InputError(
            f"the file is {len(data) / 1024 / 1024:,.0f} MB, over the {limit} MB limit",
            file=name,
            hint="upload a smaller file, or ask whoever runs segwise here to store it for you",
        )
    if not data:
        raise InputError("the file is empty", file=name, hint="export the data again")
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix not in UPLOAD_TYPES:
        raise InputError(
            f"cannot read '.{suffix}' files",
            file=name,
            hint=f"upload a {', '.join('.' + t for t in UPLOAD_TYPES)} file",
        )
    safe = re.sub(r"[^\w.\- ]", "_", Path(name).name).strip(" .") or f"upload.{suffix}"
    folder = settings.home / "uploads" / hashlib.sha256(data).hexdigest()[:16]
    path = folder / safe
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{safe}.part"
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


def accept_upload(file_id: str, name: str, data: bytes) -> Path:
    """Save an upload once per widget file (reruns do not write it again); it becomes the
    file the Data page previews."""
    current = source_path()
    if st.session_state.get(UPLOAD_ID) == file_id and current is not None:
        return current
    path = save_upload(name, data)
    st.session_state[UPLOAD_ID] = file_id
    set_source(path)
    return path


def source_path() -> Path | None:
    """The uploaded file being previewed, if any."""
    found = st.session_state.get(SOURCE)
    return Path(found) if found else None


def set_source(path: Path | None) -> None:
    st.session_state[SOURCE] = str(path) if path is not None else None


def dataset() -> DatasetInfo | None:
    """The stored dataset this session works on."""
    found: DatasetInfo | None = st.session_state.get(DATASET)
    return found


def set_dataset(info: DatasetInfo) -> None:
    """Work on ``info`` from now on; a different dataset forgets the session's latest
    segmentation and target model (they described the other one)."""
    previous = dataset()
    st.session_state[DATASET] = info
    if previous is not None and previous.id != info.id:
        for key in (TARGET, FIGURES):
            st.session_state.pop(key, None)
    _address()


def run_id() -> str | None:
    """The run this session looks at (its latest, or one picked on a page)."""
    found: str | None = st.session_state.get(RUN)
    return found


def set_run(run: str) -> None:
    """Look at ``run`` from now on (on every page that shows one run)."""
    if run != run_id():
        st.session_state.pop(PREDICTION, None)
    st.session_state[RUN] = run
    _address()


def restore() -> None:
    """After a reload (a new session): the dataset and run named in the address come back,
    a run bringing its dataset; then the address names the session's (a page change clears
    it). Unknown or erased ids are dropped quietly."""
    from segwise import service

    wanted_run = st.query_params.get("run")
    if run_id() is None and wanted_run:
        try:
            found = service.get_run(str(wanted_run))
        except SegwiseError:
            found = None
        if found is not None:
            st.session_state[RUN] = found.id
            if dataset() is None:
                st.query_params["dataset"] = found.dataset
    wanted_dataset = st.query_params.get("dataset")
    if dataset() is None and wanted_dataset:
        for info in service.list_datasets():
            if info.id == wanted_dataset:
                st.session_state[DATASET] = info
    _address()


def _address() -> None:
    """Write the session's dataset and run into the page's address (query parameters)."""
    info = dataset()
    wanted = {"dataset": info.id if info is not None else None, "run": run_id()}
    for key, value in wanted.items():
        if value is None:
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get(key) != value:
            st.query_params[key] = value


def figure_store(run: str) -> dict[str, Any]:
    """Chart JSON already built for ``run`` in this session (built once, shown on reruns)."""
    found = st.session_state.get(FIGURES)
    if found is None or found[0] != run:
        found = (run, {})
        st.session_state[FIGURES] = found
    store: dict[str, Any] = found[1]
    return store


def target_model() -> TargetModel | None:
    found: TargetModel | None = st.session_state.get(TARGET)
    return found


def set_target_model(model: TargetModel) -> None:
    st.session_state[TARGET] = model


def forget(prefix: str) -> None:
    """Drop every session value whose key starts with ``prefix`` (a form's reset)."""
    for key in [k for k in st.session_state if str(k).startswith(prefix)]:
        del st.session_state[key]
