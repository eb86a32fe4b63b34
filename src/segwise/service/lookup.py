"""Use case: everything about one customer of a run, fast enough to answer while they wait.

Assignments and cleaned lines are stored sorted by customer id, so DuckDB reads only the
Parquet row groups that can hold the customer; what describes the run is cached.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from segwise.config import Settings, get_settings
from segwise.errors import NotFoundError
from segwise.io.duck import connect
from segwise.service.datasets import open_catalog, pseudonym_key
from segwise.store.lake import product_names_path, pseudonym
from segwise.value.clv import VALUE_COLUMNS

TOP_PRODUCTS = 5


@dataclass(frozen=True)
class _RunView:
    """What a look-up needs of a finished run, read once."""

    run_id: str
    kind: str
    assignments: str
    lines: str | None
    product_names: str | None  # the log's product names, kept beside its lines
    names: dict[int, str]
    advice: dict[int, str]
    quantiles: dict[str, list[float]]
    pseudonymised: bool


_shared: list[duckdb.DuckDBPyConnection] = []  # one in-memory database, made on first use
_shared_lock = threading.Lock()


def lookup_customer(
    run_id: str, customer_id: str, *, settings: Settings | None = None
) -> dict[str, Any]:
    """Features, segment and its name and advice, RFM scores, where the customer stands in
    each feature (percentile), and for logs the purchases by month, the top products and the
    customer's value when the run has it (P(alive), expected purchases and value, CLV).
    Analysts and admins; recorded in the audit log under a keyed hash of the id."""
    from segwise.service.audit import record_event, require
    from segwise.service.erasure import customer_ref

    require("lookup")
    settings = settings or get_settings()
    record_event(
        "customer.lookup", customer_ref(customer_id, settings), {"run": run_id}, settings=settings
    )
    view = _view(str(settings.home), settings.database_url, run_id)
    with _cursor() as con:
        return _lookup(con, view, settings, customer_id)


def _lookup(
    con: duckdb.DuckDBPyConnection, view: _RunView, settings: Settings, customer_id: str
) -> dict[str, Any]:
    from segwise.io.validate import customer_id_text

    # as typed, then as the readers normalise ids ("17924.0" -> "17924")
    wanted = list(dict.fromkeys([customer_id, customer_id_text(customer_id)]))
    if view.pseudonymised:
        key = pseudonym_key(settings, True)
        assert key is not None
        wanted[:0] = [pseudonym(key, ident) for ident in wanted]
    row: dict[str, Any] | None = None
    for ident in wanted:
        cursor = con.execute(
            "SELECT * FROM read_parquet(?) WHERE customer_id = ?", [view.assignments, ident]
        )
        found = cursor.fetchone()
        if found is not None:
            row = dict(zip([d[0] for d in cursor.description], found, strict=True))
            break
    if row is None:
        raise NotFoundError(f"customer '{customer_id}' is not in run {view.run_id}")
    segment = int(row.pop("segment"))
    out: dict[str, Any] = {
        "run": view.run_id,
        "customer_id": row.pop("customer_id"),
        "segment": segment,
        "segment_name": row.pop("segment_name"),
        "recommendation": view.advice.get(segment, ""),
    }
    rfm = {
        c: row.pop(c)
        for c in ("r_score", "f_score", "m_score", "rfm_code", "rfm_segment")
        if c in row
    }
    value = {c: _plain(row.pop(c)) for c in VALUE_COLUMNS if c in row}
    out["features"] = {k: _plain(v) for k, v in row.items()}
    out["standing"] = {
        name: _percentile(view.quantiles[name], value)
        for name, value in out["features"].items()
        if name in view.quantiles and isinstance(value, int | float)
    }
    if rfm:
        out["rfm"] = {k: _plain(v) for k, v in rfm.items()}
    if value:
        out["value"] = value
    if view.lines is not None:
        out |= _history(con, view.lines, view.product_names, str(out["customer_id"]))
    return out


def _history(
    con: duckdb.DuckDBPyConnection, lines: str, names: str | None, ident: str
) -> dict[str, Any]:
    months = con.execute(
        "SELECT strftime(date_trunc('month', day), '%Y-%m') AS month, "
        "count(DISTINCT invoice) FILTER (WHERE quantity > 0) AS purchases, "
        "count(*) FILTER (WHERE quantity < 0) AS returns, "
        "CAST(round(sum(value), 2) AS DOUBLE) AS spend "
        "FROM read_parquet(?) WHERE customer_id = ? GROUP BY 1 ORDER BY 1",
        [lines, ident],
    ).fetchall()
    top = (
        "SELECT product, count(*) AS lines, CAST(round(sum(value), 2) AS DOUBLE) AS spend{name} "
        "FROM read_parquet(?) WHERE customer_id = ? AND product IS NOT NULL "
        f"GROUP BY product ORDER BY spend DESC, product LIMIT {TOP_PRODUCTS}"
    )
    if names is not None:  # one name per product code, kept beside the lines
        products = con.execute(
            f"SELECT t.product, n.name, t.lines, t.spend FROM ({top.format(name='')}) AS t "
            "LEFT JOIN read_parquet(?) AS n USING (product) ORDER BY t.spend DESC, t.product",
            [lines, ident, names],
        ).fetchall()
    else:  # lines stored with their names (before names were kept apart), or without any
        named = "description" in {
            str(c[0])
            for c in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [lines]).fetchall()
        }
        name = ", max(description) AS name" if named else ", CAST(NULL AS VARCHAR) AS name"
        products = con.execute(
            f"SELECT product, name, lines, spend FROM ({top.format(name=name)}) "
            "ORDER BY spend DESC, product",
            [lines, ident],
        ).fetchall()
    return {
        "history": [
            {"month": m, "purchases": int(p), "returns": int(r), "spend": s}
            for m, p, r, s in months
        ],
        "top_products": [
            {"product": p, "lines": int(n), "spend": s} | ({"name": name} if name else {})
            for p, name, n, s in products
        ],
    }


@lru_cache(maxsize=64)
def _view(home: str, url: str | None, run_id: str) -> _RunView:
    from segwise.service.runs import done_run

    catalog = open_catalog(
        get_settings().model_copy(update={"home": Path(home), "database_url": url})
    )
    run = done_run(catalog, run_id)
    assert run.path is not None
    folder = Path(home) / run.path
    standing = json.loads((folder / "standing.json").read_text())
    dataset = run.dataset
    lines = Path(home) / dataset.path if dataset.kind == "transactions" else None
    product_names = product_names_path(lines) if lines is not None else None
    return _RunView(
        run_id=run.id,
        kind=dataset.kind,
        assignments=str(folder / "assignments.parquet"),
        lines=str(lines) if lines is not None else None,
        product_names=str(product_names) if product_names and product_names.is_file() else None,
        names={s.segment: s.name for s in run.segments},
        advice={s.segment: s.recommendation for s in run.segments},
        quantiles=standing.get("quantiles", {}),
        pseudonymised=dataset.pseudonymised,
    )


@contextmanager
def _cursor() -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor of one shared DuckDB database, closed after the look-up.

    Cursors share the database's Parquet footer cache, so a look-up reads only the row
    groups it needs. Not one connection per thread: API worker threads are daemons, and a
    DuckDB connection left in a thread's locals was destroyed as the interpreter shut down,
    which aborted the process ("terminate called ... exception not rethrown").
    """
    with _shared_lock:
        if not _shared:
            con = connect()
            con.execute("SET GLOBAL parquet_metadata_cache = true")  # every cursor: footers once
            _shared.append(con)
    cursor = _shared[0].cursor()
    try:
        yield cursor
    finally:
        cursor.close()


def _percentile(quantiles: list[float], value: float) -> float | None:
    """Where ``value`` stands among the run's customers, in % (from its 101 quantiles)."""
    q = np.asarray(quantiles, dtype=float)
    if len(q) == 0 or np.isnan(value):
        return None
    lo = int(np.searchsorted(q, value, side="left"))
    hi = int(np.searchsorted(q, value, side="right"))
    middle = (lo + hi - 1) / 2 if hi > lo else lo - 0.5
    return float(round(min(max(middle, 0.0), 100.0), 1))


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value
