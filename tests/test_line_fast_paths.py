"""The cheap per-line SQL for text logs reads every value as the plain formulas do.

Ids skip ``lower(trim())`` unless short and not starting with a digit, or padded; blanks
skip ``trim()`` unless a space starts the value; ISO dates take a plain cast instead of
``strptime``, amounts skip the thousands-comma ``replace`` unless a comma is there. The oracle
is the plain formula (what the documented rules say) over hand-picked edge cases and seeded
random texts shaped to hit each branch.
"""

from __future__ import annotations

import random

import duckdb
import pytest

from segwise.io.dates import DateFormat
from segwise.io.roles import RoleMapping
from segwise.io.validate import (
    _NULL_TOKENS,
    MONEY,
    LineRules,
    _blank,
    customer_key_expr,
    date_expr,
    number_expr,
)

MAPPING = RoleMapping(customer="cid", date="day", amount="amount")


def rules(*, whole: bool = False, float_ids: bool = False) -> LineRules:
    return LineRules(
        mapping=MAPPING,
        types={"cid": "VARCHAR", "day": "VARCHAR", "amount": "VARCHAR"},
        date_format=DateFormat("%Y-%m-%d", "ISO", whole_value=whole),
        decimal_comma=frozenset(),
        float_ids=float_ids,
    )


def differences(values: list[str | None], fast: str, plain: str) -> list[tuple[object, ...]]:
    """Rows where the two expressions over column ``v`` disagree (NULLs compared as values)."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT unnest(CAST(? AS VARCHAR[])) AS v", [values])
    fast, plain = fast.replace('"cid"', "v"), plain.replace('"cid"', "v")
    return con.execute(
        f"SELECT v, a, b FROM (SELECT v, {fast} AS a, {plain} AS b FROM t) "
        "WHERE a IS DISTINCT FROM b LIMIT 5"
    ).fetchall()


def randoms(alphabet: str, lengths: range, n: int = 20_000, seed: int = 7) -> list[str | None]:
    rng = random.Random(seed)
    out: list[str | None] = [None]
    for _ in range(n):
        chars = [rng.choice("0123456789") for _ in range(rng.choice(lengths))]
        for i in range(len(chars)):
            if rng.random() < 0.15:
                chars[i] = rng.choice(alphabet)
        out.append("".join(chars))
    return out


def iso_like(n: int = 20_000, seed: int = 8) -> list[str | None]:
    """Texts of the fast path's shape (dddd-dd-dd), some characters replaced."""
    rng = random.Random(seed)
    out: list[str | None] = []
    for _ in range(n):
        chars = [rng.choice("0123456789") for _ in range(10)]
        chars[4] = chars[7] = "-"
        for i in range(10):
            if rng.random() < 0.1:
                chars[i] = rng.choice(" T+-x/.:0")
        out.append("".join(chars))
    return out


@pytest.mark.parametrize("float_ids", [False, True])
def test_ids_map_the_same_texts_to_the_same_keys(float_ids: bool) -> None:
    tokens = [t for base in _NULL_TOKENS for t in (base, base.upper(), f" {base} ", f"  {base}")]
    edge = [*tokens, "17850", " 17850", "17850 ", "017850", "17850.0", " 1.0 ", "nanny", "NULLS"]
    values = edge + randoms(" .-?/#nNaAuUlL", range(1, 7))
    nulls = ", ".join(f"'{t}'" for t in _NULL_TOKENS)
    text = "trim(v)"
    if float_ids:
        text = f"regexp_replace({text}, '^([0-9]+)[.]0+$', '\\1')"
    plain = f"CASE WHEN lower(trim(v)) IN ({nulls}) THEN NULL ELSE {text} END"
    fast = customer_key_expr(rules(float_ids=float_ids))
    assert "lower" in fast and differences(values, fast, plain) == []


@pytest.mark.parametrize("whole", [False, True])
def test_iso_dates_read_as_strptime_reads_them(whole: bool) -> None:
    edge = ["2024-01-05", "2024-1-5", "2024-02-30", "2024-13-01", "infinity", "epoch",
            "02024-01-05", "-2024-01-05", "2024/01/05", "2024-01-05 10:00", "2024-01-05T10:00",
            " 2024-01-05 ", "99999-01-01", "24-01-05", "", "2024-01-0x", "+024-01-05",
            "2024-01- 5", "2024-01-T5", "2024-0 -05", "0000-01-01", "2024-00-10",
            "2024-01-00"]  # fmt: skip
    values = edge + randoms("-/ T:+.x", range(8, 17)) + iso_like()
    fast = date_expr(rules(whole=whole)).replace('"day"', '"cid"')
    assert "TRY_CAST" in fast
    text = "trim(CAST(v AS VARCHAR))"
    if not whole:
        text = f"split_part(split_part({text}, ' ', 1), 'T', 1)"
    plain = f"CAST(try_strptime({text}, '%Y-%m-%d') AS DATE)"
    assert differences(values, fast, plain) == []


def test_amounts_read_with_and_without_thousands_commas() -> None:
    edge = ["12.5", " 12.5", "12.5 ", "1,234.50", " 1,234 ", "-0,5", "1e3", "nan", "", "+3", ".5"]
    values = edge + randoms(".,-+ e\t_", range(1, 10))
    fast = number_expr(rules(), "amount").replace('"amount"', '"cid"')
    plain = f"TRY_CAST(replace(trim(v), ',', '') AS {MONEY})"
    assert differences(values, fast, plain) == []


def test_blanks_are_the_values_that_trim_to_nothing() -> None:
    edge = ["", " ", "   ", " x", "x ", " 0 ", "0", "\t", " \t", "nan", "-"]
    values = edge + randoms(" \t", range(0, 5))
    fast = _blank("cid", "VARCHAR")
    assert "trim" in fast
    assert differences(values, fast, "(nullif(trim(v), '') IS NULL)") == []
    assert _blank("qty", "BIGINT") == '("qty" IS NULL)'  # a typed column: NULL is its blank
