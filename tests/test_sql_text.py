"""Every SQL text segwise builds parses, in DuckDB and in Spark SQL, whatever the engine release.

DuckDB 2.0.1 began to reject ``FROM (table) AS alias``; a builder that wraps a bare name in
parentheses then breaks every log command. These tests run each built text through DuckDB's
parser (no tables needed), over the option combinations the builders branch on; test_spark.py
runs the Spark texts through Spark SQL's parser.
"""

from __future__ import annotations

import itertools
from datetime import date

import duckdb
import pytest

from segwise.engines.local import kept_lines_sql
from segwise.features.rfm import SegmentGrid, customer_lines_sql, rfm_sql
from segwise.io.dates import DateFormat
from segwise.io.roles import RoleMapping
from segwise.io.sql import DUCKDB, Dialect, relation
from segwise.io.validate import (
    LineRules,
    classified_sql,
    customer_text_expr,
    date_expr,
    product_names_sql,
)

TEXT = "VARCHAR"
MAPPINGS = {
    "quantity x price, invoice, product": RoleMapping(
        customer="Customer ID",
        date="InvoiceDate",
        invoice="Invoice",
        quantity="Quantity",
        price="Price",
        product="StockCode",
    ),
    "quantity x price, product and its name": RoleMapping(
        customer="CustomerID",
        date="InvoiceDate",
        quantity="Quantity",
        price="UnitPrice",
        product="StockCode",
        description="Description",
    ),
    "amount, description": RoleMapping(
        customer="cid", date="when", amount="dollars", description="Description"
    ),
    "amount and quantity": RoleMapping(
        customer="cid", date="when", amount="dollars", quantity="n_cds"
    ),
}


def rules_for(mapping: RoleMapping, *, typed_date: bool, float_ids: bool) -> LineRules:
    types = {column: TEXT for column in mapping.as_dict().values()}
    assert mapping.date is not None
    if typed_date:
        types[mapping.date] = "TIMESTAMP"
    return LineRules(
        mapping=mapping,
        types=types,
        # ISO dates take their own branch (a cast); tied to float ids so as not to double the texts
        date_format=None
        if typed_date
        else DateFormat("%Y-%m-%d", "ISO")
        if float_ids
        else DateFormat("%d/%m/%Y", "day first"),
        decimal_comma=frozenset({mapping.amount or mapping.price or ""}),
        float_ids=float_ids,
    )


def built_texts(dialect: Dialect) -> list[str]:
    """The texts the engines run: classified lines, per-customer groups, scores, kept lines."""
    texts = []
    grid = SegmentGrid.from_mapping(
        {"it's all one": [f"{r}{f}" for r in range(1, 6) for f in range(1, 6)]}
    )
    for mapping, typed_date, float_ids, as_of, codes in itertools.product(
        MAPPINGS.values(), (False, True), (False, True), (None, "2011-12-10"), (False, True)
    ):
        rules = rules_for(mapping, typed_date=typed_date, float_ids=float_ids)
        for source in ("src", '"my view"', "SELECT * FROM src WHERE _row > 0"):
            classified = classified_sql(
                rules, as_of, source=source, dialect=dialect, reason_codes=codes
            )
            texts.append(classified)
            text = customer_text_expr(rules, dialect=dialect)
            for lines, invoices in itertools.product((classified, "classified_lines"), (1, 0)):
                texts.append(
                    customer_lines_sql(
                        lines, customer_text=text, invoices=bool(invoices), dialect=dialect
                    )
                )
            if dialect is DUCKDB:
                texts.append(kept_lines_sql(rules, classified))
                texts.append(product_names_sql(rules, source) or "SELECT 1")
                texts.append(f"SELECT {date_expr(rules)} FROM src")
    grouped = customer_lines_sql("lines", dialect=dialect)
    for customer_lines, bins, cells in itertools.product(
        ("customer_lines", grouped), (2, 4, 5, 9), (None, grid)
    ):
        options = {"grid": cells} if cells else {}
        texts.append(
            rfm_sql(customer_lines, as_of=date(2011, 12, 10), bins=bins, dialect=dialect, **options)
        )
    return texts


def test_relation_keeps_names_bare_and_wraps_queries():
    assert relation("customer_lines", "c") == "customer_lines AS c"
    assert relation('"my ""odd"" view"', "c") == '"my ""odd"" view" AS c'
    assert relation("db.main.lines", "c") == "db.main.lines AS c"
    assert relation("SELECT 1 AS x", "c") == "(SELECT 1 AS x) AS c"
    assert relation("lines WHERE 1 = 1", "c") == "(lines WHERE 1 = 1) AS c"


def test_every_built_text_parses_in_duckdb():
    con = duckdb.connect()
    texts = built_texts(DUCKDB)
    assert len(texts) > 100
    for text in texts:
        assert len(con.extract_statements(text)) == 1, text


def test_a_parenthesised_bare_name_is_what_duckdb_rejects():
    """The oracle: the parser these tests rely on does reject the text that broke 2.0.1."""
    with pytest.raises(duckdb.ParserException):
        duckdb.connect().extract_statements("SELECT * FROM (customer_lines) AS c")
