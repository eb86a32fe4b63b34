"""The repeat-purchase summary that value models read, as one SQL text run by DuckDB or Spark.

Per customer, over purchase *days* up to the calibration end (inclusive): ``repeat_purchases``
(x) = purchase days after the first; ``t_x`` = time from the first purchase day to the last;
``T`` = time from the first purchase day to the calibration end; ``mean_repeat_value`` = mean
net spend of the repeat purchase days (0 without one). Times are in ``period_days`` units
(1 = days, 7 = weeks, fractional). A purchase day is a day with a line that is not a return;
its value is the net of all that day's lines. This is lifetimes'
``summary_data_from_transaction_data`` with daily periods, and Fader & Hardie's CDNOW summary.
"""

from __future__ import annotations

from datetime import date

from segwise.io.sql import DUCKDB, Dialect, relation

SUMMARY_COLUMNS = ("customer_id", "repeat_purchases", "t_x", "T", "mean_repeat_value")


def purchase_lines_sql(classified: str) -> str:
    """The lines of a ``classified_sql`` that belong to a customer, as the summary reads them:
    customer_id (the grouping key, as read), day, value, is_return."""
    return (
        "SELECT customer_id, day, value, is_return "
        f"FROM {relation(classified, 'l')} WHERE reason IS NULL"
    )


def purchase_days_sql(lines: str, where: str) -> str:
    """The purchase days of ``lines`` that match ``where``: customer_id, day, spend (the net of
    the day's lines); a day counts when one of its lines is not a return."""
    return f"""SELECT customer_id, day, sum(value) AS spend
  FROM {relation(lines, "l")}
  WHERE {where}
  GROUP BY customer_id, day
  HAVING max(CASE WHEN is_return THEN 0 ELSE 1 END) = 1"""


def value_summary_sql(
    lines: str,
    *,
    end: date,
    period_days: int = 1,
    customer_text: str = "customer_id",
    dialect: Dialect = DUCKDB,
) -> str:
    """Per-customer (x, t_x, T, mean repeat value) from ``lines``: a table name or a query with
    customer_id, day (DATE), value (net amount) and is_return, one row per log line (in no
    particular order: readers sort what they show). ``customer_text`` turns the key into the
    id text after grouping (grouping by the key as read is cheaper than by text)."""
    end_day = f"DATE '{end.isoformat()}'"
    span = dialect.days_between
    return f"""WITH days AS (
  {purchase_days_sql(lines, f"day <= {end_day}")}
), customers AS (
  SELECT customer_id, count(*) - 1 AS x, min(day) AS first_day, max(day) AS last_day,
         sum(spend) - min_by(spend, day) AS repeat_spend
  FROM days
  GROUP BY customer_id
)
SELECT {customer_text} AS customer_id,
       CAST(x AS BIGINT) AS repeat_purchases,
       CAST({span.format(start="first_day", end="last_day")} AS DOUBLE) / {period_days} AS t_x,
       CAST({span.format(start="first_day", end=end_day)} AS DOUBLE) / {period_days} AS "T",
       CASE WHEN x > 0 THEN CAST(repeat_spend AS DOUBLE) / x ELSE 0.0 END AS mean_repeat_value
FROM customers"""


def holdout_rows_sql(lines: str, *, end: date, holdout_end: date, period_days: int) -> str:
    """Per distinct (x, t_x, T) row of the summary up to ``end`` (``value_summary_sql``): its
    customers and their purchase days in the hold-out, after ``end`` up to ``holdout_end``
    (columns x, t_x, T, customers, actual). Customers first seen in the hold-out are not in
    it: the models say nothing of them."""
    later = purchase_days_sql(
        lines, f"day > DATE '{end.isoformat()}' AND day <= DATE '{holdout_end.isoformat()}'"
    )
    summary = value_summary_sql(lines, end=end, period_days=period_days)
    return f"""WITH summary AS ({summary}),
later AS (SELECT customer_id, count(*) AS days FROM ({later}) AS d GROUP BY customer_id)
SELECT CAST(s.repeat_purchases AS DOUBLE) AS x, s.t_x, s."T", count(*) AS customers,
       CAST(coalesce(sum(h.days), 0) AS DOUBLE) AS actual
FROM summary AS s LEFT JOIN later AS h ON s.customer_id = h.customer_id
GROUP BY s.repeat_purchases, s.t_x, s."T"
ORDER BY 1, 2, 3"""


def _number(value: float) -> str:
    return f"CAST({float(value)!r} AS DOUBLE)"


def customer_value_sql(
    summary: str,
    scores: str,
    *,
    gamma_gamma: dict[str, float],
    high_below: float,
    medium_below: float,
) -> str:
    """Per customer of ``summary`` (its columns, then p_alive, expected_purchases,
    expected_value, clv, churn_risk): the scores of its (x, t_x, T) row in ``scores``
    (x, t_x, T, p_alive, expected_purchases, discounted: computed once per distinct row)
    joined back, times the Gamma-Gamma expected value per purchase
    p (v + m x) / (p x + q - 1), a non-positive mean counting as 0."""
    p, q, v = (_number(gamma_gamma[k]) for k in ("p", "q", "v"))
    x, m = "s.repeat_purchases", "greatest(s.mean_repeat_value, 0.0)"
    per_purchase = f"{p} * ({v} + {m} * {x}) / ({p} * {x} + {q} - 1)"
    return f"""SELECT s.*, g.p_alive, g.expected_purchases,
       g.expected_purchases * ({per_purchase}) AS expected_value,
       g.discounted * ({per_purchase}) AS clv,
       CASE WHEN {x} = 0 THEN 'one-time'
            WHEN g.p_alive < {_number(high_below)} THEN 'high'
            WHEN g.p_alive < {_number(medium_below)} THEN 'medium'
            ELSE 'low' END AS churn_risk
FROM {relation(summary, "s")}
JOIN {relation(scores, "g")}
  ON {x} = g.x AND s.t_x = g.t_x AND s."T" = g."T"
ORDER BY s.customer_id"""


def segment_value_sql(table: str, by: str, lapsed_below: float) -> str:
    """Per value of column ``by`` of a customer-value table: customers, expected purchases,
    expected value and CLV totals, mean P(alive) and the share below ``lapsed_below``; the
    most expected value first."""
    return f"""SELECT CAST(t."{by}" AS VARCHAR) AS segment, count(*) AS customers,
       sum(expected_purchases) AS expected_purchases, sum(expected_value) AS expected_value,
       sum(clv) AS clv, avg(p_alive) AS p_alive_mean,
       avg(CASE WHEN p_alive < {_number(lapsed_below)} THEN 1.0 ELSE 0.0 END)
         AS likely_lapsed_share
FROM {relation(table, "t")}
GROUP BY t."{by}"
ORDER BY expected_value DESC, segment"""
