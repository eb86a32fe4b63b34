"""Seeded synthetic shop logs with planted customer types: the demo data and the test oracle.

The log looks like a real Online-Retail export: invoices with several product lines,
cancellations (``C`` invoices with negative quantities), guest lines without a customer id and
shop adjustments (postage, manual fixes, bank charges, bad-debt write-offs). Each customer is
drawn from one planted type, so a segmentation can be checked against the truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


@dataclass(frozen=True)
class CustomerType:
    """A planted behaviour: when the last purchase was, how many invoices, how big a basket."""

    name: str
    share: float
    last_days: tuple[int, int]  # last purchase between these many days before the end
    invoices: tuple[int, int]  # number of invoices, inclusive range
    basket: float  # mean invoice value


PLANTED_TYPES = (
    CustomerType("Champions", 0.15, (1, 20), (15, 40), 300.0),
    CustomerType("New", 0.30, (1, 30), (1, 2), 60.0),
    CustomerType("At risk", 0.20, (120, 250), (6, 15), 150.0),
    CustomerType("Lost", 0.35, (250, 360), (1, 2), 25.0),
)

END = date(2011, 12, 9)
_PRODUCTS = 400


@dataclass(frozen=True)
class DemoLog:
    """A generated log (Arrow table of lines) and the planted type of every customer."""

    lines: pa.Table
    customers: pa.Table  # customer_id, planted_type


def generate_log(
    customers: int = 2_000,
    *,
    seed: int = 7,
    types: tuple[CustomerType, ...] = PLANTED_TYPES,
    end: date = END,
    guests: float = 0.05,
    cancellations: float = 0.03,
    adjustments: float = 0.01,
) -> DemoLog:
    """A seeded Online-Retail-style log; vectorised, so millions of lines take seconds."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng(seed)
    shares = np.array([t.share for t in types])
    kind = rng.choice(len(types), size=customers, p=shares / shares.sum())
    ids = rng.choice(np.arange(12_000, 12_000 + 10 * customers), size=customers, replace=False)

    lo_n = np.array([t.invoices[0] for t in types])[kind]
    hi_n = np.array([t.invoices[1] for t in types])[kind]
    n_inv = rng.integers(lo_n, hi_n + 1)
    last = rng.integers(
        np.array([t.last_days[0] for t in types])[kind],
        np.array([t.last_days[1] for t in types])[kind] + 1,
    )
    cust_of_inv = np.repeat(np.arange(customers), n_inv)
    # invoice ages: the last one at `last` days before the end, earlier ones spread before it
    first = np.minimum(last + rng.integers(30, 330, size=customers), 370)
    span = (first - last)[cust_of_inv]
    is_last = np.r_[np.diff(cust_of_inv) != 0, True]
    age = last[cust_of_inv] + np.where(
        is_last, 0, (rng.random(len(cust_of_inv)) * span).astype(int)
    )
    age = np.minimum(age, 372)

    # guest invoices and adjustment invoices have no customer
    n_guest = int(guests * len(cust_of_inv))
    n_adj = max(1, int(adjustments * len(cust_of_inv)))
    inv_cust = np.r_[ids[cust_of_inv].astype(np.float64), np.full(n_guest + n_adj, np.nan)]
    inv_age = np.r_[age, rng.integers(1, 360, size=n_guest + n_adj)]
    basket = np.r_[np.array([t.basket for t in types])[kind][cust_of_inv], np.full(n_guest, 40.0)]
    n_inv_all = len(inv_cust)
    minutes = rng.integers(8 * 60, 18 * 60, size=n_inv_all)
    stamp = (
        np.datetime64(end) - inv_age.astype("timedelta64[D]") + minutes.astype("timedelta64[m]")
    ).astype("datetime64[m]")
    order = np.argsort(stamp, kind="stable")
    invoice_no = np.empty(n_inv_all, dtype=np.int64)
    invoice_no[order] = 536_365 + np.arange(n_inv_all)

    # product lines of purchase invoices
    n_buy = len(cust_of_inv) + n_guest
    n_lines = rng.integers(1, 8, size=n_buy)
    line_inv = np.repeat(np.arange(n_buy), n_lines)
    price_list = np.round(rng.lognormal(1.0, 0.7, size=_PRODUCTS), 2) + 0.29
    product = rng.integers(0, _PRODUCTS, size=len(line_inv))
    price = price_list[product]
    per_line = basket[line_inv] / n_lines[line_inv]
    qty = np.maximum(1, np.rint(per_line / price * rng.uniform(0.6, 1.4, len(line_inv)))).astype(
        np.int64
    )

    # cancellations: a copy of some lines with negative quantity on a C invoice, a day later
    cancel = rng.random(len(line_inv)) < cancellations
    c_inv = line_inv[cancel]
    c_qty = -np.maximum(1, (qty[cancel] * rng.uniform(0.2, 1.0, cancel.sum())).astype(np.int64))

    # adjustments: postage, manual, bank charges, bad debt; no quantity sense, no customer
    adj_inv = np.arange(n_buy, n_inv_all)
    adj_kind = rng.integers(0, 4, size=len(adj_inv))
    adj_code = np.array(["POST", "M", "BANK CHARGES", "B"])[adj_kind]
    adj_desc = np.array(["POSTAGE", "Manual", "Bank Charges", "Adjust bad debt"])[adj_kind]

    codes = np.array([f"{21_000 + i}{'A' if i % 7 == 0 else ''}" for i in range(_PRODUCTS)])
    names = np.array(
        [f"{_WORDS[i % len(_WORDS)]} {_ITEMS[i % len(_ITEMS)]}" for i in range(_PRODUCTS)]
    )
    stock = np.r_[codes[product], codes[product[cancel]], adj_code]
    desc = np.r_[names[product], names[product[cancel]], adj_desc]
    inv_text = np.r_[
        invoice_no[line_inv].astype(str),
        np.char.add("C", invoice_no[c_inv].astype(str)),
        np.char.add("A", invoice_no[adj_inv].astype(str)),
    ]
    when = np.r_[stamp[line_inv], stamp[c_inv] + np.timedelta64(1, "D"), stamp[adj_inv]]
    lines = pa.table(
        {
            "InvoiceNo": inv_text,
            "StockCode": stock,
            "Description": desc,
            "Quantity": np.r_[qty, c_qty, np.ones(len(adj_inv), dtype=np.int64)],
            "InvoiceDate": when.astype("datetime64[us]"),
            "UnitPrice": np.r_[
                price, price[cancel], np.round(rng.uniform(5, 300, len(adj_inv)), 2)
            ],
            "CustomerID": pa.array(
                np.r_[inv_cust[line_inv], inv_cust[c_inv], inv_cust[adj_inv]], from_pandas=True
            ),
            "Country": np.where(rng.random(len(inv_text)) < 0.9, "United Kingdom", "France"),
        }
    )
    cutoff = pa.scalar(datetime.combine(end + timedelta(days=1), datetime.min.time()))
    lines = lines.filter(pc.less(lines["InvoiceDate"], cutoff)).sort_by("InvoiceDate")
    truth = pa.table(
        {
            "customer_id": ids.astype(str),
            "planted_type": np.array([t.name for t in types])[kind],
        }
    )
    return DemoLog(lines=lines, customers=truth)


def write_log(lines: pa.Table, path: str | Path, *, style: str = "uk") -> Path:
    """Write a log as a shop would export it.

    ``uk``: ``;`` separated, day-first ``dd-mm-yyyy h.mm`` dates, decimal commas, ids as floats.
    ``us``: ``,`` separated, month-first ``m/d/yyyy h:mm`` dates. ``.parquet``: typed columns.
    """
    import duckdb

    path = Path(path)
    con = duckdb.connect()
    con.register("lines", lines)
    target = str(path).replace("'", "''")
    if path.suffix == ".parquet":
        con.execute(f"COPY lines TO '{target}' (FORMAT parquet)")
        return path
    if style == "uk":
        select = (
            "InvoiceNo, StockCode, Description, Quantity, "
            "strftime(InvoiceDate, '%d-%m-%Y %-H.%M') AS InvoiceDate, "
            "replace(CAST(CAST(UnitPrice AS DECIMAL(12,2)) AS VARCHAR), '.', ',') AS UnitPrice, "
            "CAST(CustomerID AS DOUBLE) AS CustomerID, Country"
        )
        delim = ";"
    else:
        select = (
            "InvoiceNo, StockCode, Description, Quantity, "
            "strftime(InvoiceDate, '%-m/%-d/%Y %-H:%M') AS InvoiceDate, UnitPrice, "
            "CAST(CustomerID AS BIGINT) AS CustomerID, Country"
        )
        delim = ","
    con.execute(f"COPY (SELECT {select} FROM lines) TO '{target}' (HEADER, DELIMITER '{delim}')")
    return path


_WORDS = ["WHITE", "RED", "BLUE", "VINTAGE", "PINK", "JUMBO", "SET", "OF", "REGENCY", "HEART"]
_ITEMS = [
    "HANGING T-LIGHT HOLDER",
    "LUNCH BAG",
    "CAKE CASES",
    "TEACUP",
    "BUNTING",
    "ALARM CLOCK",
    "DOORMAT",
]

AGREE = ("Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree")
GRADES = ("D", "C", "B", "A")


def generate_customers(customers: int = 1_000, *, seed: int = 7) -> pd.DataFrame:
    """A seeded customer table as a survey export holds it: one row per customer.

    Columns: customer_id, age, income, owns_home (yes/no), channel, visits_per_month,
    satisfied (an agree-disagree answer) and ``recommend``, a business grade A-D ("would
    recommend us") that rises with satisfaction and visits, with noise: a target to predict.
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, size=customers)
    income = np.round(rng.lognormal(10.3, 0.5, size=customers), -2)
    visits = rng.poisson(np.where(rng.random(customers) < 0.3, 8.0, 2.0))
    satisfied = np.clip(np.rint(rng.normal(1.2 + 0.25 * np.minimum(visits, 8), 1.0)), 0, 4)
    score = satisfied + 0.15 * visits + rng.normal(0, 0.6, size=customers)
    grade = np.digitize(score, [1.8, 3.0, 4.2])
    return pd.DataFrame(
        {
            "customer_id": [f"M{n:05d}" for n in rng.permutation(customers) + 1],
            "age": age,
            "income": income,
            "owns_home": np.where(rng.random(customers) < 0.4 + age / 200, "yes", "no"),
            "channel": rng.choice(["Online", "Store", "Phone"], size=customers, p=[0.5, 0.4, 0.1]),
            "visits_per_month": visits,
            "satisfied": np.array(AGREE)[satisfied.astype(int)],
            "recommend": np.array(GRADES)[grade],
        }
    )


def next_month(log: DemoLog, *, seed: int, days: int = 31, returning: float = 0.8) -> pa.Table:
    """The same shop's log ``days`` later: every earlier line, plus that month's purchases.

    The month's buyers are drawn like ``generate_log`` (so the planted types still hold);
    ``returning`` of them are earlier customers (their recency improves), the rest are new.
    Invoice numbers continue after the earlier ones.
    """
    import pandas as pd
    import pyarrow as pa

    later = generate_log(log.customers.num_rows, seed=seed, end=END + timedelta(days=days))
    month = later.lines.to_pandas()
    month = month[month["InvoiceDate"] >= pd.Timestamp(END + timedelta(days=1))]
    rng = np.random.default_rng(seed)
    buyers = month["CustomerID"].dropna().unique()
    back = rng.random(len(buyers)) < returning
    earlier = np.asarray(log.customers["customer_id"].to_numpy(zero_copy_only=False), dtype=float)
    renamed = dict(
        zip(buyers[back], rng.choice(earlier, int(back.sum()), replace=False), strict=True)
    )
    month["CustomerID"] = month["CustomerID"].map(lambda c: renamed.get(c, c))
    shift = 1_000_000  # after every earlier invoice number, whatever its letter prefix
    month["InvoiceNo"] = month["InvoiceNo"].str.replace(
        r"\d+", lambda m: str(int(m.group(0)) + shift), regex=True
    )
    table = pa.Table.from_pandas(month, schema=log.lines.schema, preserve_index=False)
    return pa.concat_tables([log.lines, table])
