"""The hand-checked log (tests/data/README.md) in every export style and file format."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from segwise.features.rfm import OUTPUT_COLUMNS

EXPECTED_DROPPED = {"adjustment": 4, "no_customer_id": 2, "no_purchase": 1}


def expected(data: Path) -> pd.DataFrame:
    return pd.read_csv(data / "retail_expected.csv", dtype={"customer_id": str})


def read_out(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".xlsx":
        return pd.read_excel(path, dtype={"customer_id": str})
    return pd.read_csv(path, dtype={"customer_id": str})


def assert_matches(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(OUTPUT_COLUMNS)
    got = got.astype({"customer_id": str, "rfm_code": str})
    want = want.astype({"rfm_code": str})
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), want, check_dtype=False, check_exact=False, atol=0.001
    )


@pytest.mark.parametrize("name", ["retail_uk.csv", "retail_us.csv"])
@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_both_export_styles_give_the_hand_worked_numbers(cli, data, tmp_path, name, suffix):
    out = tmp_path / f"out{suffix}"
    result = cli("rfm", data / name, "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["as_of"] == "2010-12-16"
    assert summary["report"]["dropped"] == EXPECTED_DROPPED
    assert summary["report"]["returns"] == 3
    assert summary["report"]["lines"] == 26
    assert summary["mapping"]["customer"] == "CustomerID"
    assert summary["mapping"]["price"] == "UnitPrice"
    assert_matches(read_out(out), expected(data))


def test_uk_export_is_read_as_latin1_day_first(cli, data):
    summary = json.loads(cli("rfm", data / "retail_uk.csv", "--json").stdout)
    assert summary["input"]["encoding"] == "latin-1"
    assert summary["input"]["delimiter"] == ";"
    assert summary["date_format"].startswith("%d-%m-%Y")


def test_us_export_is_read_month_first(cli, data):
    summary = json.loads(cli("rfm", data / "retail_us.csv", "--json").stdout)
    assert summary["input"]["encoding"] == "utf-8"
    assert summary["date_format"].startswith("%m/%d/%Y")


def typed_copy(data: Path, tmp_path: Path, suffix: str) -> Path:
    """The US export re-saved as typed Parquet or XLSX (timestamps, numbers)."""
    frame = pd.read_csv(data / "retail_us.csv", dtype={"CustomerID": "Int64"})
    frame["InvoiceDate"] = pd.to_datetime(frame["InvoiceDate"], format="%m/%d/%Y %H:%M")
    path = tmp_path / f"log{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_excel(path, index=False)
    return path


@pytest.mark.parametrize("suffix", [".parquet", ".xlsx"])
def test_typed_inputs_give_the_same_numbers(cli, data, tmp_path, suffix):
    out = tmp_path / "out.csv"
    result = cli("rfm", typed_copy(data, tmp_path, suffix), "--out", out)
    assert result.exit_code == 0, result.stderr
    assert_matches(read_out(out), expected(data))


def test_cp1252_text_is_decoded(cli, data, tmp_path):
    raw = (data / "retail_uk.csv").read_bytes().replace(b"CAF\xc9", b"CAF\xc9 \x80 5")
    path = tmp_path / "euro.csv"
    path.write_bytes(raw)
    out = tmp_path / "out.csv"
    result = cli("rfm", path, "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["input"]["encoding"] == "cp1252"
    assert_matches(read_out(out), expected(data))


def test_as_of_drops_later_lines_and_counts_them(cli, data):
    result = cli("rfm", data / "retail_us.csv", "--as-of", "2010-12-11", "--json")
    summary = json.loads(result.stdout)
    assert summary["as_of"] == "2010-12-11"
    # customers' lines dated 11..15 Dec: 536420 x2, 536400, C536401, 536410 (the bad debt,
    # bank charges and guest lines are dropped for their own reasons first)
    assert summary["report"]["dropped"]["after_as_of"] == 5
    assert summary["customers"] == 6  # 16098 bought only on 12 Dec


def test_bins_four_rescales_onto_the_grid(cli, data, tmp_path):
    out = tmp_path / "out.csv"
    assert cli("rfm", data / "retail_us.csv", "--bins", "4", "--out", out).exit_code == 0
    got = read_out(out).set_index("customer_id")
    # n = 7, B = 4: score = 1 + floor(4 w / 7); recency of 13047 (w = 6) -> 4
    assert got.loc["13047", "r_score"] == 4
    assert got.loc["15100", "m_score"] == 4
    assert set(got["r_score"]) <= {1, 2, 3, 4}


def test_custom_grid_from_csv(cli, data, tmp_path):
    grid = tmp_path / "grid.csv"
    cells = [f"{r}{f}" for r in range(1, 6) for f in range(1, 6)]
    grid.write_text(
        "segment,cells\nFresh," + " ".join(c for c in cells if c[0] in "45") + "\n"
        "Can't wait," + " ".join(c for c in cells if c[0] not in "45") + "\n"
    )
    out = tmp_path / "out.csv"
    assert cli("rfm", data / "retail_us.csv", "--segments", grid, "--out", out).exit_code == 0
    got = read_out(out).set_index("customer_id")["segment"].to_dict()
    stale = "Can't wait"  # a quote in a name is data, not SQL
    assert got == {
        "12431": stale,
        "12583": stale,
        "13047": "Fresh",
        "14688": stale,
        "15100": stale,
        "16098": stale,
        "17850": "Fresh",
    }


def test_incomplete_grid_is_refused(cli, data, tmp_path):
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"Everyone": ["55", "54"]}))
    result = cli("rfm", data / "retail_us.csv", "--segments", grid)
    assert result.exit_code == 2
    assert "without a segment" in result.stderr


def test_result_is_usable_from_python(data):
    from segwise.service import compute_rfm

    result = compute_rfm(data / "retail_uk.csv")
    frame = result.to_pandas()
    assert len(frame) == 7
    assert frame["monetary"].sum() == pytest.approx(909.26)
    assert result.to_arrow().num_rows == 7


def test_lines_worth_millions_are_summed_exactly(cli, tmp_path):
    log = tmp_path / "big.csv"
    log.write_text(
        "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID\n"
        "1,A,2000,2011-01-01,1500.50,1\n"
        "2,A,1,2011-01-02,3,2\n"
        "3,A,1,2011-01-03,3.01,1\n"
    )
    out = tmp_path / "out.csv"
    result = cli("rfm", log, "--out", out)
    assert result.exit_code == 0, result.stderr
    got = read_out(out).set_index("customer_id")["monetary"].to_dict()
    assert got == {"1": 3_001_003.01, "2": 3.0}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_log_without_invoices_counts_each_purchase_day_once(tmp_path, seed):
    """Without an invoice column a purchase is a day: several lines on one day are one, a day
    with only returns is none, a day with a purchase and a return is one (a seeded log dense
    in such days, against pandas)."""
    import numpy as np

    from segwise.config import Settings
    from segwise.engines.local import compute_rfm
    from segwise.features.rfm import RfmOptions

    rng = np.random.default_rng(seed)
    n = 4_000
    log = pd.DataFrame(
        {
            "customer_id": rng.integers(1, 1_500, n).astype(str),
            "date": (pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 60, n), "D"))
            .strftime("%Y-%m-%d")
            .to_numpy(),
            "amount": np.round(rng.normal(20, 30, n), 2),  # a quarter are returns (< 0)
        }
    )
    log.to_csv(tmp_path / "log.csv", index=False)
    got = compute_rfm(tmp_path / "log.csv", RfmOptions(), Settings(home=tmp_path)).to_pandas()
    bought = log[log.amount >= 0]  # a line of 0 is no return (docs/rfm.md)
    want = bought.groupby("customer_id")["date"].nunique()
    got = got.set_index("customer_id")["frequency"]
    assert (log.groupby("customer_id").amount.max() < 0).any()  # someone only returned
    lines = bought.groupby("customer_id").size()  # every branch of the count is taken:
    assert ((lines == 2) & (want == 1)).any() and ((lines == 2) & (want == 2)).any()
    assert ((lines >= 3) & (want < lines)).any() and ((lines >= 3) & (want == lines)).any()
    assert got.loc[want.index].tolist() == want.tolist()
    assert set(got.index) == set(want.index)
