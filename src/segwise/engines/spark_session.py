"""The Spark session segwise runs on: local by default, a cluster or Spark Connect by setting.

``SEGWISE_SPARK_MASTER`` takes ``local[N]`` (``local[*]``: all cores), ``spark://host:7077``
(a standalone cluster; ``yarn`` and ``k8s://`` work as for spark-submit) or ``sc://host:15002``
(Spark Connect: no local JVM, the client talks gRPC to the cluster).
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession

from segwise.config import Settings
from segwise.errors import InputError

#: SQL settings of every segwise session: ANSI SQL with double-quoted identifiers (as in
#: DuckDB, so both engines run one SQL text), the java.time date parser, Arrow transfers.
SQL_CONF = {
    "spark.sql.ansi.enabled": "true",
    "spark.sql.ansi.doubleQuotedIdentifiers": "true",
    "spark.sql.legacy.timeParserPolicy": "CORRECTED",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


def spark_session(settings: Settings) -> SparkSession:
    """The process's Spark session: ``local[*]`` by default, ``spark://`` or Spark Connect
    (``sc://``) from ``SEGWISE_SPARK_MASTER``; quiet: log level ERROR, no UI, no progress bar,
    and a local JVM's stderr goes to ``SEGWISE_HOME/spark.log``.

    A process holds one Spark context, so a session that is already running is reused.
    """
    master = settings.spark_master
    with quiet_pandas_check():
        if master.startswith("sc://"):
            session = _connect(master)
        else:
            session = _classic(master, settings.home / "spark.log")
    try:
        for key, value in SQL_CONF.items():
            session.conf.set(key, value)
    except Exception as error:  # Spark Connect: the first call reaches the server
        message = " ".join(str(error).split())[:200]
        raise InputError(
            f"cannot reach Spark at {master} ({message})", hint="check SEGWISE_SPARK_MASTER"
        ) from None
    return session


@contextmanager
def quiet_pandas_check() -> Iterator[None]:
    """Silence PySpark's warning that it was not tested with this pandas version (it is,
    here: the parity tests run on it)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*PySpark does not yet fully support")
        yield


def _classic(master: str, log: Path) -> SparkSession:
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        raise InputError(
            "--engine spark needs Java, which is not installed",
            hint="install Java 17 (e.g. apt install openjdk-17-jre-headless) or set JAVA_HOME",
        )
    builder = (
        SparkSession.builder.appName("segwise")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    if "PYSPARK_GATEWAY_PORT" not in os.environ:  # under spark-submit, its --master wins
        builder = builder.master(master)
        if master.startswith("local"):
            partitions = str(2 * _local_threads(master))
            builder = builder.config("spark.sql.shuffle.partitions", partitions)
    try:
        with _stderr_to(log):
            session = builder.getOrCreate()
    except Exception as error:  # the JVM did not start: Java missing or broken
        raise InputError(
            f"cannot start Spark ({' '.join(str(error).split())[:200]})",
            hint=f"check Java 17 and SEGWISE_SPARK_MASTER; Spark's log: {log}",
        ) from None
    session.sparkContext.setLogLevel("ERROR")
    return session


@contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """Point file descriptor 2 at ``path`` while the JVM starts, so that the JVM keeps it as
    its stderr (Java prints warnings no log setting silences); ours is restored after."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        log = path.open("ab")
    except OSError:  # no writable log: Spark's lines stay on stderr
        log = None
    if log is None:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _connect(url: str) -> SparkSession:
    try:
        return SparkSession.builder.remote(url).getOrCreate()
    except ImportError as error:
        raise InputError(
            f"Spark Connect needs its client libraries ({error})",
            hint="pip install 'pyspark[connect]'",
        ) from None


def _local_threads(master: str) -> int:
    inside = master.partition("[")[2].partition("]")[0].split(",")[0]
    return int(inside) if inside.isdigit() else os.cpu_count() or 2


def to_arrow(frame: DataFrame) -> pa.Table:
    """Collect a (per-customer, not per-line) Spark table as Arrow."""
    with quiet_pandas_check():
        if hasattr(frame, "toArrow"):
            table: pa.Table = frame.toArrow()
            return table
        return pa.Table.from_pandas(frame.toPandas(), preserve_index=False)
