"""Large logs on one machine: the memory cap holds (spilling, same numbers), spill folders are
private and cleaned, writers stream, and the cheaper line rules keep their meaning."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from segwise.config import Settings
from segwise.engines import local
from segwise.errors import ConfigError
from segwise.io import duck
from segwise.io.roles import RoleMapping
from segwise.io.validate import (
    REASONS,
    LineRules,
    classified_sql,
    line_columns,
    reason_code,
    reason_name,
)
from segwise.io.writers import write_frame

LINES = 1_000_000


@pytest.fixture(scope="module")
def big_logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 1M-line log (200,000 customers, 500,000 invoices) as Parquet and CSV, made by DuckDB."""
    folder = tmp_path_factory.mktemp("big")
    select = (
        "SELECT 'I' || (i // 2) AS invoice, CAST(i % 200000 AS BIGINT) AS customer_id, "
        "DATE '2020-01-01' + CAST(i % 700 AS INTEGER) AS date, 1 + i % 5 AS quantity, "
        f"1.25 AS price FROM range({LINES}) AS t(i)"
    )
    files = {"parquet": folder / "log.parquet", "csv": folder / "log.csv"}
    duckdb.execute(f"COPY ({select}) TO '{files['parquet']}' (FORMAT parquet)")
    duckdb.execute(f"COPY ({select}) TO '{files['csv']}' (HEADER)")
    return files


def spill_folder(con: duckdb.DuckDBPyConnection) -> Path:
    row = con.execute("SELECT current_setting('temp_directory')").fetchone()
    assert row is not None
    return Path(row[0])


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_capped_run_spills_and_gives_the_same_numbers(big_logs, fmt):
    capped = local.compute_rfm(
        big_logs[fmt], local.RfmOptions(), Settings(memory_limit="48MB", threads=1)
    )
    spill = spill_folder(capped.con)
    assert spill.is_dir() and any(spill.iterdir()), "the 48MB cap should have made DuckDB spill"
    got = capped.to_pandas()
    capped.con.close()
    assert not spill.exists(), "the spill folder is removed when the connection closes"
    free = local.compute_rfm(big_logs[fmt], local.RfmOptions(), Settings())
    assert capped.customers == free.customers == 200_000
    pd.testing.assert_frame_equal(got, free.to_pandas())
    assert capped.report == free.report


def test_the_engine_holds_at_most_3_5_gb_unless_told_otherwise(monkeypatch):
    def cap(settings: Settings) -> int:  # what DuckDB was told, in bytes (shown to 0.1 GiB)
        con = duck.connect(settings)
        row = con.execute(
            "SELECT value FROM duckdb_settings() WHERE name = 'max_memory'"
        ).fetchone()
        con.close()
        number, unit = str(row[0] if row else "").split()
        return int(float(number) * {"MiB": 2**20, "GiB": 2**30}[unit])

    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert cap(Settings()) == pytest.approx(min(3_500_000_000, 0.8 * ram), rel=0.03)
    assert cap(Settings(memory_limit="1GB")) == pytest.approx(10**9, rel=0.03)
    # a machine with 2 GiB: 80% of it, DuckDB's own default, is less than 3.5 GB
    real = os.sysconf
    monkeypatch.setattr(
        os, "sysconf", lambda name: 2**19 if name == "SC_PHYS_PAGES" else real(name)
    )
    pages = 2**19 * os.sysconf("SC_PAGE_SIZE")
    assert Settings().duckdb_memory_limit() == f"{int(0.8 * pages) // 10**6}MB"


def test_a_cap_too_small_is_one_clear_error(big_logs):
    with pytest.raises(ConfigError, match="SEGWISE_MEMORY_LIMIT"):
        local.compute_rfm(
            big_logs["parquet"], local.RfmOptions(), Settings(memory_limit="4MB", threads=1)
        )


FULL = "/dev/full"  # every write to it fails with ENOSPC, as on a full disk


@pytest.mark.skipif(not Path(FULL).exists(), reason="needs /dev/full")
def test_a_full_disk_is_one_clear_error_not_a_traceback(tmp_path):
    """DuckDB spilling or writing onto a full disk, and a file written onto one: one line
    saying where and what to do, no half-written file, and the file is not read again."""
    from segwise.errors import InputError
    from segwise.io.atomic import atomic_path
    from segwise.io.source import raise_if_out_of_memory

    con = duck.connect(Settings())
    copy = f"COPY (SELECT range FROM range(100000)) TO '{FULL}' (FORMAT parquet)"
    full = r"the disk is full \(writing /dev/full\).*TMPDIR"
    with pytest.raises(ConfigError, match=full), local.memory_errors(Settings()):
        con.execute(copy)
    with pytest.raises(duckdb.IOException):  # a full disk is no reason to read text instead
        try:
            con.execute(copy)
        except duckdb.Error as exc:
            raise_if_out_of_memory(exc)
    missing = "SELECT * FROM read_parquet('/no/such/file.parquet')"
    with pytest.raises(duckdb.IOException, match="No files found"), local.memory_errors(Settings()):
        con.execute(missing)  # other IO errors pass as they are
    for write in (
        lambda tmp: con.execute(copy),  # DuckDB's writer
        lambda tmp: Path(FULL).write_bytes(b"x" * 100_000),  # Python's own
    ):
        with (
            pytest.raises(InputError, match=r"cannot write 'out\.parquet': the disk is full"),
            atomic_path(tmp_path / "out.parquet") as tmp,
        ):
            tmp.write_bytes(b"half")
            write(tmp)
        assert list(tmp_path.iterdir()) == []


def test_every_connection_spills_into_its_own_folder():
    a, b = duck.connect(Settings()), duck.connect(Settings())
    folders = {spill_folder(a), spill_folder(b)}
    assert len(folders) == 2
    for folder in folders:
        assert folder.parent == Path(tempfile.gettempdir())
        assert folder.name.startswith(f"{duck.SPILL_PREFIX}{os.getpid()}-")
    a.close()
    b.close()


def test_spill_folders_of_dead_processes_are_removed(tmp_path):
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = tmp_path / f"{duck.SPILL_PREFIX}{gone.stdout.strip()}-0a1b2c3d"
    mine = tmp_path / f"{duck.SPILL_PREFIX}{os.getpid()}-0a1b2c3d"
    other = tmp_path / "segwise-something-else"
    for folder in (dead, mine, other):
        folder.mkdir()
        (folder / "duckdb_temp_block.tmp").write_bytes(b"x")
    assert duck.remove_stale_spill(tmp_path) == [dead]
    assert not dead.exists() and mine.exists() and other.exists()


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_write_frame_streams_many_rows_in_order(tmp_path, suffix):
    n = 300_000  # several DuckDB vectors and Parquet row groups
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "monetary": rng.random(n).round(6),
            "segment": rng.integers(0, 4, n),
        }
    )
    frame["segment_name"] = np.array(["Champions", "Lost", "=bad", "New"], dtype=object)[
        frame["segment"]
    ]
    path = write_frame(frame, tmp_path / f"out{suffix}")
    back = (
        pd.read_parquet(path)
        if suffix == ".parquet"
        else pd.read_csv(path, dtype={"customer_id": str})
    )
    assert back["customer_id"].tolist() == frame["customer_id"].tolist()
    assert np.allclose(back["monetary"], frame["monetary"])
    assert back["segment"].tolist() == frame["segment"].tolist()
    expected = frame["segment_name"].replace({"=bad": "'=bad"} if suffix == ".csv" else {})
    assert back["segment_name"].tolist() == expected.tolist()


RULES = LineRules(
    mapping=RoleMapping(
        customer="customer", date="day", invoice="invoice", quantity="qty", price="price"
    ),
    types={"customer": "VARCHAR", "day": "DATE", "invoice": "VARCHAR"}
    | {"qty": "VARCHAR", "price": "VARCHAR"},
    date_format=None,
)


def classify(rows: list[tuple[object, ...]], **options: bool) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE src AS SELECT * FROM (VALUES "
        + ", ".join("(?, ?, ?, ?, ?, ?)" for _ in rows)
        + ") AS t(_row, customer, day, invoice, qty, price)",
        [v for row in rows for v in row],
    )
    sql = classified_sql(RULES, "2011-12-10", **options)
    return con.execute(f"SELECT invoice, is_return, reason FROM ({sql}) ORDER BY _row").fetchall()


def test_cancelled_invoices_are_c_then_a_digit():
    invoices = ["C536379", "c12", "C", "CX1", "C:1", " C12 ", "D1", "536379", "C/1", None, "  "]
    rows = [(i, "17850", "2011-12-01", inv, "2", "1.5") for i, inv in enumerate(invoices, start=1)]
    got = classify(rows)
    assert [r[1] for r in got] == [True, True, False, False, False, True] + [False] * 5
    assert [r[0] for r in got][5] == "C12"  # trimmed only where needed, still trimmed
    assert [r[0] for r in got][9:] == [None, None]  # blank invoices are no invoice


def test_reason_codes_name_the_same_reasons_as_the_text():
    rows = [
        (1, "17850", "2011-12-01", "536365", "2", "1.5"),  # kept
        (2, None, "2011-12-01", "536366", "2", "1.5"),  # guest
        (3, "17850", None, "536367", "2", "1.5"),  # no date
        (4, "17850", "2011-12-01", "536368", "two", "1.5"),  # not a number
        (5, "17850", "2011-12-11", "536369", "2", "1.5"),  # after the as-of date
    ]
    names = [r[2] for r in classify(rows)]
    codes = [r[2] for r in classify(rows, reason_codes=True)]
    assert names == [None, "no_customer_id", "missing_date", "unparseable_amount", "after_as_of"]
    assert [reason_name(c) for c in codes] == names
    assert all(isinstance(c, int) for c in codes[1:])
    assert [reason_name(reason_code(r)) for r in REASONS] == list(REASONS)


def test_only_the_columns_the_rules_read_are_loaded():
    with_code = RoleMapping(customer="c", date="d", price="p", product="code", description="text")
    assert line_columns(with_code) == {"c", "d", "p", "code"}
    without = RoleMapping(customer="c", date="d", price="p", description="text")
    assert line_columns(without) == {"c", "d", "p", "text"}


def test_every_duckdb_connection_is_opened_with_the_caps():
    """Only ``io/duck.connect`` opens DuckDB (threads, memory cap, own spill folder), so no
    reader, writer, value or look-up query outgrows SEGWISE_MEMORY_LIMIT or spills into a
    folder nobody removes; the demo's generator writes its own synthetic log, no user's."""
    package = Path(local.__file__).parents[1]
    opened = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "duckdb.connect(" in path.read_text(encoding="utf-8")
    )
    assert opened == ["demo.py", "io/duck.py"]
