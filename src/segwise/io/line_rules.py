"""The line rules of a file loaded into DuckDB as ``src``: its date format (the one given,
else decided from the data) and how its numbers and ids are written."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from segwise.io import dates
from segwise.io.readers import Source
from segwise.io.roles import RoleMapping
from segwise.io.sql import ident, spaced
from segwise.io.validate import MONEY, LineRules

if TYPE_CHECKING:
    import duckdb


def sniff_line_rules(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    mapping: RoleMapping,
    types: dict[str, str],
    date_format: str | None,
    *,
    settled: dates.DateFormat | None = None,
    guess: bool = False,
) -> LineRules:
    """Rules for ``src``: ``date_format`` (``--date-format``) when given, else ``settled``
    (a format decided elsewhere, e.g. by another file of the same log), else detected; with
    ``guess``, day/month order as the sample has it (``dates.UNSETTLED``: the caller reads
    every line with it and calls ``settle_date_format``, or detects it after all)."""
    assert mapping.date is not None and mapping.customer is not None
    date_type = types[mapping.date].upper()
    fmt: dates.DateFormat | None = None
    if date_format:
        fmt = dates.user_format(date_format)
    elif settled is not None and not (date_type == "DATE" or date_type.startswith("TIMESTAMP")):
        fmt = settled
    elif not (date_type == "DATE" or date_type.startswith("TIMESTAMP")):
        fmt = detect_date_format(con, source, mapping.date, guess=guess)
    return LineRules.sniffed(mapping, types, fmt, source.sample, source.separator)


def detect_date_format(
    con: duckdb.DuckDBPyConnection, source: Source, column: str, *, guess: bool = False
) -> dates.DateFormat:
    """The format of a text date column of ``src``: its family from the sample, day/month
    order from the largest first and second parts over all distinct values (a pass over the
    whole file; with ``guess``, the sample's order, to be settled)."""
    values = [str(v) for v in source.sample[column] if v is not None and str(v).strip()]
    family = dates.detect_family(values, column=column, file=str(source.path))
    if guess and (guessed := dates.guess_order(family, values)):
        return guessed
    max_first = max_second = None
    if family.name == "dmy_or_mdy":
        # over the distinct values, then their distinct date parts: a log has far fewer
        # distinct timestamps than lines, and string functions then run on those only
        sep = family.separator
        row = con.execute(
            f"SELECT max(TRY_CAST(split_part(part, '{sep}', 1) AS INTEGER)), "
            f"max(TRY_CAST(split_part(part, '{sep}', 2) AS INTEGER)) "
            f"FROM (SELECT DISTINCT split_part({spaced('value')}, ' ', 1) AS part "
            f"FROM (SELECT DISTINCT CAST({ident(column)} AS VARCHAR) AS value FROM src))"
        ).fetchall()[0]  # fetched to the end: the connection is free for a streamed read
        max_first, max_second = row
    return dates.resolve_format(
        family, max_first=max_first, max_second=max_second, column=column, file=str(source.path)
    )


def settle_date_format(con: duckdb.DuckDBPyConnection, rules: LineRules, path: Path) -> LineRules:
    """``rules`` with a guessed day/month order settled as ``detect_date_format`` settles it,
    from the largest month and day over every line, which the reader read with that order
    (``customer_lines``' ``max_month`` and ``max_day``): the same format and reason, or the
    same error, without a pass of its own over the file."""
    fmt = rules.date_format
    if fmt is None or not fmt.unsettled:
        return rules
    row = con.execute("SELECT max(max_month), max(max_day) FROM customer_lines").fetchone()
    months, days = row if row else (None, None)
    order = fmt.format.split(fmt.format[2])  # e.g. ["%m", "%d", "%Y"]
    family = dates.DateFamily("dmy_or_mdy", fmt.format[2], order[2] == "%y")
    first, second = (months, days) if order[0] == "%m" else (days, months)
    settled = dates.resolve_format(
        family, max_first=first, max_second=second, column=str(rules.mapping.date), file=str(path)
    )
    return replace(rules, date_format=settled)


def reader_types(rules: LineRules, source: Source) -> tuple[LineRules, dict[str, str], str | None]:
    """The role columns of a text file that DuckDB's reader can type as it reads, the rules
    for ``src`` read that way, and the date column's format for the reader
    (``text_files.read_text_file(typed=..., dateformat=...)``).

    The reader parses a date with the same strptime as the text path, and a number with the
    same cast; a value it cannot read fails the whole read (the caller then reads text) rather
    than giving another answer. So a column is typed only when its sample is plain: dates
    alone, or dates and a clock in one shape (a TIMESTAMP: its day is the date the text path
    cuts from the value), numbers without a comma (the text path drops thousands separators,
    reads decimal commas).
    """
    m, typed = rules.mapping, {}
    text = {c for c, kind in rules.types.items() if kind.upper() == "VARCHAR"}
    values = source.sample
    fmt = rules.date_format
    reader_format = None
    if m.date in text and fmt is not None:
        sample = [str(v).strip() for v in values[m.date] if v is not None]
        if all(dates.date_part(v) == v for v in sample):
            typed[m.date], reader_format = "DATE", fmt.format
        elif not fmt.whole_value and (stamped := dates.timestamp_format(sample, fmt.format)):
            typed[m.date], reader_format = "TIMESTAMP", stamped
    for col in (c for c in (m.quantity, m.price, m.amount) if c is not None):
        plain = col in text and col not in rules.decimal_comma
        if plain and not any("," in str(v) for v in values[col] if v is not None):
            typed[col] = MONEY
    return replace(rules, types={**rules.types, **typed}), typed, reader_format
