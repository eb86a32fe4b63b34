"""What a finished run leaves behind besides its catalog row: its tables, and plain values."""

from __future__ import annotations

import math
import platform
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from segwise.segment.pipeline import Segmentation

PACKAGES = (
    ("segwise", "segwise"),
    ("scikit-learn", "sklearn"),
    ("duckdb", "duckdb"),
    ("pandas", "pandas"),
)
"""(distribution, module) of what a run records the version of."""
RFM_COLUMNS = ("r_score", "f_score", "m_score", "rfm_code")
PROJECTED = 5_000  # customers kept for the stored 2-D/3-D projection


def write_run_files(seg: Segmentation, folder: Path) -> None:
    """The run's tables: assignments (with RFM for a log), a projection sample, standings."""
    from segwise.segment.profile import feature_quantiles
    from segwise.store.lake import write_run_tables

    table = seg.assignments()
    if seg.kind == "transactions":
        extra = seg.features[[c for c in RFM_COLUMNS if c in seg.features.columns]]
        extra = extra.assign(rfm_segment=seg.features.get("segment"))
        table = table.join(extra.reset_index(drop=True))
    write_run_tables(
        folder,
        assignments=table,
        ids=seg.features.index.astype(str),
        labels=seg.labels,
        coords=seg.projection.coords_3d,
        explained=seg.projection.explained_variance_3d,
        quantiles=feature_quantiles(seg.features, seg.prep.used),
        projected=PROJECTED,
    )


def versions() -> dict[str, str]:
    """Python and the packages that decide a run's numbers, for its catalog row: from the
    modules already loaded (reading installed metadata scans every path entry, 0.1-0.25 s
    of a segmentation), else from the metadata."""
    from importlib.metadata import version

    found = {"python": platform.python_version()}
    for package, module in PACKAGES:
        loaded = getattr(sys.modules.get(module), "__version__", None)
        try:
            found[package] = str(loaded) if loaded else version(package)
        except Exception:
            found[package] = "unknown"
    return found


def jsonable(value: Any) -> Any:
    """Plain JSON values: numpy numbers as Python ones, NaN as None, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "__dataclass_fields__"):
        return jsonable(asdict(value))
    return str(value)
