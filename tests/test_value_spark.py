"""--engine spark for ``segwise value``: the repeat-purchase summary equals DuckDB's value for
value on CDNOW, so the fitted models and every customer's scores are the same.

Shares the Spark session and its ``xdist_group`` with tests/test_spark.py (one JVM).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from lifetimes.datasets import load_dataset

from segwise.config import Settings, get_settings

pytestmark = [
    pytest.mark.xdist_group("spark"),
    pytest.mark.skipif(
        not (shutil.which("java") or os.environ.get("JAVA_HOME")), reason="Java is not installed"
    ),
]


@pytest.fixture(scope="module")
def on_spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A local[2] session for this module, and the settings pointing runs at it."""
    from segwise.engines.spark_session import spark_session

    home = tmp_path_factory.mktemp("spark-home")
    session = spark_session(Settings(spark_master="local[2]", home=home))
    yield session
    session.stop()


def test_cdnow_value_on_spark_equals_duckdb(cli, on_spark, tmp_path, monkeypatch):
    monkeypatch.setenv("SEGWISE_SPARK_MASTER", "local[2]")
    get_settings.cache_clear()
    raw = load_dataset("CDNOW_sample.txt", header=None, sep=r"\s+", dtype={0: str, 1: str})
    raw.columns = ["old_id", "customer_id", "date", "cds", "amount"]
    log = tmp_path / "cdnow_sample.csv"
    raw.to_csv(log, index=False)
    flags = ["--customer", "customer_id", "--date", "date", "--amount", "amount"]
    flags += ["--calibration-end", "1997-09-30", "--discount-rate", "0.1"]
    outputs: dict[str, pd.DataFrame] = {}
    summaries: dict[str, Any] = {}
    for engine in ("local", "spark"):
        out = tmp_path / f"{engine}.parquet"
        result = cli("value", log, *flags, "--engine", engine, "--out", out, "--json")
        assert result.exit_code == 0, result.stderr
        outputs[engine] = pd.read_parquet(out)
        summaries[engine] = json.loads(result.stdout) | {"out": None}
    summary_columns = ["customer_id", "repeat_purchases", "t_x", "T", "mean_repeat_value"]
    assert len(outputs["spark"]) == 2357
    pd.testing.assert_frame_equal(
        outputs["spark"][summary_columns], outputs["local"][summary_columns], check_exact=True
    )
    pd.testing.assert_frame_equal(outputs["spark"], outputs["local"], check_exact=True)
    assert summaries["spark"] == summaries["local"]
    assert summaries["spark"]["bgnbd"]["r"] == pytest.approx(0.243, rel=0.02)


def test_a_spark_segment_run_gets_the_same_value_columns(cli, on_spark, tmp_path, monkeypatch):
    """Value columns of a run come from the stored lines, so --engine spark and local agree
    for every customer (the segments themselves may be numbered differently)."""
    monkeypatch.setenv("SEGWISE_SPARK_MASTER", "local[2]")
    get_settings.cache_clear()
    raw = load_dataset("CDNOW_sample.txt", header=None, sep=r"\s+", dtype={0: str, 1: str})
    raw.columns = ["old_id", "customer_id", "date", "cds", "amount"]
    log = tmp_path / "cdnow_sample.csv"
    raw[["customer_id", "date", "amount"]].to_csv(log, index=False)
    columns = ["customer_id", "p_alive", "expected_purchases", "expected_value", "clv"]
    found: dict[str, pd.DataFrame] = {}
    for engine in ("local", "spark"):
        out = tmp_path / f"{engine}.parquet"
        result = cli("segment", log, "--k", "3", "--engine", engine, "--out", out, "--json")
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["value"]["customers"] == 2357
        found[engine] = pd.read_parquet(out).sort_values("customer_id", ignore_index=True)
    pd.testing.assert_frame_equal(found["spark"][columns], found["local"][columns])
    assert found["spark"]["churn_risk"].tolist() == found["local"]["churn_risk"].tolist()
