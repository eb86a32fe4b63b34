"""Exports: formula-safe text cells, all-or-nothing files, the usual file mode."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from segwise.io.atomic import atomic_path
from segwise.io.writers import neutralise, write_frame

HOSTILE = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "plain", "a=b"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_spreadsheet_formulas_are_neutralised(tmp_path, suffix):
    frame = pd.DataFrame({"customer_id": HOSTILE, "n": range(len(HOSTILE))})
    path = write_frame(frame, tmp_path / f"out{suffix}")
    if suffix == ".csv":
        got = pd.read_csv(path, keep_default_na=False)["customer_id"].tolist()
    else:  # XLSX stores a carriage return as a line feed
        got = [v.replace("\n", "\r") for v in pd.read_excel(path)["customer_id"]]
    assert got[:6] == ["'" + v for v in HOSTILE[:6]]
    assert got[6:] == ["plain", "a=b"]


def test_parquet_keeps_values_as_they_are(tmp_path):
    frame = pd.DataFrame({"customer_id": HOSTILE})
    path = write_frame(frame, tmp_path / "out.parquet")
    assert pd.read_parquet(path)["customer_id"].tolist() == HOSTILE


def test_neutralise_leaves_safe_text_alone():
    assert neutralise("17850") == "17850"
    assert neutralise("=1") == "'=1"


def test_a_failed_write_leaves_nothing_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_written_files_get_the_usual_mode(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_frame(pd.DataFrame({"a": [1]}), tmp_path / "out.csv")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_coded_parquet_columns_read_back_as_the_same_text(tmp_path):
    import duckdb
    import pyarrow.parquet as pq

    from segwise.io.writers import write_relation

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t AS SELECT i AS id, ['Lost', 'Loyal', 'At Risk'][i % 3 + 1] AS segment "
        "FROM range(1000) AS r(i)"
    )
    plain = write_relation(con, "t", tmp_path / "plain.parquet")
    coded = write_relation(
        con, "t", tmp_path / "coded.parquet", coded={"segment": ["At Risk", "Lost", "Loyal"]}
    )
    assert pq.read_table(coded).to_pylist() == pq.read_table(plain).to_pylist()
    assert str(pq.read_schema(coded).field("segment").type) == "string"
