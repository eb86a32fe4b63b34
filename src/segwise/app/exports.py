"""Files the dashboard offers for download, made with the same writers as the CLI.

Tables go through ``segwise.io.writers.write_frame`` (CSV/XLSX with spreadsheet formulas
neutralised), the report through ``segwise.report.render_report``; both are built only when
the user clicks (Streamlit's deferred download data).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from segwise.segment.pipeline import Segmentation

MIME = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".html": "text/html",
}


def table_bytes(frame: pd.DataFrame, suffix: str) -> bytes:
    """``frame`` as a .csv or .xlsx file's bytes, formula-safe."""
    from segwise.io.writers import write_frame

    with tempfile.TemporaryDirectory(prefix="segwise-download-") as folder:
        path = write_frame(frame, Path(folder) / f"table{suffix}")
        return path.read_bytes()


def later_table(build: Callable[[], pd.DataFrame], suffix: str) -> Callable[[], bytes]:
    """Download data made only when the user clicks (Streamlit calls it then)."""
    return lambda: table_bytes(build(), suffix)


def report_bytes(seg: Segmentation, title: str = "Customer segments") -> bytes:
    """The self-contained HTML report of a run, as bytes."""
    from segwise.report.html import render_report

    return render_report(seg, title=title).encode("utf-8")
