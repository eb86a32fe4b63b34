"""Database inputs: a table or query (SQLite, a real PostgreSQL) gives what the same rows give
as a CSV export, read in chunks; credentials never reach messages or the catalog."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

import pandas as pd
import pytest

from segwise import service
from segwise.demo import generate_log, write_log
from segwise.errors import InputError
from segwise.io import database


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return write_log(generate_log(300, seed=11).lines, tmp_path / "shop.csv", style="us")


@pytest.fixture
def shop_db(shop: Path, tmp_path: Path) -> str:
    """The shop log as table ``sales`` of a SQLite file, columns and values as exported."""
    frame = pd.read_csv(shop, dtype=str, keep_default_na=False)
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as con:
        frame.to_sql("sales", con, index=False)
    return f"sqlite:///{db}"


def rfm_rows(cli, *args: object, out: Path) -> pd.DataFrame:
    result = cli("rfm", *args, "--out", out)
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(out, dtype={"customer_id": str}).sort_values(
        "customer_id", ignore_index=True
    )


def test_sqlite_table_gives_the_csv_rfm(cli, shop, shop_db, tmp_path, monkeypatch):
    monkeypatch.setattr(database, "CHUNK_ROWS", 997)  # many chunks, one odd-sized at the end
    want = rfm_rows(cli, shop, out=tmp_path / "a.csv")
    got = rfm_rows(cli, shop_db, "--table", "sales", out=tmp_path / "b.csv")
    pd.testing.assert_frame_equal(got, want)


def test_sqlite_query_selects_rows(cli, shop, shop_db, tmp_path):
    frame = pd.read_csv(shop, dtype=str, keep_default_na=False)
    some = sorted(frame["CustomerID"].replace("", pd.NA).dropna().unique())[:40]
    subset = tmp_path / "subset.csv"
    frame[frame["CustomerID"].isin(some)].to_csv(subset, index=False)
    query = f"SELECT * FROM sales WHERE CustomerID IN ({', '.join(repr(s) for s in some)})"
    want = rfm_rows(cli, subset, out=tmp_path / "a.csv")
    got = rfm_rows(cli, shop_db, "--query", query, out=tmp_path / "b.csv")
    assert len(got) == 40
    pd.testing.assert_frame_equal(got, want)


def test_postgresql_table_gives_the_csv_rfm_and_keeps_the_password_out(
    cli, shop, postgres_server, tmp_path
):
    import sqlalchemy as sa

    import pgserver

    url = pgserver.create_database(postgres_server, f"shop_{uuid.uuid4().hex[:8]}")
    frame = pd.read_csv(shop, dtype=str, keep_default_na=False)
    with sa.create_engine(url).begin() as con:
        frame.to_sql("sales", con, index=False, schema="public")
    # as a user writes it: plain postgresql://, a password (trust ignores it), schema.table
    plain = url.replace("postgresql+psycopg://postgres@", "postgresql://postgres:s3cret-pw@")
    want = rfm_rows(cli, shop, out=tmp_path / "a.csv")
    got = rfm_rows(cli, plain, "--table", "public.sales", out=tmp_path / "b.csv")
    pd.testing.assert_frame_equal(got, want)

    stored = cli("ingest", plain, "--table", "sales", "--json")
    assert stored.exit_code == 0, stored.stderr
    dataset = json.loads(stored.stdout)
    assert dataset["name"] == "sales" and dataset["customers"] == len(want)
    catalog = Path(service.dataset_file(dataset["id"])).parents[1] / "catalog.db"
    assert b"s3cret-pw" not in catalog.read_bytes()
    assert "***" in service.describe_input(plain, table="sales")

    run = cli("segment", dataset["id"], "--k", "3", "--json")
    assert run.exit_code == 0, run.stderr
    assert json.loads(run.stdout)["customers"] == len(want)


def test_segment_reads_a_database_directly(cli, shop_db):
    result = cli("segment", shop_db, "--table", "sales", "--k", "3", "--json", "--quiet")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["k"] == 3
    assert [d.name for d in service.list_datasets()] == ["sales"]


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--table", "nope"], ["table 'nope'", "check the URL"]),
        (["--query", "SELEKT 1"], ["the query", "check the URL"]),
        ([], ["--table or --query"]),
        (["--table", "sales", "--query", "SELECT 1"], ["--table or --query"]),
        (["--query", "SELECT * FROM sales WHERE 1 = 0"], ["has no rows"]),
    ],
)
def test_bad_database_inputs_are_one_line(cli, shop_db, args, needles):
    result = cli("rfm", shop_db, *args)
    assert result.exit_code == 2, result.stderr
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    for needle in needles:
        assert needle in line, line


def test_unreachable_server_never_shows_the_password(cli):
    port = __import__("pgserver").free_port()  # nothing listens there
    result = cli("rfm", f"postgresql://me:s3cret-pw@127.0.0.1:{port}/shop", "--table", "sales")
    assert result.exit_code == 2
    assert "s3cret-pw" not in result.stderr and "***" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_table_flag_needs_a_database(cli, shop):
    result = cli("rfm", shop, "--table", "sales")
    assert result.exit_code == 2
    assert "database URL" in result.stderr


def test_a_column_that_changes_type_is_named(tmp_path):
    db = tmp_path / "mixed.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE t (customer TEXT, amount)")
        con.executemany("INSERT INTO t VALUES (?, ?)", [("a", 1.5)] * 5 + [("b", "x")])
    target = tmp_path / "out.parquet"
    with pytest.raises(InputError) as err:
        database.export_to_parquet(
            f"sqlite:///{db}", table="t", query=None, target=target, chunk_rows=5
        )
    assert "column 'amount'" in str(err.value) and "after row 5" in str(err.value)
