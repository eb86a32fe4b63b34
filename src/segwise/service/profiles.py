"""Use case: the profile of a run's customers taken all together, the baseline each
segment's profile is compared with (the dashboard's profile chart)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from segwise.segment.pipeline import Segmentation
    from segwise.segment.profile import SegmentProfile


def overall_profile(seg: Segmentation) -> SegmentProfile:
    """Every customer of ``seg`` as one segment, over the features the run clustered on."""
    import numpy as np

    from segwise.segment.profile import profile_segments

    used = [c for c in seg.prep.used if c in seg.features.columns]
    return profile_segments(seg.features[used], np.zeros(len(seg.labels), dtype=np.int64))[0]
