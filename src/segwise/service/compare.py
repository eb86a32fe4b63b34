"""Use case: compare two runs — who moved between named segments, who came and went, and how
far each feature drifted (population stability index, ``segment/drift.py``)."""

from __future__ import annotations

from typing import Any

from segwise.config import Settings, get_settings
from segwise.segment.drift import feature_drift, kept_name, largest_moves, migration
from segwise.service.results import read_assignments, run_segments
from segwise.service.run_tables import RFM_COLUMNS
from segwise.value.clv import VALUE_COLUMNS

NOT_FEATURES = {"customer_id", "segment", "segment_name", "rfm_segment"}
NOT_FEATURES |= set(RFM_COLUMNS) | set(VALUE_COLUMNS)  # scores and value are not features


def compare_runs(run_a: str, run_b: str, *, settings: Settings | None = None) -> dict[str, Any]:
    """Migration between the named segments of two finished runs over the customers both
    hold, the customers only one holds, and the drift of every feature both used."""
    settings = settings or get_settings()
    names_a = [s["name"] for s in run_segments(run_a, settings=settings)]
    names_b = [s["name"] for s in run_segments(run_b, settings=settings)]
    a = read_assignments(run_a, settings=settings).set_index("customer_id")
    b = read_assignments(run_b, settings=settings).set_index("customer_id")
    shared = a.index.intersection(b.index)
    moved = migration(a.loc[shared, "segment"], b.loc[shared, "segment"], names_a, names_b)
    features = [c for c in a.columns if c in b.columns and c not in NOT_FEATURES]
    return {
        "runs": [run_a, run_b],
        "customers": {
            "shared": len(shared),
            "new": len(b.index.difference(a.index)),
            "lost": len(a.index.difference(b.index)),
            "same_segment_name": kept_name(moved, names_a, names_b),
        },
        "migration": {"from": names_a, "to": names_b, "counts": moved.tolist()},
        "moves": largest_moves(moved, names_a, names_b),
        "drift": feature_drift(a, b, features),
    }
