"""Use case: a table as the bytes of a downloadable file (the dashboard's download buttons).

The writer behind ``segwise segment --out``: CSV or XLSX chosen by ``suffix``, written
formula-safe (text that a spreadsheet would run as a formula is neutralised).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def table_bytes(frame: pd.DataFrame, suffix: str) -> bytes:
    """``frame`` as a .csv or .xlsx file's bytes, formula-safe; a download, so analysts and
    admins only, and recorded in the audit log (how many rows, never which)."""
    from segwise.io.writers import write_frame
    from segwise.service.audit import record_event, require

    require("export")
    record_event("export", suffix.lstrip("."), {"rows": len(frame)})

    with tempfile.TemporaryDirectory(prefix="segwise-download-") as folder:
        path = write_frame(frame, Path(folder) / f"table{suffix}")
        return path.read_bytes()
