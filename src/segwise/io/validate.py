"""Type and classify every line of a log in SQL: who it belongs to, or why it belongs to no one.

The SQL text is pure (built from the role mapping), so DuckDB and Spark run the same rules;
a ``Dialect`` supplies the few spellings in which they differ.
Each line gets at most one drop reason, the first that applies, in the order of ``REASONS``.
Cancellations and returns are kept (they lower net spend) but are not purchases.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from segwise.io.dates import DateFormat, java_pattern
from segwise.io.roles import RoleMapping
from segwise.io.sql import DUCKDB, Dialect, ident, literal, relation, spaced

REASONS: dict[str, str] = {
    "adjustment": "shop adjustments (postage, manual, fees, bad debt; no customer's purchase)",
    "no_customer_id": "guest lines without a customer id",
    "missing_date": "lines without a date",
    "unparseable_date": "dates that cannot be read",
    "unparseable_amount": "amounts, quantities or prices that are not numbers",
    "after_as_of": "lines dated on or after the as-of date",
    "no_purchase": "lines of customers with only cancellations or returns (no purchase)",
    "not_completed": "payments that did not complete (failed, pending or cancelled)",
}
"""Why a line was left out, in the order the rules apply."""

NON_PRODUCT_CODES = frozenset(
    {"POST", "DOT", "C2", "M", "D", "S", "B", "CRUK", "AMAZONFEE", "BANK CHARGES", "ADJUST"}
    | {"ADJUST2", "TEST001", "TEST002"}
)
"""Stock codes that are shop adjustments, not products (postage, manual, discount, fees...)."""

MONEY = "DECIMAL(18,6)"
"""Exact decimal type for quantities, prices and amounts, so sums do not depend on order."""

_NULL_TOKENS = ("", "nan", "null", "none", "na", "n/a", "#n/a", "-", "?")


@dataclass(frozen=True)
class LineRules:
    """How to read each role column of ``src``; built from the mapping and the sample."""

    mapping: RoleMapping
    types: Mapping[str, str]
    date_format: DateFormat | None
    decimal_comma: frozenset[str] = field(default_factory=frozenset)
    float_ids: bool = False

    @classmethod
    def sniffed(
        cls,
        mapping: RoleMapping,
        types: Mapping[str, str],
        date_format: DateFormat | None,
        sample: Mapping[str, Sequence[object]],
        separator: str | None,
    ) -> LineRules:
        """Rules for a file: decimal commas and float ids judged from its value sample."""
        numeric = [c for c in (mapping.quantity, mapping.price, mapping.amount) if c]
        assert mapping.customer is not None
        return cls(
            mapping=mapping,
            types=types,
            date_format=date_format,
            decimal_comma=frozenset(
                c
                for c in numeric
                if types[c] == "VARCHAR" and detect_decimal_comma(sample[c], separator)
            ),
            float_ids=detect_float_ids(sample[mapping.customer]),
        )


def line_columns(mapping: RoleMapping) -> set[str]:
    """The columns the line rules read: every role's, but a description only when there is no
    product code (it then marks adjustments). Loading fewer text columns is faster."""
    roles = mapping.as_dict()
    if mapping.product:
        roles.pop("description", None)
    return set(roles.values())


def detect_decimal_comma(values: Sequence[object], delimiter: str | None) -> bool:
    """True when numbers are written ``2,55`` (decimal comma), as in many European exports."""
    texts = [str(v).strip() for v in values if v is not None]
    if any(re.fullmatch(r"[-+]?\d*\.\d+", t) for t in texts):
        return False
    short = any(re.fullmatch(r"[-+]?\d+,\d{1,2}", t) for t in texts)
    any_comma = any(re.fullmatch(r"[-+]?[\d.]*\d,\d+", t) for t in texts)
    return short or (delimiter == ";" and any_comma)


def detect_float_ids(values: Sequence[object]) -> bool:
    """True when customer ids were exported as floats (``17850.0``): the ``.0`` is dropped."""
    return any(re.fullmatch(r"\d+\.0+", str(v).strip()) for v in values if v is not None)


def customer_id_text(value: object) -> str:
    """A customer id as the readers store it: trimmed, a float export's ``.0`` dropped
    (``' 17924.0'`` -> ``'17924'``); what a user types is looked up the same way."""
    text = str(value).strip()
    return re.sub(r"^([0-9]+)[.]0+$", r"\1", text)


def customer_key_expr(rules: LineRules, dialect: Dialect = DUCKDB) -> str:
    """SQL for the value lines are grouped by: the id as stored (NULL when missing).

    Numeric ids stay numbers (grouping numbers is cheaper than text); text ids are trimmed,
    lose a float ``.0`` and map null tokens to NULL, so that one customer is one key.
    """
    col = rules.mapping.customer
    assert col is not None
    kind = rules.types.get(col, "VARCHAR").upper()
    c = ident(col)
    if kind in ("DOUBLE", "FLOAT", "REAL"):
        return f"CASE WHEN isnan({c}) THEN NULL ELSE {c} END"
    if kind != "VARCHAR":
        return c
    text = _trimmed(c)
    if rules.float_ids:
        text = f"regexp_replace({text}, '^([0-9]+)[.]0+$', '{dialect.backref}')"
    nulls = ", ".join(literal(t) for t in _NULL_TOKENS)
    # a null token is at most 4 characters and never starts with a digit: lower() and trim()
    # run on the few values that could be one (ids of 1 to 4 digits are most of a small shop)
    spaced = f"({c} LIKE ' %' OR {c} LIKE '% ')"
    short = f"length({c}) <= {max(map(len, _NULL_TOKENS))} AND NOT ({c} >= '0' AND {c} < ':')"
    return (
        f"CASE WHEN {spaced} THEN (CASE WHEN lower(trim({c})) IN ({nulls}) THEN NULL ELSE {text} "
        f"END) WHEN {short} AND lower({c}) IN ({nulls}) THEN NULL ELSE {text} END"
    )


def customer_text_expr(
    rules: LineRules, key: str = "customer_id", dialect: Dialect = DUCKDB
) -> str:
    """SQL turning a grouped key into the customer id text (``17850.0`` -> ``17850``)."""
    col = rules.mapping.customer
    assert col is not None
    kind = rules.types.get(col, "VARCHAR").upper()
    t = dialect.text
    if kind in ("DOUBLE", "FLOAT", "REAL") or kind.startswith("DECIMAL"):
        return (
            f"CASE WHEN {key} = floor({key}) THEN CAST(CAST({key} AS BIGINT) AS {t}) "
            f"ELSE CAST({key} AS {t}) END"
        )
    return key if kind == "VARCHAR" else f"CAST({key} AS {t})"


def number_expr(rules: LineRules, col: str) -> str:
    """SQL for a money or quantity column as an exact decimal (NULL when not a number)."""
    kind = rules.types.get(col, "VARCHAR").upper()
    c = ident(col)
    if kind != "VARCHAR":
        return f"TRY_CAST({c} AS {MONEY})"
    if col in rules.decimal_comma:
        return f"TRY_CAST(replace(replace(trim({c}), '.', ''), ',', '.') AS {MONEY})"
    # the cast skips blanks itself: only values with a thousands comma need the replace
    plain = f"TRY_CAST({c} AS {MONEY})"
    commas = f"TRY_CAST(replace(trim({c}), ',', '') AS {MONEY})"
    return f"CASE WHEN {c} LIKE '%,%' THEN {commas} ELSE {plain} END"


def date_expr(rules: LineRules, dialect: Dialect = DUCKDB) -> str:
    """SQL for the purchase day (DATE), NULL when it cannot be read."""
    col = rules.mapping.date
    assert col is not None
    c = ident(col)
    kind = rules.types.get(col, "VARCHAR").upper()
    if kind == "DATE" or kind.startswith("TIMESTAMP"):
        return f"CAST({c} AS DATE)"
    fmt = rules.date_format
    assert fmt is not None, "text dates need a resolved format"
    raw = f"CAST({c} AS {dialect.text})"
    text = spaced(raw)
    if not fmt.whole_value:
        text = f"split_part(split_part({text}, ' ', 1), 'T', 1)"
    if not dialect.java_dates:
        day = dialect.parse_date.format(text=text, pattern=literal(fmt.format))
        if fmt.format != "%Y-%m-%d":
            return day
        # ISO dates: matching dddd-dd-dd and a plain cast cost ~2.5x less than strptime and
        # agree with it on every text of that shape; other texts still go through trim, split
        # and strptime
        iso = f"regexp_full_match({raw}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}')"
        return f"CASE WHEN {iso} THEN TRY_CAST({raw} AS DATE) ELSE {day} END"
    day = dialect.parse_date.format(text=text, pattern=literal(java_pattern(fmt.format)))
    if "%y" not in fmt.format and "%-y" not in fmt.format:
        return day
    # Java reads two-digit years as 20xx; strptime reads 69..99 as 19xx
    return f"add_months({day}, CASE WHEN year({day}) >= 2069 THEN -1200 ELSE 0 END)"


def reason_code(reason: str) -> int:
    """The small integer that stands for a drop reason in coded SQL (its place in ``REASONS``)."""
    return list(REASONS).index(reason) + 1


def reason_name(code: object) -> str | None:
    """The drop reason of a code from ``reason_code`` (None stays None: the line is kept)."""
    return None if code is None else list(REASONS)[int(str(code)) - 1]


def classified_sql(
    rules: LineRules,
    as_of: str | None,
    source: str = "src",
    dialect: Dialect = DUCKDB,
    *,
    reason_codes: bool = False,
) -> str:
    """A SELECT giving, per line: _row, customer_id, day, invoice, value, is_return, reason
    and product (the product code, else the description text; NULL when blank or absent).

    ``source`` is the table (or query) of raw lines with ``_row`` and the role columns.
    ``reason`` is the reason's name, or with ``reason_codes`` its ``reason_code`` (grouping
    10M lines by a small integer instead of text saves ~0.1 s); NULL for a kept line.
    """
    m, t = rules.mapping, dialect.text
    qty = number_expr(rules, m.quantity) if m.quantity else "NULL"
    price = number_expr(rules, m.price) if m.price else None
    if m.amount:
        value = number_expr(rules, m.amount)
    elif m.quantity and price:
        value = f"CAST({qty} AS DECIMAL(38,6)) * ({price})"  # a line may pass 1,000,000
    else:
        assert price is not None, "a log needs an amount, or a quantity and a price"
        value = price
    adjustments = []
    if m.product:
        codes = ", ".join(literal(code) for code in sorted(NON_PRODUCT_CODES))
        adjustments.append(f"upper(trim(CAST({ident(m.product)} AS {t}))) IN ({codes})")
    if m.description and not m.product:
        adjustments.append(f"lower(CAST({ident(m.description)} AS {t})) LIKE 'adjust bad debt%'")
    if m.quantity and m.amount:
        adjustments.append(_blank(m.quantity, rules.types.get(m.quantity, "VARCHAR")))
    returns = ["quantity < 0" if m.quantity else "value < 0"]
    if m.invoice:
        # cancelled invoice: C or c then a digit (C536379), as two range tests on the text
        returns.append(
            "((invoice >= 'C0' AND invoice < 'C:') OR (invoice >= 'c0' AND invoice < 'c:'))"
        )
    reasons = [
        ("is_adjustment", "adjustment"),
        ("customer_id IS NULL", "no_customer_id"),
        ("date_missing", "missing_date"),
        ("day IS NULL", "unparseable_date"),
        ("value IS NULL" + (" OR quantity IS NULL" if m.quantity else ""), "unparseable_amount"),
    ]
    if as_of:
        reasons.append((f"day >= DATE {literal(as_of)}", "after_as_of"))
    cases = " ".join(
        f"WHEN {cond} THEN {reason_code(name) if reason_codes else literal(name)}"
        for cond, name in reasons
    )
    invoice = "NULL"
    if m.invoice:
        invoice = f"NULLIF({_trimmed(f'CAST({ident(m.invoice)} AS {t})')}, '')"
    assert m.date is not None
    date_kind = rules.types.get(m.date, "VARCHAR").upper()
    date_missing = _blank(m.date, date_kind)
    named = m.product or m.description
    # carried along rather than joined back by _row: aggregates never read it (unused columns
    # are not computed), the stored lines get it without a join over every line
    product = f"NULLIF(trim(CAST({ident(named)} AS {t})), '')" if named else f"CAST(NULL AS {t})"
    return f"""SELECT _row, customer_id, day, invoice, value,
       coalesce({" OR ".join(returns)}, false) AS is_return,
       CASE {cases} ELSE NULL END AS reason, product
FROM (
  SELECT _row,
         {customer_key_expr(rules, dialect)} AS customer_id,
         {date_expr(rules, dialect)} AS day,
         {date_missing} AS date_missing,
         {invoice} AS invoice,
         {qty} AS quantity,
         {value} AS value,
         {" OR ".join(adjustments) or "false"} AS is_adjustment,
         {product} AS product
  FROM {relation(source, "src")}
) AS typed"""


def product_names_sql(rules: LineRules, source: str = "src") -> str | None:
    """One name per product code, the largest where a code has several, from every line
    that has both (kept or not: it reads two columns of the source, not the cleaned lines);
    None unless the log has codes and names."""
    m = rules.mapping
    if not (m.product and m.description):
        return None
    code = f"NULLIF(trim(CAST({ident(m.product)} AS VARCHAR)), '')"
    name = f"NULLIF(trim(CAST({ident(m.description)} AS VARCHAR)), '')"
    return (
        f"SELECT product, max(name) AS name FROM (SELECT {code} AS product, {name} AS name "
        f"FROM {relation(source, 'src')}) AS named "
        "WHERE product IS NOT NULL AND name IS NOT NULL GROUP BY product ORDER BY product"
    )


def _trimmed(text: str) -> str:
    """``trim(text)``, but only where a space starts or ends it: most values need none, and
    testing is cheaper than trimming every line."""
    return f"CASE WHEN {text} LIKE ' %' OR {text} LIKE '% ' THEN trim({text}) ELSE {text} END"


def _blank(col: str, kind: str) -> str:
    """True where a value is missing: NULL, or for text '' or spaces only (which start with a
    space, so trim() runs on those values alone). A typed column is blank only when NULL."""
    c = ident(col)
    if kind.upper() != "VARCHAR":
        return f"({c} IS NULL)"
    return f"({c} IS NULL OR {c} = '' OR ({c} LIKE ' %' AND trim({c}) = ''))"
