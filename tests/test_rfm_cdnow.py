"""CDNOW (shipped by lifetimes): segwise RFM checked customer by customer against pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifetimes.datasets import load_dataset

GRID = {  # DESIGN.md, written out again independently of segwise.features.rfm
    "Champions": "55 54 45",
    "Loyal": "53 44 35 34",
    "Potential Loyalist": "52 42 43 33",
    "New Customers": "51",
    "Promising": "41 31",
    "Need Attention": "32 23 22",
    "About to Sleep": "21",
    "At Risk": "25 24 13",
    "Cannot Lose Them": "15 14",
    "Hibernating": "12",
    "Lost": "11",
}
CELL = {cell: name for name, cells in GRID.items() for cell in cells.split()}


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, str]:
    raw = load_dataset("CDNOW_master.txt", header=0, sep=r"\s+", dtype={"customer_id": str})
    raw.columns = ["cid", "when", "n_cds", "dollars"]  # names no header rule knows
    path = tmp_path_factory.mktemp("cdnow") / "cdnow.csv"
    raw.to_csv(path, index=False)
    return raw, str(path)


def score(values: pd.Series, worse_is_larger: bool, bins: int = 5) -> pd.Series:
    """1 + floor(B * w / n), w = customers with a strictly worse value."""
    worse = values.rank(method="min", ascending=not worse_is_larger) - 1
    return (1 + (bins * worse.astype(int)) // len(values)).astype(int)


def oracle(raw: pd.DataFrame) -> pd.DataFrame:
    day = pd.to_datetime(raw["when"].astype(str), format="%Y%m%d")
    as_of = day.max() + pd.Timedelta(days=1)
    frame = raw.assign(day=day)
    per = frame.groupby("cid").agg(
        last=("day", "max"), frequency=("day", "nunique"), monetary=("dollars", "sum")
    )
    per["recency"] = (as_of - per["last"]).dt.days
    per["monetary"] = per["monetary"].round(2)
    per["r_score"] = score(per["recency"], worse_is_larger=True)
    per["f_score"] = score(per["frequency"], worse_is_larger=False)
    per["m_score"] = score(per["monetary"], worse_is_larger=False)
    fm = np.floor((per["f_score"] + per["m_score"]) / 2 + 0.5).astype(int)
    per["segment"] = [CELL[f"{r}{f}"] for r, f in zip(per["r_score"], fm, strict=True)]
    return per.drop(columns="last")


def test_cdnow_matches_an_independent_pandas_computation(cli, cdnow, tmp_path):
    raw, path = cdnow
    out = tmp_path / "rfm.parquet"
    result = cli(
        "rfm",
        path,
        "--customer",
        "cid",
        "--date",
        "when",
        "--amount",
        "dollars",
        "--quantity",
        "n_cds",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.stderr
    got = pd.read_parquet(out).set_index("customer_id")
    want = oracle(raw)
    assert len(got) == len(want) == 23_570
    assert set(got.index) == set(want.index)
    got = got.loc[want.index]
    for col in ("recency", "frequency", "r_score", "f_score", "m_score", "segment"):
        mismatched = (got[col] != want[col]).sum()
        assert mismatched == 0, f"{col}: {mismatched} customers differ"
    np.testing.assert_allclose(got["monetary"], want["monetary"], atol=1e-9)
    assert (got["rfm_code"] == got[["r_score", "f_score", "m_score"]].astype(str).sum(axis=1)).all()
    # the amount column is used as is, never multiplied by the number of CDs
    assert got["monetary"].sum() == pytest.approx(raw["dollars"].sum(), rel=1e-9)
