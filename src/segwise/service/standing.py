"""Use case: where one customer stands among the customers of their own segment.

The look-up's percentiles compare a customer with every customer of the run; inside a
segment the same number says more ("the most recent of the At Risk"). Pure over the run's
assignments table, which the shells already hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def segment_standing(
    assignments: pd.DataFrame, segment: int, values: Mapping[str, object]
) -> dict[str, float | None]:
    """Per numeric feature in ``values``: the share (in %) of the segment's customers with a
    lower value, ties counted half; None where the segment has no such numbers."""
    import numpy as np
    import pandas as pd

    members = assignments[assignments["segment"] == segment]
    out: dict[str, float | None] = {}
    for name, value in values.items():
        if name not in members.columns or isinstance(value, bool):
            continue
        if not isinstance(value, int | float) or np.isnan(float(value)):
            continue
        column = pd.to_numeric(members[name], errors="coerce").dropna().to_numpy(dtype=float)
        if len(column) == 0:
            out[name] = None
            continue
        below = float(np.count_nonzero(column < value))
        ties = float(np.count_nonzero(column == value))
        out[name] = round(100 * (below + ties / 2) / len(column), 1)
    return out
