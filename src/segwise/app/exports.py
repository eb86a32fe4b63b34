"""Files the dashboard offers for download, made with the same writers as the CLI.

Tables go through ``service.table_bytes`` (the CLI's writer: CSV/XLSX with spreadsheet
formulas neutralised), the report through ``segwise.report.render_report``; both are built
only when the user clicks (Streamlit's deferred download data).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from segwise.service import Segmentation

MIME = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".html": "text/html",
}


def table_bytes(frame: pd.DataFrame, suffix: str) -> bytes:
    """``frame`` as a .csv or .xlsx file's bytes, formula-safe."""
    from segwise import service

    return service.table_bytes(frame, suffix)


def later_table(build: Callable[[], pd.DataFrame], suffix: str) -> Callable[[], bytes]:
    """Download data made only when the user clicks (Streamlit calls it then, maybe in
    another thread: the signed-in user is carried along, for the role check and the audit)."""
    from segwise import service

    actor = service.current_actor()

    def make() -> bytes:
        with service.acting_as(actor):
            return table_bytes(build(), suffix)

    return make


def report_bytes(seg: Segmentation, title: str = "Customer segments") -> bytes:
    """The self-contained HTML report of a run, as bytes (a download, so audited)."""
    from segwise import service
    from segwise.report.html import render_report

    service.require("export")
    service.record_event("export", "html", {"customers": int(seg.summary()["customers"])})
    return render_report(seg, title=title).encode("utf-8")


def later_report(seg: Segmentation, title: str) -> Callable[[], bytes]:
    """The report as download data made on click, as the signed-in user."""
    from segwise import service

    actor = service.current_actor()

    def make() -> bytes:
        with service.acting_as(actor):
            return report_bytes(seg, title=title)

    return make


def run_table(run_id: str) -> pd.DataFrame:
    """A finished run's customers (features, segment, name, RFM) with each segment's
    recommendation, as the segments download hands them out."""
    from segwise import service

    table = service.read_assignments(run_id)
    advice = {int(s["segment"]): s["recommendation"] for s in service.run_segments(run_id)}
    return table.assign(recommendation=table["segment"].map(advice))


def later_run_table(run_id: str, suffix: str) -> Callable[[], bytes]:
    """The run's customers with recommendations as a .csv/.xlsx download, made on click."""
    return later_table(lambda: run_table(run_id), suffix)
