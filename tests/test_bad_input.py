"""Every bad input exits 2 with one line on stderr: what, where, how to fix. No traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HEADER = "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID\n"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


CASES = {
    "empty": ("empty.csv", b"", ["empty"]),
    "header only": ("head.csv", HEADER, ["no data rows"]),
    "binary junk": ("junk.csv", os.urandom(4096) + b"\x00\x00", ["binary"]),
    "fake xlsx": ("fake.xlsx", HEADER + "1,A,1,2010-12-01,1.0,5\n", ["not a real .xlsx", "rename"]),
    "no amount": (
        "noamount.csv",
        "InvoiceNo,InvoiceDate,CustomerID\n1,2010-12-01,5\n2,2010-12-02,6\n",
        ["no amount", "--amount"],
    ),
    "text amounts": (
        "textamount.csv",
        HEADER
        + "".join(
            f"{i},A,1,2010-12-0{i % 9 + 1},{'abc' if i > 3 else '1.5'},5\n" for i in range(40)
        ),
        ["cannot be read", "first 'abc'", "row 5", "column 'UnitPrice'"],
    ),
    "no customer": (
        "nocust.csv",
        "InvoiceNo,InvoiceDate,Amount\n1,2010-12-01,3.5\n",
        ["no customer id column", "--customer"],
    ),
    "undecidable dates": (
        "ambiguous.csv",
        HEADER + "1,A,1,01/02/2010 8:26,1.5,5\n2,A,1,03/04/2010 9:00,2.0,6\n",
        ["day-first from month-first", "--date-format"],
    ),
    "unreadable dates": (
        "baddates.csv",
        HEADER
        + "".join(f"{i},A,1,{'soon' if i % 9 == 8 else '2010-12-01'},1.5,5\n" for i in range(50)),
        ["5 of 50 lines have dates that cannot be read", "first 'soon'", "row 9", "InvoiceDate"],
    ),
    "no dates at all": (
        "nodates.csv",
        HEADER + "".join(f"{i},A,1,soon,1.5,5\n" for i in range(5)),
        ["cannot read the dates, e.g. 'soon'", "--date-format"],
    ),
    "ragged rows": (
        "ragged.csv",
        HEADER + "1,A,1,2010-12-01,1.5,5\n2,A,1,2010-12-01,1.5,5,extra,more\n" * 30,
        ["8 fields where the header has 6", "row 2"],
    ),
    "old xls": ("old.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 100, [".xls", "xlsx"]),
    "missing file": (None, None, ["file not found"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_file_exits_2_with_one_line(cli, tmp_path, case):
    name, content, needles = CASES[case]
    path = write(tmp_path, name, content) if name else tmp_path / "nothing.csv"
    result = cli("rfm", path)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (["--customer", "Client"], "column 'Client' given by --customer is not in the file"),
        (["--as-of", "yesterday"], "--as-of 'yesterday' is not a date"),
        (["--bins", "12"], "--bins 12"),
        (["--out", "result.json"], "unknown file type"),
        (["--date-format", "dd/mm/yyyy"], "no % directives"),
        (["--date-format", "%Y/%m/%d"], "cannot be read"),
    ],
)
def test_bad_flags_exit_2_with_one_line(cli, data, flags, needle):
    result = cli("rfm", data / "retail_us.csv", *flags)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert needle in result.stderr


def test_explicit_date_format_settles_ambiguous_dates(cli, tmp_path):
    path = write(tmp_path, "ambiguous.csv", HEADER + "1,A,1,01/02/2010 8:26,1.5,5\n")
    result = cli("rfm", path, "--date-format", "%d/%m/%Y %H:%M", "--json")
    assert result.exit_code == 0, result.stderr
    assert '"as_of": "2010-02-02"' in result.stdout


def test_a_failed_write_leaves_no_file(cli, data, tmp_path):
    out = tmp_path / "out.csv"
    result = cli("rfm", data / "retail_us.csv", "--customer", "Nope", "--out", out)
    assert result.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_a_file_this_user_may_not_read_is_one_line(cli, tmp_path, monkeypatch):
    """Root reads any file, so the refusal the operating system gives is played here."""
    import segwise.store.lake as lake

    path = tmp_path / "locked.csv"
    path.write_text("customer,date,amount\n1,2011-01-01,5\n")

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(lake, "open", denied, raising=False)
    result = cli("segment", path)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith("error: cannot read the file: Permission denied")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "needle"),
    [
        (
            "SEGWISE_THREADS",
            "two",
            "setting SEGWISE_THREADS = 'two': Input should be a valid integer",
        ),
        ("segwise_max_bad_share", "2", "setting SEGWISE_MAX_BAD_SHARE = '2': Input should be less"),
        ("SEGWISE_SPARK_MASTER", "mesos://x", "setting SEGWISE_SPARK_MASTER = 'mesos://x'"),
    ],
)
def test_a_bad_setting_is_one_line_naming_its_variable(
    cli, data, monkeypatch, variable, value, needle
):
    from segwise.config import Settings, get_settings

    monkeypatch.setenv(variable, value)
    get_settings.cache_clear()
    try:
        result = cli("rfm", data / "retail_us.csv")
    finally:
        monkeypatch.delenv(variable)
        get_settings.cache_clear()
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert needle in lines[0]
    assert "Traceback" not in result.stderr
    # a value given in code wins over the variable, and variables match in any case
    monkeypatch.setenv("segwise_threads", "3")
    assert Settings().threads == 3
    assert Settings(threads=1).threads == 1
