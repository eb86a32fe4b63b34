"""Properties of the RFM score SQL: monotone, ties equal, n/B per score without ties."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import duckdb
import pytest
from hypothesis import given, settings, strategies as st

from segwise.features.rfm import cents, rfm_sql

AS_OF = date(2024, 1, 1)


def run_scores(days: list[int], freq: list[int], cents: list[int], bins: int) -> list[tuple]:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE customer_lines (customer_id VARCHAR, reason VARCHAR, lines INT, "
        "returns INT, last_day DATE, last_purchase DATE, frequency INT, spend DECIMAL(38,6), "
        "first_row INT)"
    )
    rows = [
        (f"c{i:05d}", None, 1, 0, None, AS_OF - timedelta(days=d), f, c / 100, i)
        for i, (d, f, c) in enumerate(zip(days, freq, cents, strict=True))
    ]
    con.executemany("INSERT INTO customer_lines VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return con.execute(rfm_sql("customer_lines", as_of=AS_OF, bins=bins)).fetchall()


values = st.integers(min_value=1, max_value=60)
customers = st.lists(st.tuples(values, values, st.integers(-500, 100_000)), min_size=1, max_size=80)


@settings(max_examples=60, deadline=None)
@given(customers, st.sampled_from([2, 3, 4, 5, 9]))
def test_scores_are_monotone_and_ties_get_equal_scores(data, bins):
    days, freq, cents = map(list, zip(*data, strict=True))
    out = run_scores(days, freq, cents, bins)
    n = len(out)
    for col, value_col, better in ((4, 1, -1), (5, 2, 1), (6, 3, 1)):
        pairs = [(row[value_col] * better, row[col]) for row in out]
        for a_value, a_score in pairs:
            assert 1 <= a_score <= bins
            for b_value, b_score in pairs:
                if a_value == b_value:
                    assert a_score == b_score  # ties equal
                elif a_value > b_value:
                    assert a_score >= b_score  # better value, never a lower score
        # the formula itself: 1 + floor(B * w / n), w = strictly worse
        for value, got in pairs:
            worse = sum(1 for other, _ in pairs if other < value)
            assert got == 1 + (bins * worse) // n


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 12).flatmap(lambda k: st.tuples(st.just(k), st.sampled_from([2, 4, 5]))))
def test_without_ties_each_score_holds_n_over_b(kb):
    k, bins = kb
    n = k * bins
    distinct = list(range(1, n + 1))
    out = run_scores(distinct, distinct, [v * 100 for v in distinct], bins)
    for col in (4, 5, 6):
        counts = [sum(1 for row in out if row[col] == s) for s in range(1, bins + 1)]
        assert counts == [k] * bins


def test_codes_and_segments_follow_the_grid():
    out = run_scores([1, 30, 60], [9, 3, 1], [90_000, 5_000, 100], bins=3)
    by_id = {row[0]: row for row in out}
    assert by_id["c00000"][7:] == ("333", "Champions")  # rescaled 3 -> 5
    assert by_id["c00002"][7:] == ("111", "Lost")


@pytest.mark.parametrize("bins", [1, 10])
def test_bins_out_of_range_are_refused(bins):
    from segwise.errors import InputError

    with pytest.raises(InputError, match="bins"):
        run_scores([1], [1], [1], bins)


units = st.one_of(st.integers(-(10**9), 10**9), st.integers(-(10**22), 10**22))


@settings(max_examples=60, deadline=None)
@given(st.lists(units, min_size=1, max_size=50), st.sampled_from([2, 3, 6, 12]))
def test_cents_on_64_bits_are_the_exact_round_to_cents(values, scale):
    """The cheaper rounding of a 128-bit sum gives the cents ``round(x, 2)`` gives, on both
    sides of the 64-bit bound, on half cents and for a quantity-times-price scale of 12."""
    half_cent = 5 * 10 ** (scale - 3) if scale > 2 else 0
    bound = 10**scale * 10 ** (18 - scale)  # 10^(18 - scale) in units of the last digit
    numbers = [n + half_cent * k for n in values for k in (0, 1, -1)]
    numbers += [bound - 1, bound, bound + half_cent, -bound + 1, -bound - half_cent]
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t (x DECIMAL(38,{scale}))")
    texts = [[format(Decimal(n).scaleb(-scale), "f")] for n in numbers]
    con.executemany(f"INSERT INTO t VALUES (CAST(? AS DECIMAL(38,{scale})))", texts)
    got = con.execute(f"SELECT {cents('x', scale)}, round(x, 2) FROM t").fetchall()
    assert [cheap for cheap, _ in got] == [exact for _, exact in got]
    assert con.execute(f"SELECT typeof({cents('x', scale)}) FROM t LIMIT 1").fetchone() == (
        "DECIMAL(38,2)",
    )
