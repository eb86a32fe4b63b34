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


def value_summary_sql(
    lines: str, *, end: date, period_days: int = 1, dialect: Dialect = DUCKDB
) -> str:
    """Per-customer (x, t_x, T, mean repeat value) from ``lines``: a table name or a query with
    customer_id, day (DATE), value (net amount) and is_return, one row per log line."""
    end_day = f"DATE '{end.isoformat()}'"
    span = dialect.days_between
    return f"""WITH days AS (
  SELECT customer_id, day, sum(value) AS spend,
         max(CASE WHEN is_return THEN 0 ELSE 1 END) AS bought
  FROM {relation(lines, "l")}
  WHERE day <= {end_day}
  GROUP BY customer_id, day
), purchases AS (
  SELECT customer_id, day, spend, min(day) OVER (PARTITION BY customer_id) AS first_day
  FROM days WHERE bought = 1
)
SELECT customer_id,
       CAST(count(*) - 1 AS BIGINT) AS repeat_purchases,
       CAST({span.format(start="first_day", end="max(day)")} AS DOUBLE) / {period_days} AS t_x,
       CAST({span.format(start="first_day", end=end_day)} AS DOUBLE) / {period_days} AS "T",
       CAST(coalesce(avg(CASE WHEN day > first_day THEN spend END), 0) AS DOUBLE)
         AS mean_repeat_value
FROM purchases
GROUP BY customer_id, first_day
ORDER BY customer_id"""
