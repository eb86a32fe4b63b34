"""A folder, a glob or several files of monthly exports read as one log.

The oracle is the concatenation: the same lines in one file give the same RFM (every
customer, every column), and each file read on its own gives that file's drop counts.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from segwise import service
from segwise.demo import generate_log, write_log

CUTS = (datetime(2011, 5, 1), datetime(2011, 9, 1))  # three "months" of the demo shop year


def months(lines: pa.Table) -> list[pa.Table]:
    when = lines["InvoiceDate"]
    first = pc.less(when, pa.scalar(CUTS[0]))
    last = pc.greater_equal(when, pa.scalar(CUTS[1]))
    middle = pc.and_(pc.invert(first), pc.invert(last))
    return [lines.filter(first), lines.filter(middle), lines.filter(last)]


@pytest.fixture(scope="module")
def shop() -> pa.Table:
    """The demo shop: cancellations, guest lines and shop adjustments in every month."""
    return generate_log(300, seed=5).lines


@pytest.fixture
def exports(shop: pa.Table, tmp_path: Path) -> Path:
    """Three monthly exports as a shop writes them (';', decimal commas, day-first dates),
    a hidden file and a note that are not data."""
    folder = tmp_path / "exports"
    folder.mkdir()
    for n, part in enumerate(months(shop), start=1):
        write_log(part, folder / f"2011-0{n}.csv", style="uk")
    (folder / ".~lock.2011-01.csv#").write_text("lock")
    (folder / ".hidden.csv").write_text("a,b\n1,2\n")
    (folder / "README.txt.bak").write_text("exported monthly")
    return folder


def rfm_rows(cli, *args: object, out: Path) -> pd.DataFrame:
    result = cli("rfm", *args, "--out", out)
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(out, dtype={"customer_id": str}).sort_values(
        "customer_id", ignore_index=True
    )


def test_a_folder_gives_the_rfm_of_the_concatenation(cli, shop, exports, tmp_path):
    whole = write_log(shop, tmp_path / "whole.csv", style="uk")
    want = rfm_rows(cli, whole, out=tmp_path / "want.csv")
    got = rfm_rows(cli, exports, out=tmp_path / "got.csv")
    assert len(want) > 250
    pd.testing.assert_frame_equal(got, want)
    glob = rfm_rows(cli, str(exports / "2011-*.csv"), out=tmp_path / "glob.csv")
    pd.testing.assert_frame_equal(glob, want)
    files = sorted(exports.glob("2011-*.csv"))  # as the shell expands an unquoted glob
    several = rfm_rows(cli, *files, out=tmp_path / "several.csv")
    pd.testing.assert_frame_equal(several, want)


def test_mixed_formats_agree_by_role(cli, shop, exports, tmp_path):
    """One month as XLSX with other headers, one as typed Parquet: the same RFM."""
    parts = months(shop)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (exports / "2011-01.csv").rename(mixed / "2011-01.csv")
    frame = parts[1].to_pandas().rename(columns={"CustomerID": "Customer ID", "Quantity": "Qty"})
    frame.to_excel(mixed / "2011-02.xlsx", index=False)
    write_log(parts[2], mixed / "2011-03.parquet")
    want = rfm_rows(
        cli, write_log(shop, tmp_path / "whole.csv", style="uk"), out=tmp_path / "w.csv"
    )
    got = rfm_rows(cli, mixed, out=tmp_path / "g.csv")
    pd.testing.assert_frame_equal(got, want)


def test_the_report_counts_dropped_lines_per_file(exports, tmp_path):
    with service.local_input(exports) as path:
        summary = service.compute_rfm(path).summary()
    report = summary["report"]
    files = {f["file"]: f for f in report["files"]}
    assert list(files) == ["2011-01.csv", "2011-02.csv", "2011-03.csv"]
    assert report["skipped_files"] == {"hidden": 2, "not_data": 1}
    for name, counted in files.items():  # each file read on its own is the oracle
        alone = service.compute_rfm(exports / name).report
        assert counted["lines"] == alone.lines
        want = {r: n for r, n in alone.dropped.items() if r != "no_purchase"}
        assert counted["dropped"] == want
        assert want.get("adjustment") and want.get("no_customer_id")
    for reason, n in report["dropped"].items():
        if reason != "no_purchase":
            assert sum(f["dropped"].get(reason, 0) for f in files.values()) == n
    assert sum(f["lines"] for f in files.values()) == report["lines"]


def test_ingest_is_content_addressed_by_the_files(cli, exports):
    first = cli("ingest", exports, "--json")
    assert first.exit_code == 0, first.stderr
    again = cli("ingest", str(exports / "2011-0*.csv"), "--json")
    one, two = json.loads(first.stdout), json.loads(again.stdout)
    assert two["id"] == one["id"] and two["stored_before"] and one["name"] == "exports"
    assert two["name"] == "exports"  # a default name never renames
    (exports / "2011-03.csv").unlink()
    fewer = json.loads(cli("ingest", exports, "--json").stdout)
    assert fewer["id"] != one["id"] and fewer["rows"] < one["rows"]


def test_segment_and_value_read_a_folder(cli, exports):
    seg = cli("segment", exports, "--k", "3", "--json", "--quiet")
    assert seg.exit_code == 0, seg.stderr
    assert sum(s["size"] for s in json.loads(seg.stdout)["segments"]) > 250
    value = cli("value", exports, "--horizon", "90d", "--json")
    assert value.exit_code == 0, value.stderr
    assert json.loads(value.stdout)["customers"] > 250


def test_a_file_whose_columns_do_not_fit_is_named(cli, exports):
    frame = pd.read_csv(exports / "2011-02.csv", sep=";", dtype=str)
    frame.drop(columns=["InvoiceNo"]).to_csv(exports / "2011-02.csv", sep=";", index=False)
    result = cli("rfm", exports)
    assert result.exit_code == 2
    assert "2011-02.csv" in result.stderr and "invoice" in result.stderr
    assert "InvoiceNo" in result.stderr and "2011-01.csv" in result.stderr


def test_a_bad_value_is_located_in_its_own_file(cli, exports):
    lines = (exports / "2011-03.csv").read_text().splitlines()
    for i in range(1, len(lines)):  # more than 1% of the lines: the run stops
        if i % 20 == 0:
            fields = lines[i].split(";")
            fields[4] = "soon"
            lines[i] = ";".join(fields)
    (exports / "2011-03.csv").write_text("\n".join(lines) + "\n")
    result = cli("rfm", exports)
    assert result.exit_code == 2
    assert "(2011-03.csv, row 20, column 'InvoiceDate')" in result.stderr


def test_limits_and_empty_inputs(cli, exports, tmp_path, monkeypatch):
    monkeypatch.setenv("SEGWISE_MAX_FILES", "2")
    from segwise.config import get_settings

    get_settings.cache_clear()
    result = cli("rfm", exports)
    assert result.exit_code == 2 and "3 data files, over the limit of 2" in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.md").write_text("nothing")
    result = cli("rfm", empty)
    assert result.exit_code == 2 and "no data files in 'empty' (1 not data skipped)" in (
        result.stderr
    )
    result = cli("rfm", str(tmp_path / "nothing-*.csv"))
    assert result.exit_code == 2 and "no file matches" in result.stderr


def test_a_month_of_early_days_takes_the_date_order_of_the_others(cli, shop, tmp_path):
    """December holds only days 1-9: alone it cannot tell 01-12 from 12-01; read with the
    year's other exports it takes their day-first order (and is written after them)."""
    december = pc.greater_equal(shop["InvoiceDate"], pa.scalar(datetime(2011, 12, 1)))
    folder = tmp_path / "year"
    folder.mkdir()
    alone = write_log(shop.filter(december), folder / "2011-12 first.csv", style="uk")
    write_log(shop.filter(pc.invert(december)), folder / "2011-rest.csv", style="uk")
    result = cli("rfm", alone)
    assert result.exit_code == 2 and "cannot tell day-first" in result.stderr
    want = rfm_rows(
        cli, write_log(shop, tmp_path / "whole.csv", style="uk"), out=tmp_path / "w.csv"
    )
    got = rfm_rows(cli, folder, out=tmp_path / "g.csv")
    pd.testing.assert_frame_equal(got, want)
    with service.local_input(folder) as path:
        files = service.compute_rfm(path).report.files
    assert [f["file"] for f in files] == ["2011-rest.csv", "2011-12 first.csv"]
    (folder / "2011-rest.csv").unlink()
    write_log(shop.filter(december), folder / "2011-12 again.csv", style="uk")
    result = cli("rfm", folder)
    assert result.exit_code == 2 and "cannot tell day-first" in result.stderr
