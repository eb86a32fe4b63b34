"""Logs whose columns are separated by runs of blanks (as lifetimes ships CDNOW), and the error
for a file that cannot be split into columns."""

from __future__ import annotations

from pathlib import Path

import duckdb
import lifetimes.datasets
import numpy as np
import pandas as pd
import pytest

from segwise.io.readers import open_source

CDNOW = Path(lifetimes.datasets.__file__).parent / "CDNOW_master.txt"
FLAGS = ("--customer", "column0", "--date", "column1", "--quantity", "column2")
FLAGS += ("--amount", "column3")


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    """The shipped file read independently: pandas, any run of blanks, ids kept as text."""
    raw = pd.read_csv(CDNOW, sep=r"\s+", header=None, skiprows=1, dtype={0: str})
    raw.columns = ["cid", "when", "n_cds", "dollars"]
    return raw


def oracle(raw: pd.DataFrame) -> pd.DataFrame:
    """Per customer (DESIGN.md): distinct purchase days, net spend rounded to cents, recency."""
    day = pd.to_datetime(raw["when"].astype(str), format="%Y%m%d")
    per = (
        raw.assign(day=day)
        .groupby("cid")
        .agg(last=("day", "max"), frequency=("day", "nunique"), monetary=("dollars", "sum"))
    )
    per["recency"] = (day.max() + pd.Timedelta(days=1) - per["last"]).dt.days
    per["monetary"] = per["monetary"].round(2)
    return per.drop(columns="last")


def rfm(cli, path: Path, out: Path, *flags: str) -> pd.DataFrame:
    result = cli("rfm", path, "--out", out, *flags)
    assert result.exit_code == 0, result.stderr
    return pd.read_parquet(out).set_index("customer_id")


@pytest.mark.parametrize("header", [True, False], ids=["as shipped", "headerless"])
def test_cdnow_as_lifetimes_ships_it_matches_pandas(cli, cdnow, tmp_path, header):
    path = CDNOW
    if not header:  # the same lines without the header: columns are named column0..column3
        path = tmp_path / "cdnow_nohead.txt"
        path.write_bytes(CDNOW.read_bytes().split(b"\n", 1)[1])
        missing = cli("rfm", path)
        assert missing.exit_code == 2
        assert "--customer COL (columns: column0, column1, column2, column3)" in missing.stderr
    got = rfm(cli, path, tmp_path / "rfm.parquet", *(() if header else FLAGS))
    want = oracle(cdnow)
    assert len(got) == len(want) == 23_570
    assert set(got.index) == set(want.index)  # ids keep their leading zeros ("00001")
    got = got.loc[want.index]
    for col in ("frequency", "recency"):
        mismatched = (got[col] != want[col]).sum()
        assert mismatched == 0, f"{col}: {mismatched} customers differ"
    np.testing.assert_allclose(got["monetary"], want["monetary"], rtol=0, atol=1e-9)


def test_a_space_aligned_file_with_a_header_needs_no_flags(cli, tmp_path):
    lines = [("C001", "2020-01-03", 11.5), ("C002", "2020-01-04", 3.25)]
    lines += [("C001", "2020-02-03", 1.0), ("C003", "2020-02-10", 120.0)]
    lines += [("C001", "2020-02-03", 2.5), ("C002", "2020-03-01", 7.0)]
    text = f"{'CustomerID':>12}  {'InvoiceDate':<12}{'Amount':>10}\r\n"
    text += "".join(f"{c:>12}\t{d:<12}{a:>10.2f}\r\n" for c, d, a in lines)
    path = tmp_path / "aligned.txt"
    path.write_text(text, newline="")

    with duckdb.connect() as con:
        source = open_source(con, path)
        source.close()
    assert source.columns == ["CustomerID", "InvoiceDate", "Amount"]
    assert source.describe()["delimiter"] == "whitespace"

    got = rfm(cli, path, tmp_path / "rfm.parquet")
    assert got["frequency"].to_dict() == {"C001": 2, "C002": 2, "C003": 1}
    assert got["monetary"].to_dict() == {"C001": 15.0, "C002": 10.25, "C003": 120.0}


def test_a_space_aligned_cp1252_file_with_an_undefined_byte_reads(cli, tmp_path):
    # 0x8d has no character in cp1252 (found by the API fuzzer): U+FFFD, not a traceback
    text = b"CustomerID   InvoiceDate   Amount   Note\r\n"
    text += b"  C\xe9001   2020-01-03      11.50   caf\x8d\r\n"
    text += b"  C\xe9002   2020-01-04       3.25   \x80uro\r\n"
    path = tmp_path / "aligned.txt"
    path.write_bytes(text)
    got = rfm(cli, path, tmp_path / "rfm.parquet")
    assert got["monetary"].to_dict() == {"C\u00e9001": 11.5, "C\u00e9002": 3.25}


def test_a_tab_separated_file_with_empty_cells_keeps_its_columns(tmp_path):
    path = tmp_path / "empty_cells.tsv"
    path.write_text("id\tdate\tnote\tamount\n1\t2020-01-01\t\t3.5\n2\t2020-01-02\t\t4.5\n")
    with duckdb.connect() as con:
        source = open_source(con, path)
        source.close()
    assert source.columns == ["id", "date", "note", "amount"]
    assert source.delimiter == "tab"


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        (
            "   id  name        day        amount\n"
            "    1  John Smith  20200101     3.50\n"
            "    2  Ann         20200102     4.50\n",
            ["single column", "space-separated", "line 2 has 5 fields where line 1 has 4"],
        ),
        (
            "cust:day:amt\n1:20200101:3.5\n2:20200102:4.5\n1:20200103:1.0\n",
            ["single column", "':'-separated", "does not split on ':'"],
        ),
    ],
    ids=["ragged blanks", "colons"],
)
def test_a_file_that_cannot_be_split_names_its_separator(cli, tmp_path, content, needles):
    path = tmp_path / "log.txt"
    path.write_text(content)
    result = cli("rfm", path)
    assert result.exit_code == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "(log.txt)" in lines[0]
    assert "the file looks" in lines[0]
    assert "no customer id column" not in lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
