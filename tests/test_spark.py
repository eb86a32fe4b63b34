"""--engine spark: the same RFM as DuckDB value for value, the planted groups found again.

One local[2] Spark session serves the test process; ``xdist_group`` keeps these tests on one
worker (``make test`` runs ``--dist loadgroup``), so one JVM starts, not two.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from lifetimes.datasets import load_dataset
from sklearn.metrics import adjusted_rand_score

from segwise import service
from segwise.config import Settings, get_settings
from segwise.demo import generate_log, write_log
from segwise.errors import ConfigError, InputError
from segwise.io.dates import java_pattern

pytestmark = [
    pytest.mark.xdist_group("spark"),
    pytest.mark.skipif(
        not (shutil.which("java") or os.environ.get("JAVA_HOME")), reason="Java is not installed"
    ),
]


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local[2] session per test process, however the tests of this module interleave."""
    from segwise.engines.spark_session import spark_session

    home = tmp_path_factory.mktemp("spark-home")
    session = spark_session(Settings(spark_master="local[2]", home=home))
    yield session
    session.stop()


@pytest.fixture
def on_spark(spark: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs in this test use the module's local[2] session."""
    monkeypatch.setenv("SEGWISE_SPARK_MASTER", "local[2]")
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    log = generate_log(1_500, seed=11)
    folder = tmp_path_factory.mktemp("planted")
    write_log(log.lines, folder / "shop.csv", style="uk")
    write_log(log.lines, folder / "shop.parquet")
    return log, folder


def both_engines(path: Path, **options: Any) -> tuple[Any, Any]:
    opts = service.RfmOptions(**options)
    return (
        service.compute_rfm(path, opts, engine="local"),
        service.compute_rfm(path, opts, engine="spark"),
    )


def assert_same_rfm(local: Any, spark: Any) -> None:
    """Every column of every customer, types included, and the whole summary."""
    pd.testing.assert_frame_equal(spark.to_pandas(), local.to_pandas(), check_exact=True)
    assert spark.summary() == local.summary()


def test_cdnow_rfm_on_spark_equals_duckdb_value_for_value(cli, on_spark, tmp_path):
    raw = load_dataset("CDNOW_master.txt", header=0, sep=r"\s+", dtype={"customer_id": str})
    raw.columns = ["cid", "when", "n_cds", "dollars"]
    log = tmp_path / "cdnow.csv"
    raw.to_csv(log, index=False)
    roles = ["--customer", "cid", "--date", "when", "--amount", "dollars", "--quantity", "n_cds"]
    outputs, summaries = {}, {}
    for engine in ("local", "spark"):
        out = tmp_path / f"{engine}.parquet"
        result = cli("rfm", log, *roles, "--engine", engine, "--out", out, "--json")
        assert result.exit_code == 0, result.stderr
        assert result.stderr == ""  # Spark's own logging stays off the terminal
        outputs[engine] = pd.read_parquet(out)
        summaries[engine] = json.loads(result.stdout) | {"out": None}
    assert len(outputs["spark"]) == raw["cid"].nunique() == 23_570
    pd.testing.assert_frame_equal(outputs["spark"], outputs["local"], check_exact=True)
    assert summaries["spark"] == summaries["local"]


@pytest.mark.parametrize(
    ("name", "date_format"),
    [("shop.csv", None), ("shop.parquet", None), ("shop.csv", "%d-%m-%Y %H.%M")],
)
def test_planted_log_rfm_is_identical(on_spark, planted, name, date_format):
    _, folder = planted
    local, spark = both_engines(folder / name, date_format=date_format)
    assert local.report.dropped["adjustment"] > 0 and local.report.returns > 0
    assert_same_rfm(local, spark)


def test_hand_written_edge_cases_read_the_same(on_spark, tmp_path):
    log = tmp_path / "edge.csv"
    log.write_text(
        "Invoice,StockCode,Quantity,InvoiceDate,Price,Customer ID\n"
        '536365,85123A,6,01/12/99 08:26,"2,55",17850\n'
        '536366,POST,1,01/12/99 09:00,"18,00",17850\n'
        'C536367,85123A,-2,02/12/99 10:00,"2,55",17850\n'
        '536368,22633,3,05/01/00 11:00,"1,85",\n'
        '536369,22633,3,13/01/00 11:00,"1,85",13047\n'
        '536370,84406B,8,28/02/00 12:00,"2,75",13047.0\n'
        '536371,84406B,2,29/02/00 12:00,"2,75", 12583 \n'
        'C536372,22633,-1,02/03/00 09:00,"1,85",99999\n'
    )
    local, spark = both_engines(log)
    assert local.date_format is not None and local.date_format.startswith("%d/%m/%y")
    assert local.report.dropped == {"adjustment": 1, "no_customer_id": 1, "no_purchase": 1}
    assert local.as_of.isoformat() == "2000-03-03"
    assert_same_rfm(local, spark)
    assert set(spark.to_pandas()["customer_id"]) == {"17850", "13047", "12583"}


def test_unreadable_dates_are_named_as_the_local_engine_names_them(on_spark, tmp_path):
    log = tmp_path / "bad.csv"
    log.write_text(
        "InvoiceNo,InvoiceDate,Quantity,UnitPrice,CustomerID\n"
        "1,13/01/2011,1,2.5,100\n2,14/01/2011,1,2.5,101\n"
        "3,not a date,1,2.5,102\n4,15/01/2011,1,2.5,103\n"
    )
    errors = []
    for engine in ("local", "spark"):
        with pytest.raises(InputError) as caught:
            service.compute_rfm(log, engine=engine)
        errors.append(str(caught.value))
    assert "row 3" in errors[0] and "'not a date'" in errors[0]
    assert errors[1] == errors[0]


def test_segment_on_spark_recovers_the_planted_groups(cli, on_spark, planted, tmp_path):
    log, folder = planted
    out, model, placed = tmp_path / "segments.csv", tmp_path / "m.skops", tmp_path / "p.csv"
    result = cli(
        "segment",
        folder / "shop.csv",
        "--engine",
        "spark",
        "--k-max",
        "6",
        "--json",
        "--out",
        out,
        "--model",
        model,
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["spark"]["kmeans"] == "k-means||"
    assert summary["k"] == 4 and "Spark k-means||" in summary["k_reason"]
    assert [s["k"] for s in summary["k_selection"]] == list(range(2, 7))
    truth = log.customers.to_pandas()
    got = pd.read_csv(out, dtype={"customer_id": str}).merge(truth, on="customer_id")
    assert len(got) == len(truth)
    assert adjusted_rand_score(got["planted_type"], got["segment"]) >= 0.9
    # the Spark run's artifact places its own customers exactly where the run put them
    assert cli("predict", model, folder / "shop.csv", "--out", placed).exit_code == 0
    again = pd.read_csv(placed, dtype={"customer_id": str}).merge(got, on="customer_id")
    assert len(again) == len(truth) and (again["segment_x"] == again["segment_y"]).all()
    local = service.segment(folder / "shop.csv", service.SegmentOptions(k_max=6))
    assert sorted(local.names) == sorted(s["name"] for s in summary["segments"])


def test_an_mpesa_statement_reads_the_same_on_spark(on_spark, tmp_path):
    """The lines left out before assembly (failed payments) are in Spark's totals too; the
    per-file list is the local engine's only."""
    from segwise.demo_mpesa import mpesa_statement_lines, write_mpesa_statement

    statement = write_mpesa_statement(mpesa_statement_lines(30, seed=2), tmp_path / "s.csv")
    with service.local_input(statement) as path:
        local, spark = both_engines(path)
    pd.testing.assert_frame_equal(spark.to_pandas(), local.to_pandas(), check_exact=True)
    want = local.report.to_dict()
    assert want.pop("files")[0]["file"] == "s.csv"
    assert spark.report.to_dict() == want and want["dropped"]["not_completed"] > 0


def test_customer_tables_stay_on_the_local_engine(cli, tmp_path):
    table = tmp_path / "customers.csv"
    table.write_text("id,income,spend\n" + "".join(f"{i},{i % 7},{i % 5}\n" for i in range(40)))
    result = cli("segment", table, "--engine", "spark")
    assert result.exit_code == 2
    assert "customer tables use the local engine" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_without_pyspark_spark_is_one_line_and_local_never_imports_it(cli, tmp_path, monkeypatch):
    log = tmp_path / "log.csv"
    log.write_text("InvoiceNo,InvoiceDate,Amount,CustomerID\n1,2011-01-13,2.5,100\n")
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "pyspark", None)  # as if it were not installed
        result = cli("rfm", log, "--engine", "spark")
    assert result.exit_code == 2
    assert "install segwise[spark]" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    code = (
        "import sys; from segwise import service; "
        f"service.compute_rfm({str(log)!r}); print('pyspark' in sys.modules)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False"


def test_spark_master_setting_accepts_local_clusters_and_spark_connect():
    for master in ("local", "local[2]", "local[*]", "spark://h:7077", "sc://h:15002", "yarn"):
        assert Settings(spark_master=master).spark_master == master
    for bad in ("local[two]", "http://h:7077", ""):
        with pytest.raises(ConfigError, match="setting spark_master = "):
            Settings(spark_master=bad)


def test_strptime_formats_become_java_patterns():
    assert java_pattern("%d/%m/%Y") == "d/M/yyyy"
    assert java_pattern("%Y%m%d") == "yyyyMMdd"
    assert java_pattern("%d-%b-%y %I:%M %p") == "d-MMM-yy h:m a"
    assert java_pattern("%Y-%m-%dT%H:%M") == "yyyy-M-d'T'H:m"
    with pytest.raises(InputError, match="%a"):
        java_pattern("%a %d/%m/%Y")


def test_every_built_text_parses_in_spark_sql(spark: Any) -> None:
    from segwise.io.sql import SPARK
    from test_sql_text import built_texts

    parser = spark._jsparkSession.sessionState().sqlParser()
    texts = built_texts(SPARK)
    assert len(texts) > 100
    for text in texts:
        parser.parsePlan(text)  # raises ParseException on a syntax error
