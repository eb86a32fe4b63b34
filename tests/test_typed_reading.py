"""A text log has its plain dates and numbers typed by DuckDB's reader, as it streams
(``segwise rfm``: read once) or into a table (``ingest``: its lines are stored too); the answer
must be the text path's, value by value and table by table.

Oracles: the text path's own SQL (``date_expr``, ``number_expr`` over text) on seeded random
texts, and the whole RFM of the same file read by each way.
"""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from segwise.config import Settings
from segwise.engines.local import compute_rfm
from segwise.features.rfm import RfmOptions
from segwise.io.dates import DateFormat, timestamp_format
from segwise.io.roles import RoleMapping
from segwise.io.validate import MONEY, LineRules, date_expr, number_expr

NOISE = " T+-x/.:0\t,"


def mutated(texts: list[str], seed: int) -> list[str]:
    """Each text, and a copy with about one character in eight replaced or inserted."""
    rng = random.Random(seed)
    out = list(texts)
    for text in texts:
        chars = list(text)
        for i in range(len(chars)):
            if rng.random() < 0.12:
                chars[i] = rng.choice(NOISE) if rng.random() < 0.7 else chars[i] + rng.choice(NOISE)
        out.append("".join(chars))
    return out


def reader_and_text(tmp_path: Path, values: list[str], kind: str, fmt: str | None) -> list[tuple]:
    """(value, reader's, text path's) for every value the reader read: one line each, read
    with ``ignore_errors`` (the lines it cannot read are left out, as a whole read fails)."""
    path = tmp_path / "values.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL)
        writer.writerow(["i", "v"])
        writer.writerows(enumerate(values))
    con = duckdb.connect()
    fmt_opt = f", {'timestampformat' if kind == 'TIMESTAMP' else 'dateformat'} = '{fmt}'"
    fmt_opt = fmt_opt if fmt else ""
    con.execute(
        f"CREATE TABLE typed AS SELECT * FROM read_csv('{path}', header = true{fmt_opt}, "
        f"types = {{'i': 'BIGINT', 'v': '{kind}'}}, ignore_errors = true)"
    )
    con.execute("CREATE TABLE t AS SELECT unnest(CAST(? AS VARCHAR[])) AS v", [values])
    mapping = RoleMapping(customer="c", date="v", amount="v")
    day_format = (fmt or "%Y-%m-%d").split(" ")[0]  # the text path reads the date part
    text = LineRules(mapping, {"v": "VARCHAR"}, DateFormat(day_format, "test"))
    expr = number_expr(text, "v") if kind == MONEY else date_expr(text)
    expr = expr.replace('"v"', "t.v")
    read = "CAST(typed.v AS DATE)" if kind == "TIMESTAMP" else "typed.v"
    return con.execute(
        f"SELECT t.v, {read}, {expr} FROM typed "
        "JOIN (SELECT row_number() OVER () - 1 AS i, v FROM t) AS t USING (i)"
    ).fetchall()


@pytest.mark.parametrize("fmt", ["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%y", "%Y%m%d", "%d.%m.%Y"])
def test_the_reader_reads_a_date_as_the_text_path_or_not_at_all(tmp_path: Path, fmt: str) -> None:
    rng = random.Random(11)
    days = [date(1900, 1, 1) + timedelta(days=rng.randrange(70_000)) for _ in range(3000)]
    edge = ["2024-01-05junk", "20240-01-05", "2024-01-05 10:00", " 05/01/2024", "2024-1-5"]
    values = mutated([d.strftime(fmt) for d in days], seed=12) + edge
    rows = reader_and_text(tmp_path, values, "DATE", fmt)
    assert 3000 <= len(rows) < len(values)  # both kinds of line are there
    assert [r for r in rows if r[1] != r[2]] == []


@pytest.mark.parametrize("fmt", ["%m/%d/%Y %H:%M", "%d/%m/%y %H:%M:%S", "%Y-%m-%d %H:%M:%S"])
def test_the_reader_reads_a_timestamp_as_the_text_path_reads_its_day_or_not_at_all(
    tmp_path: Path, fmt: str
) -> None:
    rng = random.Random(17)
    start = datetime(1950, 1, 1)
    stamps = [start + timedelta(minutes=rng.randrange(60_000_000)) for _ in range(3000)]
    unpadded = [s.strftime(fmt).replace(" 0", " ") for s in stamps[:300]]  # 8:02, not 08:02
    edge = ["12/5/2010 8:02junk", "12/5/2010", "12/5/2010 24:00", "2/30/2010 8:02", " 1/2/20 1:02"]
    values = mutated([s.strftime(fmt) for s in stamps] + unpadded, seed=18) + edge
    rows = reader_and_text(tmp_path, values, "TIMESTAMP", fmt)
    assert 3300 <= len(rows) < len(values)
    assert [r for r in rows if r[1] != r[2]] == []


@pytest.mark.parametrize(
    ("values", "want"),
    [
        (["12/5/2010 8:02", "1/15/2011 18:30"], "%m/%d/%Y %H:%M"),
        (["12/5/2010 08:02:59", " 1/15/2011 18:30:00 "], "%m/%d/%Y %H:%M:%S"),
        (["12/5/2010 8:02", "1/15/2011 18:30:00"], None),  # two shapes of clock
        (["12/5/2010 8:02", "1/15/2011"], None),  # a date without its clock
        (["12/5/2010 8:02 PM"], None),
        (["12/5/2010T8:02"], None),
    ],
)
def test_a_timestamp_format_is_found_only_for_one_shape_of_clock(
    values: list[str], want: str | None
) -> None:
    assert timestamp_format(values, "%m/%d/%Y") == want


def test_the_reader_reads_a_number_as_the_text_path_or_not_at_all(tmp_path: Path) -> None:
    rng = random.Random(13)
    plain = [f"{rng.uniform(-5000, 5000):.{rng.randrange(0, 9)}f}" for _ in range(3000)]
    edge = ["1e3", ".5", "5.", "+5", " 5 ", "1_000", "1,234.50", "2,55", "nan", "99999999999999"]
    rows = reader_and_text(tmp_path, mutated(plain, seed=14) + edge, MONEY, None)
    assert 3000 <= len(rows) < 6010
    assert [r for r in rows if r[1] != r[2]] == []


def log(tmp_path: Path, name: str, late: dict[str, str] | None = None, n: int = 3000) -> Path:
    """A log of ``n`` lines; ``late`` overwrites fields of line 2,500 (past the sample)."""
    rng = random.Random(15)
    rows = []
    for i in range(n):
        day = date(2024, 1, 1) + timedelta(days=rng.randrange(365))
        amount = "" if i % 1499 == 0 else f"{rng.uniform(-20, 300):.2f}"
        rows.append({"customer_id": f"0{rng.randrange(400)}", "date": str(day), "amount": amount})
    rows[2500] |= late or {}
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def src_types(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return {str(r[0]): str(r[1]) for r in con.execute("DESCRIBE src").fetchall()}


@pytest.mark.parametrize(
    ("late", "typed"),
    [
        ({}, True),
        ({"date": "2024-02-30"}, False),  # a date past the sample that does not read
        ({"amount": "1,234.50"}, False),  # a thousands comma past the sample
        ({"date": "2024-03-01 10:15"}, False),  # a time past the sample
    ],
)
def test_rfm_read_once_is_the_rfm_of_the_text_table(
    tmp_path: Path, late: dict[str, str], typed: bool
) -> None:
    path = log(tmp_path, "log.csv", late)
    settings = Settings()
    once = compute_rfm(path, RfmOptions(), settings, keep_lines=False)
    table = compute_rfm(path, RfmOptions(), settings)
    assert once.lines is None and table.lines is not None
    assert src_types(once.con)["date"] == ("DATE" if typed else "VARCHAR")
    assert src_types(table.con)["date"] == ("DATE" if typed else "VARCHAR")  # into a table
    pd.testing.assert_frame_equal(once.to_pandas(), table.to_pandas())
    assert once.report == table.report
    assert once.summary() == table.summary()
    assert once.customers == 400 and once.report.lines == 3000


@pytest.mark.parametrize(
    ("late", "typed"),
    [
        ({}, True),
        ({"date": "03/01/2024 10:15:00"}, False),  # another clock past the sample
        ({"date": "03/01/2024"}, False),  # no clock past the sample
        ({"date": "13/01/2024 10:15"}, False),  # not month first after all: an error
    ],
)
def test_a_log_of_timestamps_reads_typed_as_the_text_path_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, late: dict[str, str], typed: bool
) -> None:
    import segwise.engines.local as local

    rng = random.Random(19)
    rows = []
    for i in range(3000):
        stamp = datetime(2024, 1, 1) + timedelta(minutes=rng.randrange(365 * 24 * 60))
        when = stamp.strftime("%m/%d/%Y %H:%M").replace(" 0", " ")  # 12/05/2024 8:02
        rows.append({"customer_id": f"0{rng.randrange(400)}", "date": when, "amount": i % 90})
    rows[2500] |= late
    path = tmp_path / "stamps.csv"
    pd.DataFrame(rows).to_csv(path, index=False)

    def answers(keep_lines: bool, kind: str) -> object:
        try:
            got = compute_rfm(path, RfmOptions(), Settings(), keep_lines=keep_lines)
        except Exception as exc:  # the text path's error, whichever way it was read
            return str(exc)
        assert src_types(got.con)["date"] == kind
        return got.to_pandas(), got.summary()

    kind = "TIMESTAMP" if typed else "VARCHAR"
    once, table = answers(False, kind), answers(True, kind)
    monkeypatch.setattr(local, "reader_types", lambda rules, source: (rules, {}, None))
    text = answers(False, "VARCHAR")
    if isinstance(text, str):
        assert once == table == text and "day-first and month-first" in text
        return
    assert not isinstance(once, str) and not isinstance(table, str)
    for got in (once, table):
        pd.testing.assert_frame_equal(got[0], text[0])
        assert got[1] == text[1]
    assert text[1]["date_format"].startswith("%m/%d/%Y")


@pytest.mark.parametrize("clock", ["", " 8:02"])
@pytest.mark.parametrize("later", ["month first", "day first", "neither"])
def test_day_and_month_are_told_apart_over_every_line_as_the_text_path_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: str, later: str
) -> None:
    """The sample (the first 2,000 lines) cannot tell day from month; lines past it can, or
    not. The typed read tries the sample's order and settles it from every line it read:
    the text path's format and reason, or its error, with no pass of its own over the file."""
    import segwise.engines.local as local
    from segwise.io import line_rules

    rows = [f"C{i % 70},{i % 12 + 1}/{i % 11 + 1}/2024{clock},{i % 9}.25" for i in range(3000)]
    for i in range(2500, 2600):  # past the sample
        a, b = 13 + i % 15, i % 12 + 1
        rows[i] = {
            "month first": f"C{i % 70},{b}/{a}/2024{clock},1.00",
            "day first": f"C{i % 70},{a}/{b}/2024{clock},1.00",
            "neither": rows[i],
        }[later]
    path = tmp_path / "orders.csv"
    path.write_text("customer_id,date,amount\n" + "\n".join(rows) + "\n")
    scans = []
    detect = line_rules.detect_date_format

    def counted(*args: object, guess: bool = False) -> object:
        scans.append(guess)
        return detect(*args, guess=guess)  # type: ignore[arg-type]

    monkeypatch.setattr(line_rules, "detect_date_format", counted)

    def answer() -> object:
        try:
            got = compute_rfm(path, RfmOptions(), Settings(), keep_lines=False)
        except Exception as exc:
            return type(exc).__name__, str(exc)
        return got.to_pandas(), got.summary()

    typed = answer()
    if later == "month first":  # read once: the order came from the sample and every line
        assert scans == [True]
    monkeypatch.setattr(local, "reader_types", lambda rules, source: (rules, {}, None))
    text = answer()
    assert scans[-1] is False  # the text path passed over the file for it
    if isinstance(text[0], str):
        assert typed == text
        assert text[0] == ("AmbiguousDayMonth" if later == "neither" else text[0])
        return
    pd.testing.assert_frame_equal(typed[0], text[0])
    assert typed[1] == text[1]
    want = "%m/%d/%Y (month first" if later == "month first" else "%d/%m/%Y (day first"
    assert text[1]["date_format"].startswith(want)


def test_a_broken_line_read_once_is_reported_as_the_table_reports_it(tmp_path: Path) -> None:
    path = log(tmp_path, "broken.csv", n=30_000)
    lines = path.read_text().splitlines()
    lines[25_000] += ",1,2,3"  # one field too many, past the 20,480 lines the sniffer reads
    path.write_text("\n".join(lines) + "\n")
    errors = []
    for keep in (False, True):
        with pytest.raises(Exception) as info:
            compute_rfm(path, RfmOptions(), Settings(), keep_lines=keep)
        errors.append((type(info.value), str(info.value)))
    assert errors[0] == errors[1]
    assert "broken.csv" in errors[0][1] and "25001" in errors[0][1].replace(",", "")


@pytest.mark.parametrize("keep_lines", [False, True])
def test_a_cp1252_log_with_day_first_dates_reads_past_its_head(
    tmp_path: Path, keep_lines: bool
) -> None:
    # the bytes that are not UTF-8 come after the 20,480 lines the sniffer reads, and the
    # day/month order is decided over every date: the streamed read meets them first
    rows = [
        f"C{i % 50},{(i % 28) + 1:02d}/{(i % 12) + 1:02d}/2024,{i % 7 + 1}.50"
        for i in range(30_000)
    ]
    rows[29_000] = "Caf\u00e9,28/12/2024,9.25"
    path = tmp_path / "cp1252.csv"
    path.write_bytes(("customer_id,date,amount\n" + "\n".join(rows) + "\n").encode("cp1252"))
    got = compute_rfm(path, RfmOptions(), Settings(), keep_lines=keep_lines)
    table = got.to_pandas().set_index("customer_id")
    assert got.report.lines == 30_000 and len(table) == 51
    assert table.loc["Caf\u00e9", "monetary"] == 9.25 and table.loc["Caf\u00e9", "recency"] == 1
    assert got.date_format is not None and got.date_format.startswith("%d/%m/%Y")
