"""A delimited export is sniffed once: every later read names the columns and the sniffed
dialect (quote, escape, line ends, separator), so DuckDB does not sniff the file again, and
reads the lines a plain comma-separated copy of the same log gives.

Oracle: the same log written plainly (comma, LF, quotes only where needed), whose RFM the
hand-worked and CDNOW tests hold.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import segwise.engines.local as local
from segwise.config import Settings
from segwise.demo import generate_log
from segwise.features.rfm import RfmOptions

VARIANTS: dict[str, dict[str, Any]] = {
    "plain": {"sep": ",", "quoting": csv.QUOTE_MINIMAL, "lineterminator": "\n"},
    "quoted-crlf": {"sep": ",", "quoting": csv.QUOTE_ALL, "lineterminator": "\r\n"},
    "semicolon": {"sep": ";", "quoting": csv.QUOTE_NONNUMERIC, "lineterminator": "\n"},
    "tab": {"sep": "\t", "quoting": csv.QUOTE_MINIMAL, "lineterminator": "\r\n"},
    "pipe": {"sep": "|", "quoting": csv.QUOTE_MINIMAL, "lineterminator": "\n"},
}


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    lines = generate_log(60, seed=11).lines.to_pandas()
    # names with every separator and a quote, so that quoting matters in each variant
    lines["Description"] = lines["Description"] + ', 6" ; | \t BOX'
    lines["CustomerID"] = lines["CustomerID"].astype("Int64")
    return lines


class Recorder:
    """A DuckDB connection that keeps the text of every query."""

    def __init__(self, con: Any, queries: list[str]) -> None:
        self._con, self._queries = con, queries

    def execute(self, query: str, *args: Any) -> Any:
        self._queries.append(query)
        return self._con.execute(query, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


@pytest.mark.parametrize("keep_lines", [False, True], ids=["streamed", "table"])
def test_a_text_log_is_sniffed_once_and_read_alike_in_every_dialect(
    log: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep_lines: bool
) -> None:
    queries: list[str] = []
    connect = local.connect
    monkeypatch.setattr(local, "connect", lambda s: Recorder(connect(s), queries))
    tables = {}
    for name, style in VARIANTS.items():
        path = tmp_path / f"{name}.csv"
        log.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M", **style)
        queries.clear()
        result = local.compute_rfm(
            path, RfmOptions(), Settings(home=tmp_path), keep_lines=keep_lines
        )
        assert result.source["delimiter"] == {"\t": "tab"}.get(style["sep"], style["sep"])
        tables[name] = result.to_pandas()
        result.con.close()
        sniffs = [q for q in queries if "sniff_csv(" in q]
        reads = [q for q in queries if "read_csv(" in q]
        assert len(sniffs) == 1, name
        assert reads and all("auto_detect = false" in q for q in reads), name
    plain = tables.pop("plain")
    assert len(plain) == log["CustomerID"].nunique()
    for name, table in tables.items():
        pd.testing.assert_frame_equal(table, plain, obj=name)
