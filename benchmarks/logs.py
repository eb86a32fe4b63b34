"""Benchmark logs of the shape real mobile-money and co-op logs have: few lines per customer.

``cdnow_scaled`` bootstraps whole customer histories of the CDNOW master log that
``lifetimes`` ships (23,570 customers, 69,659 lines, ~3 lines each): each drawn history
gets a new id and its dates a random shift, so a 1M-line log has ~339k customers.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def cdnow_master() -> pd.DataFrame:
    """The CDNOW master log (customer_id, date, number_of_cds, dollar_value)."""
    text = resources.files("lifetimes.datasets").joinpath("CDNOW_master.txt")
    with resources.as_file(text) as path:
        frame = pd.read_csv(path, sep=r"\s+", dtype={"customer_id": "int64", "date": "str"})
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame


def cdnow_scaled(lines: int, seed: int = 0, shift_days: int = 365) -> pd.DataFrame:
    """About ``lines`` lines of bootstrapped CDNOW histories with new ids and shifted dates."""
    master = cdnow_master().sort_values("customer_id", kind="stable")
    ids, starts, counts = np.unique(
        master["customer_id"].to_numpy(), return_index=True, return_counts=True
    )
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(ids), size=int(lines / counts.mean()) + 1)
    owner = np.repeat(np.arange(len(draws)), counts[draws])
    first = np.cumsum(counts[draws]) - counts[draws]  # each drawn history's first output row
    rows = starts[draws][owner] + np.arange(len(owner)) - first[owner]
    shift = rng.integers(0, shift_days + 1, size=len(draws))[owner]
    picked = master.iloc[rows]
    return pd.DataFrame(
        {
            "customer_id": owner + 1,
            "date": picked["date"].to_numpy() + shift.astype("timedelta64[D]"),
            "number_of_cds": picked["number_of_cds"].to_numpy(),
            "dollar_value": picked["dollar_value"].to_numpy(),
        }
    )


def write_cdnow_scaled(lines: int, path: Path, seed: int = 0) -> Path:
    """Write ``cdnow_scaled(lines)`` as Parquet (or CSV by suffix) and return the path."""
    frame = cdnow_scaled(lines, seed)
    if path.suffix == ".csv":
        frame.to_csv(path, index=False, date_format="%Y-%m-%d")
    else:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    return path
