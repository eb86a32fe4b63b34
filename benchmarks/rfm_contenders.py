"""The contenders of ``bench_rfm.py``: each reads one log and computes RFM its own way.

``bench_rfm.py --contender NAME --file F`` runs one of them in a child process and prints what it
returns (a fingerprint of its result, to check that contenders computed the same thing).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

CSV_TS = "%m/%d/%Y %H:%M"  # write_log(style="us"); the bare queries are told, segwise detects it


def _cdnow(path: str) -> bool:
    return Path(path).name.startswith("cdnow_")


def _pandas_log(path: str) -> tuple[Any, Any, Any]:
    """What a pandas user writes first: read, as-of date, drop guests, line totals, purchases.

    A CDNOW-shaped log is renamed to the retail columns (one line = one purchase, its date as
    the invoice: frequency counts distinct days, as segwise does without an invoice column).
    """
    import pandas as pd

    date = "date" if _cdnow(path) else "InvoiceDate"
    df = pd.read_csv(path, parse_dates=[date]) if path.endswith(".csv") else pd.read_parquet(path)
    if _cdnow(path):
        df = df.rename(columns={"customer_id": "CustomerID", "date": "InvoiceDate"})
        df = df.assign(InvoiceNo=df["InvoiceDate"], Quantity=1, UnitPrice=df["dollar_value"])
    as_of = df["InvoiceDate"].max().normalize() + pd.Timedelta(days=1)
    df = df.dropna(subset=["CustomerID"])
    df["total"] = df["Quantity"] * df["UnitPrice"]
    if _cdnow(path):
        return df, df, as_of
    buys = df[~df["InvoiceNo"].astype(str).str.startswith("C")]
    return df, buys, as_of


def textbook(path: str, per_customer_apply: bool = False) -> dict[str, float]:
    import pandas as pd

    from segwise.features.rfm import DEFAULT_CELLS

    df, buys, as_of = _pandas_log(path)
    if per_customer_apply:

        def customer(g: Any) -> Any:
            bought = g[~g["InvoiceNo"].astype(str).str.startswith("C")]
            days = (as_of - bought["InvoiceDate"].max().normalize()).days
            rfm = [days, bought["InvoiceNo"].nunique(), round(g["total"].sum(), 2)]
            return pd.Series(rfm, index=["recency", "frequency", "monetary"])

        rfm = df.groupby("CustomerID").apply(customer)
    else:
        rfm = buys.groupby("CustomerID").agg(
            recency=("InvoiceDate", lambda d: (as_of - d.max().normalize()).days),
            frequency=("InvoiceNo", "nunique"),
        )
        rfm["monetary"] = df.groupby("CustomerID")["total"].sum().round(2)
    edges = rfm.quantile([0.2, 0.4, 0.6, 0.8]).to_dict()

    def score(x: float, col: str) -> int:
        s = 1 + sum(x > q for q in edges[col].values())
        return 6 - s if col == "recency" else s

    for col in ("recency", "frequency", "monetary"):
        rfm[col[0].upper()] = rfm[col].apply(score, args=(col,))
    grid = {(int(c[0]), int(c[1])): name for name, cells in DEFAULT_CELLS.items() for c in cells}

    def segment(row: Any) -> str:
        return grid[(row["R"], (row["F"] + row["M"] + 1) // 2)]

    rfm["segment"] = rfm.apply(segment, axis=1)
    return _sums(len(rfm), rfm["recency"].sum(), rfm["frequency"].sum(), rfm["monetary"].sum())


def lifetimes(path: str, pymc: bool = False) -> dict[str, float]:
    if pymc:
        from pymc_marketing.clv.utils import rfm_summary as summary
    else:
        from lifetimes.utils import summary_data_from_transaction_data as summary

    _, buys, _ = _pandas_log(path)
    end = buys["InvoiceDate"].max()
    out = summary(
        buys, "CustomerID", "InvoiceDate", monetary_value_col="total", observation_period_end=end
    )
    return {"customers": len(out)}


def duckdb(path: str) -> dict[str, float]:
    import duckdb

    if _cdnow(path):
        read = f"read_parquet('{path}')" if path.endswith(".parquet") else f"read_csv('{path}')"
        out = duckdb.sql(
            "SELECT customer_id, max(date) AS last, count(DISTINCT date) AS f, "
            f"sum(dollar_value) AS m FROM {read} GROUP BY 1"
        ).to_arrow_table()
        return _sums(out.num_rows, None, out["f"].to_numpy().sum(), out["m"].to_numpy().sum())
    read = (
        f"read_csv('{path}', timestampformat = '{CSV_TS}', types = {{'InvoiceNo': 'VARCHAR'}})"
        if path.endswith(".csv")
        else f"read_parquet('{path}')"
    )
    buy = "FILTER (WHERE NOT starts_with(InvoiceNo, 'C'))"
    out = duckdb.sql(
        f"SELECT CustomerID, max(InvoiceDate) {buy} AS last, count(DISTINCT InvoiceNo) {buy} AS f, "
        f"sum(Quantity * UnitPrice) AS m FROM {read} WHERE CustomerID IS NOT NULL GROUP BY 1"
    ).to_arrow_table()
    return _sums(out.num_rows, None, out["f"].to_numpy().sum(), out["m"].to_numpy().sum())


def polars(path: str) -> dict[str, float]:
    import polars as pl

    if _cdnow(path):
        out = (
            _polars_cdnow(path)
            .group_by("customer_id")
            .agg(
                pl.col("date").max().alias("last"),
                pl.col("date").n_unique().alias("f"),
                pl.col("dollar_value").sum().alias("m"),
            )
            .collect()
        )
        return _sums(out.height, None, out["f"].sum(), out["m"].sum())
    if path.endswith(".csv"):
        lf = pl.scan_csv(path, schema_overrides={"InvoiceNo": pl.String})
        lf = lf.with_columns(pl.col("InvoiceDate").str.to_datetime(CSV_TS))
    else:
        lf = pl.scan_parquet(path)
    buy = ~pl.col("InvoiceNo").str.starts_with("C")
    out = (
        lf.filter(pl.col("CustomerID").is_not_null())
        .group_by("CustomerID")
        .agg(
            pl.col("InvoiceDate").filter(buy).max().alias("last"),
            pl.col("InvoiceNo").filter(buy).n_unique().alias("f"),
            (pl.col("Quantity") * pl.col("UnitPrice")).sum().alias("m"),
        )
        .collect()
    )
    return _sums(out.height, None, out["f"].sum(), out["m"].sum())


def _polars_cdnow(path: str, exact: bool = False) -> Any:
    """The CDNOW-shaped log, lazily; ``exact``: a CSV's ids read as text, amounts as decimals."""
    import polars as pl

    money = pl.Decimal(18, 6)
    if path.endswith(".csv"):
        types = {"date": pl.Date}
        types |= {"customer_id": pl.String, "dollar_value": money} if exact else {}
        return pl.scan_csv(path, schema_overrides=types)
    lf = pl.scan_parquet(path)
    return lf.with_columns(pl.col("dollar_value").cast(money)) if exact else lf


def polars_exact(path: str) -> dict[str, float]:
    """``polars_rfm`` with segwise's guarantees: a CSV's ids read as text (leading zeros kept),
    amounts summed as exact decimals, the result ordered by the id as text."""
    return polars_rfm(path, exact=True)


def polars_rfm(path: str, exact: bool = False) -> dict[str, float]:
    """A Polars lazy query with segwise's definitions: R, F, M, scores 1..5, segments, Parquet."""
    import polars as pl

    from segwise.features.rfm import DEFAULT_CELLS

    if _cdnow(path):
        lf = _polars_cdnow(path, exact).select(
            pl.col("customer_id").alias("id"),
            pl.col("date").alias("day"),
            pl.col("date").alias("key"),
            pl.col("dollar_value").alias("value"),
            pl.lit(True).alias("buy"),
        )
    else:
        money = pl.Decimal(18, 6)
        types = {"InvoiceNo": pl.String}
        types |= {"CustomerID": pl.String, "Quantity": money, "UnitPrice": money} if exact else {}
        lf = (
            pl.scan_csv(path, schema_overrides=types).with_columns(
                pl.col("InvoiceDate").str.to_datetime(CSV_TS)
            )
            if path.endswith(".csv")
            else pl.scan_parquet(path)
        )
        if exact and not path.endswith(".csv"):
            lf = lf.with_columns(pl.col("Quantity", "UnitPrice").cast(money))
        lf = lf.filter(pl.col("CustomerID").is_not_null()).select(
            pl.col("CustomerID").alias("id"),
            pl.col("InvoiceDate").dt.date().alias("day"),
            pl.col("InvoiceNo").alias("key"),
            (pl.col("Quantity") * pl.col("UnitPrice")).alias("value"),
            (~pl.col("InvoiceNo").str.starts_with("C")).alias("buy"),
        )
    as_of = pl.col("day").max() + pl.duration(days=1)
    n, bins = pl.len(), 5

    def score(worse: pl.Expr) -> pl.Expr:  # 1 + floor(B * w / n), w: strictly worse values
        return (1 + (bins * worse) // n).cast(pl.Int8)

    grid = {int(c): name for name, cells in DEFAULT_CELLS.items() for c in cells}
    out = (
        lf.group_by("id")
        .agg(
            pl.col("day").filter("buy").max().alias("last"),
            pl.col("key").filter("buy").n_unique().alias("frequency"),
            pl.col("value").sum().round(2).alias("monetary"),
            as_of.alias("as_of"),
        )
        .with_columns(pl.col("as_of").max())
        .filter(pl.col("frequency") > 0)
        .with_columns(recency=(pl.col("as_of") - pl.col("last")).dt.total_days())
        .with_columns(
            r_score=score(n - pl.col("recency").rank("max")),
            f_score=score(pl.col("frequency").rank("min") - 1),
            m_score=score(pl.col("monetary").rank("min") - 1),
        )
        .with_columns(
            segment=(10 * pl.col("r_score") + (pl.col("f_score") + pl.col("m_score") + 1) // 2)
            .cast(pl.Int32)
            .replace_strict(grid, return_dtype=pl.String)
        )
        .with_columns(pl.col("id").cast(pl.String) if exact else pl.col("id"))
        .sort("id")
        .collect()
    )
    with tempfile.TemporaryDirectory() as tmp:
        out.write_parquet(Path(tmp) / "rfm.parquet")
    return _sums(out.height, out["recency"].sum(), out["frequency"].sum(), out["monetary"].sum())


def _sums(n: int, recency: Any, frequency: Any, monetary: Any) -> dict[str, float]:
    """A fingerprint of a result, to check that contenders computed the same thing."""
    out = {"customers": n, "frequency": int(frequency), "monetary": float(monetary)}
    return out | ({"recency": int(recency)} if recency is not None else {})
