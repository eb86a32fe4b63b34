"""The Spark engine: Spark reads the log and runs the same RFM SQL text as DuckDB, in Spark SQL.

Roles, date format, decimal commas and float ids are decided from a small sample read by the
io code, exactly as the local engine decides them, so both engines read a file the same way.
Lines never reach the driver: only the per-customer result (one row per customer) is
collected, into a DuckDB table, so ``RfmResult`` is the same object whichever engine ran.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from segwise.config import Settings
from segwise.engines.result import (
    CleaningReport,
    RfmResult,
    report_from_groups,
    segment_counts,
    with_manifest,
)
from segwise.engines.spark_session import spark_session, to_arrow
from segwise.errors import InputError
from segwise.features.rfm import SPARK, RfmOptions, customer_lines_sql, rfm_sql
from segwise.features.value_summary import purchase_lines_sql, value_summary_sql
from segwise.io import dates
from segwise.io.duck import connect
from segwise.io.manifest import read_manifest
from segwise.io.readers import Source, open_source
from segwise.io.roles import RoleMapping, detect_roles, require_log_roles
from segwise.io.sql import ident, literal, relation, spaced
from segwise.io.validate import (
    LineRules,
    classified_sql,
    customer_text_expr,
    date_expr,
    line_columns,
    number_expr,
)

_ENCODINGS = {"utf-8": "UTF-8", "cp1252": "windows-1252", "latin-1": "ISO-8859-1"}
_SPARK_TYPES = {"string": "VARCHAR", "int": "INTEGER", "timestamp_ntz": "TIMESTAMP"}
_SPARK_TYPES |= {"timestamp": "TIMESTAMP WITH TIME ZONE"}


def compute_rfm(
    path: str | Path,
    options: RfmOptions,
    settings: Settings,
    *,
    summary_period: int | None = None,
    keep_lines: bool = True,
) -> RfmResult:
    """Read a transaction log with Spark and compute per-customer RFM, scores and segments;
    with ``summary_period``, also the repeat-purchase summary (table ``value_summary``).
    Spark reads its files as it goes whatever ``keep_lines`` says."""
    spark = spark_session(settings)
    name = f"segwise_{uuid.uuid4().hex[:10]}"  # this job's views, so that jobs can overlap
    src, lines_view, lines = f"{name}_src", f"{name}_lines", None
    try:
        source, frame = read_log(spark, path)
        mapping = detect_roles(source.columns, source.sample, options.columns, file=str(path))
        require_log_roles(mapping, source.columns, source.path)
        _roles_only(frame, mapping).createOrReplaceTempView(src)
        types = {f.name: _duck_type(f.dataType.simpleString()) for f in frame.schema.fields}
        rules = _line_rules(spark, src, source, mapping, types, options)
        as_of_text = options.as_of.isoformat() if options.as_of else None
        classified = classified_sql(rules, as_of_text, source=src, dialect=SPARK)
        lines_sql = customer_lines_sql(
            classified,
            customer_text=customer_text_expr(rules, dialect=SPARK),
            invoices=rules.mapping.invoice is not None,
            dialect=SPARK,
        )
        lines = spark.sql(lines_sql).cache()  # read twice: by the report and by the scores
        lines.createOrReplaceTempView(lines_view)
        report, last_day = _report(spark, source, rules, src, classified, lines_view, settings)
        manifest = read_manifest(source.path) if source.format == "parquet" else None
        if manifest is not None:  # what was left out before assembly; per file: local only
            report = with_manifest(report, manifest)
        as_of = options.as_of_after(last_day)
        scored = rfm_sql(
            lines_view, as_of=as_of, bins=options.bins, grid=options.grid, dialect=SPARK
        )
        table = to_arrow(spark.sql(scored))
        summary = None
        if summary_period is not None:
            summary_sql = value_summary_sql(
                purchase_lines_sql(classified),
                end=as_of - timedelta(days=1),
                period_days=summary_period,
                customer_text=customer_text_expr(rules, dialect=SPARK),
                dialect=SPARK,
            )
            summary = to_arrow(spark.sql(summary_sql))
    finally:
        if lines is not None:
            lines.unpersist()
        for view in (src, lines_view):
            spark.catalog.dropTempView(view)
    if table.num_rows == 0:
        raise InputError(
            "no customer has a purchase",
            file=path,
            hint="check the customer and date columns, and --as-of",
        )
    con = connect()
    con.register("rfm", table)
    if summary is not None:
        con.register("value_summary", summary)
    return RfmResult(
        con=con,
        table="rfm",
        source=source.describe() | {"rows": report.lines},
        mapping=mapping.as_dict(),
        date_format=rules.date_format.describe() if rules.date_format else None,
        as_of=as_of,
        bins=options.bins,
        report=report,
        customers=table.num_rows,
        segments=segment_counts(con, table.num_rows),
        value_summary="value_summary" if summary is not None else None,
    )


def read_log(spark: SparkSession, path: str | Path) -> tuple[Source, DataFrame]:
    """Sniff the file with the io code (format, columns, a sample), then read it with Spark.

    Delimited text is read as text, like the local engine reads it, so ids keep leading zeros;
    Parquet keeps its types.
    """
    sniffer = connect()
    try:
        source = open_source(sniffer, path)
    finally:
        sniffer.close()
    source.close()  # Spark decodes cp1252 itself; no UTF-8 copy is needed
    location = str(source.path.resolve())
    if source.format == "parquet":
        return source, spark.read.parquet(location)
    if source.format != "csv":
        raise InputError(
            f"the Spark engine reads CSV/TSV and Parquet, not {source.format.upper()}",
            file=path,
            hint="save it as CSV or Parquet, or use --engine local",
        )
    frame = spark.read.csv(
        location,
        header=source.header,
        sep=source.separator or ",",
        quote='"',
        escape='"',
        encoding=_ENCODINGS.get(source.encoding or "utf-8", "UTF-8"),
        inferSchema=False,
        mode="PERMISSIVE",
    )
    if len(frame.columns) != len(source.columns):
        raise InputError(
            f"Spark reads {len(frame.columns)} columns where the header has {len(source.columns)}",
            file=path,
            hint="check the separator and quoting, or use --engine local",
        )
    return source, frame.toDF(*source.columns)


def _roles_only(frame: DataFrame, mapping: RoleMapping) -> DataFrame:
    """The role columns and ``_row``, increasing in file order for one file (error messages)."""
    from pyspark.sql import functions as F

    needed = line_columns(mapping)
    columns = [c for c in frame.columns if c in needed]
    picked = [F.col("`" + c.replace("`", "``") + "`") for c in columns]
    return frame.select(*picked, F.monotonically_increasing_id().alias("_row"))


def _duck_type(spark_type: str) -> str:
    """A Spark type in the DuckDB names the line rules speak (``string`` -> ``VARCHAR``)."""
    return _SPARK_TYPES.get(spark_type, spark_type.upper())


def _line_rules(
    spark: SparkSession,
    src: str,
    source: Source,
    mapping: RoleMapping,
    types: dict[str, str],
    options: RfmOptions,
) -> LineRules:
    assert mapping.date is not None and mapping.customer is not None
    date_type = types[mapping.date].upper()
    fmt: dates.DateFormat | None = None
    if options.date_format:
        fmt = dates.user_format(options.date_format)
    elif not (date_type == "DATE" or date_type.startswith("TIMESTAMP")):
        fmt = _detect_date_format(spark, src, source, mapping.date)
    return LineRules.sniffed(mapping, types, fmt, source.sample, source.separator)


def _detect_date_format(
    spark: SparkSession, src: str, source: Source, column: str
) -> dates.DateFormat:
    values = [str(v) for v in source.sample[column] if v is not None and str(v).strip()]
    family = dates.detect_family(values, column=column, file=str(source.path))
    max_first = max_second = None
    if family.name == "dmy_or_mdy":
        sep = literal(family.separator)
        part = f"split_part({spaced(f'CAST({ident(column)} AS STRING)')}, ' ', 1)"
        row = spark.sql(
            f"SELECT max(TRY_CAST(split_part({part}, {sep}, 1) AS INT)), "
            f"max(TRY_CAST(split_part({part}, {sep}, 2) AS INT)) FROM {src}"
        ).first()
        assert row is not None
        max_first, max_second = row[0], row[1]
    return dates.resolve_format(
        family, max_first=max_first, max_second=max_second, column=column, file=str(source.path)
    )


def _report(
    spark: SparkSession,
    source: Source,
    rules: LineRules,
    src: str,
    classified: str,
    lines: str,
    settings: Settings,
) -> tuple[CleaningReport, date]:
    """Count lines by reason, as the local engine does; stop on too many unreadable values."""
    rows = spark.sql(
        "SELECT reason, sum(lines) AS lines, "
        "sum(returns) FILTER (WHERE frequency > 0) AS returns, max(last_day) AS last_day, "
        "count(*) FILTER (WHERE reason IS NULL AND frequency = 0) AS idle_customers, "
        "sum(lines) FILTER (WHERE reason IS NULL AND frequency = 0) AS idle_lines "
        f"FROM {lines} GROUP BY reason"
    ).collect()
    by_reason: dict[str | None, dict[str, Any]] = {r["reason"]: r.asDict() for r in rows}
    return report_from_groups(
        by_reason,
        file=source.path,
        max_bad_share=settings.max_bad_share,
        raise_bad=lambda reason, bad, total: _raise_bad_values(
            spark, source, rules, src, classified, reason, bad, total
        ),
    )


def _raise_bad_values(
    spark: SparkSession,
    source: Source,
    rules: LineRules,
    src: str,
    classified: str,
    reason: str,
    bad: int,
    total: int,
) -> None:
    """Stop with the first offending row, its column and value (extra passes, on error only).

    ``_row`` increases in file order but is not a line number; the row is the count of lines
    before it, plus one.
    """
    first = spark.sql(
        f"SELECT min(_row) FROM {relation(classified, 'l')} WHERE reason = {literal(reason)}"
    ).first()
    first_id = int(first[0]) if first and first[0] is not None else 0
    before = spark.sql(f"SELECT count(*) FROM {src} WHERE _row < {first_id}").first()
    m = rules.mapping
    if reason == "unparseable_date":
        assert m.date is not None and rules.date_format is not None
        checks = [(m.date, date_expr(rules, SPARK))]
        what, hint = (
            "dates",
            f"read as {rules.date_format.format}; pass --date-format or fix the file",
        )
    else:
        checks = [(c, number_expr(rules, c)) for c in (m.amount, m.quantity, m.price) if c]
        what, hint = (
            "numbers",
            "fix the file, or name the right column with --amount/--quantity/--price",
        )
    column, value = checks[0][0], None
    for col, expr in checks:
        got = spark.sql(
            f"SELECT {expr} IS NULL, {ident(col)} FROM {src} WHERE _row = {first_id}"
        ).first()
        if got is not None and got[0]:
            column, value = col, got[1]
            break
    raise InputError(
        f"{bad:,} of {total:,} lines have {what} that cannot be read, first '{value}'",
        file=source.path,
        row=int(before[0]) + 1 if before else None,
        column=column,
        hint=hint,
    )
