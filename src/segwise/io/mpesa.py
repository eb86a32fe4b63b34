"""M-Pesa business statements (paybill or till, CSV or XLSX) as a transaction log.

A statement is recognised by its table header (Receipt No., Completion Time, Paid In,
Withdrawn ...), which may sit below a few lines about the organisation, the period and the
short code. It is turned into a log with one line per transaction (see docs/mpesa.md):

- customer: the account number the payer typed (A/C No., e.g. a member number) when there
  is one, else the paying party of Other Party Info (the phone number before `` - NAME``,
  else the whole text);
- date: Completion Time (Initiation Time when it is blank); invoice: Receipt No.;
- only Completed transactions count: the others are left out, counted as ``not_completed``;
- a payment is money Paid In; a reversal (``reversal`` in Reason Type or Details) with money
  Withdrawn lowers the spend of the customer whose payment it reverses (the receipt named
  in its Details, else its own account or party), as a return does;
- everything else (the business's withdrawals, charges, transfers, settlements) is a shop
  adjustment: kept in the log, counted in the report, never a customer's.
"""

from __future__ import annotations

import codecs
import csv
from pathlib import Path
from typing import TYPE_CHECKING

from segwise.errors import InputError
from segwise.io import limits
from segwise.io.duck import connect
from segwise.io.manifest import KEY, LogManifest
from segwise.io.roles import normalise
from segwise.io.sql import ident, literal

if TYPE_CHECKING:
    import duckdb

COLUMNS = {
    "receipt": ("receiptno", "receipt", "receiptnumber", "transactionid"),
    "completion": ("completiontime",),
    "initiation": ("initiationtime",),
    "details": ("details",),
    "status": ("transactionstatus", "status"),
    "paid_in": ("paidin",),
    "withdrawn": ("withdrawn", "withdrawal"),
    "reason_type": ("reasontype",),
    "other_party": ("otherpartyinfo", "otherparty"),
    "account": ("acno", "accountno", "accno", "accountnumber"),
}
"""Statement column -> its headers, normalised (lower-case letters and digits only)."""

REQUIRED = ("receipt", "completion", "paid_in", "withdrawn")
HEAD_ROWS = 40  # rows searched for the table header
ADJUSTMENT = "ADJUST"  # the product code the line rules count as a shop adjustment
_INTERNAL = ("charge", "transfer", "settlement", "withdraw", "reversal", "commission")
"""Words of Reason Type/Details that make money paid in the business's own movement."""


def header_index(rows: list[list[str]]) -> int | None:
    """The index of the row that heads the statement's table, if any of ``rows`` does."""
    for i, row in enumerate(rows[:HEAD_ROWS]):
        names = {normalise(str(cell)) for cell in row if cell is not None}
        if all(any(h in names for h in COLUMNS[c]) for c in REQUIRED):
            return i
    return None


def is_statement(path: str | Path) -> bool:
    """Whether a CSV/TXT/XLSX file is an M-Pesa statement (its head holds the table header)."""
    path = Path(path)
    try:
        return path.is_file() and header_index(_head_rows(path)) is not None
    except Exception:  # a broken file is the ordinary reader's to report, in its words
        return False


def _head_rows(path: Path) -> list[list[str]]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        limits.check_workbook(path)
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            return [
                ["" if v is None else str(v) for v in row]
                for row in sheet.iter_rows(max_row=HEAD_ROWS, values_only=True)
            ]
        finally:
            book.close()
    if suffix not in (".csv", ".txt", ".tsv"):
        return []
    with path.open("rb") as fh:
        head = fh.read(65536)
    text = _decode(head)
    lines = text.splitlines()[:HEAD_ROWS]
    return [next(csv.reader([line], delimiter=_delimiter(line)), []) for line in lines]


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start > len(data) - 4:  # a character cut by the end of the head
            return data[: error.start].decode("utf-8")
        return data.decode("cp1252", "replace")


def _delimiter(line: str) -> str:
    return max((",", ";", "\t", "|"), key=line.count)


def convert(path: str | Path, target: Path) -> LogManifest:
    """Write the statement's transactions as a log (customer_id, date, receipt, amount,
    product) to the Parquet file ``target``; its manifest counts what was left out."""

    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", file=path, hint="check the path")
    if path.stat().st_size == 0:
        raise InputError("the file is empty", file=path, hint="export the statement again")
    rows = _head_rows(path)
    start = header_index(rows)
    if start is None:
        raise InputError(
            "not an M-Pesa statement: no header with Receipt No., Completion Time, Paid In "
            "and Withdrawn in its first rows",
            file=path,
            hint="export the statement from the M-Pesa business portal as CSV or XLSX",
        )
    with connect() as con:
        columns = _load(con, path, start, rows[start])
        con.execute(f"CREATE TEMP TABLE typed AS {_typed_sql(columns)}")
        counts = con.execute(
            "SELECT count(*) FILTER (WHERE NOT completed), count(*) FILTER (WHERE completed) "
            "FROM typed"
        ).fetchall()[0]
        not_completed, lines = int(counts[0]), int(counts[1])
        if lines == 0:
            raise InputError(
                "the statement has no completed transaction",
                file=path,
                hint="check the period of the statement",
            )
        manifest = LogManifest(
            files=((path.name, lines),),
            excluded={path.name: {"not_completed": not_completed}} if not_completed else {},
            origin="mpesa",
        )
        import pyarrow.parquet as pq

        table = con.sql(_log_sql()).to_arrow_table()
        table = table.replace_schema_metadata({KEY: manifest.to_bytes()})
        pq.write_table(table, target)
    return manifest


def _load(
    con: duckdb.DuckDBPyConnection, path: Path, start: int, header: list[str]
) -> dict[str, str]:
    """Load the table below the header as ``stmt`` (all text); which column is which."""
    found: dict[str, str] = {}
    for col in COLUMNS:
        for name in header:
            if normalise(str(name)) in COLUMNS[col] and col not in found:
                found[col] = str(name)
    names = [str(h) if str(h).strip() else f"column{i}" for i, h in enumerate(header)]
    limits.check_columns(len(names), path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import pandas as pd

        try:
            frame = pd.read_excel(path, sheet_name=0, header=None, dtype=str, skiprows=start + 1)
        except Exception as exc:  # openpyxl raises many types for broken workbooks
            raise InputError(
                f"cannot read the workbook: {exc}", file=path, hint="save it again from Excel"
            ) from None
        frame = frame.iloc[:, : len(names)]
        frame.columns = names[: frame.shape[1]]
        con.register("stmt_frame", frame)
        con.execute("CREATE TEMP TABLE stmt AS SELECT * FROM stmt_frame")
        con.unregister("stmt_frame")
    else:
        limits.check_text_head(path, "utf-8")
        with path.open("rb") as fh:
            delim = _delimiter(_decode(fh.read(65536)).splitlines()[start])
        _load_text(con, path, start, names, delim)
    return found


def _load_text(
    con: duckdb.DuckDBPyConnection, path: Path, start: int, names: list[str], delim: str
) -> None:
    """The rows below the header as ``stmt``: read by DuckDB, or, when it cannot (a footer
    wider than the table, cp1252 text), by Python's csv module."""
    import duckdb

    listed = ", ".join(literal(n) for n in names)
    try:
        con.execute(
            f"CREATE TEMP TABLE stmt AS SELECT * FROM read_csv({literal(str(path))}, "
            f"skip = {start + 1}, header = false, all_varchar = true, null_padding = true, "
            f"delim = {literal(delim)}, names = [{listed}], "
            f"max_line_size = {limits.line_limit_bytes()})"
        )
        return
    except duckdb.Error:
        con.execute("DROP TABLE IF EXISTS stmt")
    import pandas as pd

    text = _decode(path.read_bytes())
    width = len(names)
    records = [
        (r + [""] * (width - len(r)))[:width]
        for r in csv.reader(text.splitlines()[start + 1 :], delimiter=delim)
        if any(r)
    ]
    frame = pd.DataFrame(records, columns=names, dtype=str)
    con.register("stmt_frame", frame)
    con.execute("CREATE TEMP TABLE stmt AS SELECT * FROM stmt_frame")
    con.unregister("stmt_frame")


def _typed_sql(columns: dict[str, str]) -> str:
    """Each transaction typed: its customer, day text, receipt, money in and out, status."""

    def col(name: str) -> str:
        if name not in columns:
            return "CAST(NULL AS VARCHAR)"
        return f"nullif(trim(CAST({ident(columns[name])} AS VARCHAR)), '')"

    def money(name: str) -> str:
        return f"abs(TRY_CAST(replace({col(name)}, ',', '') AS DECIMAL(18,2)))"

    status = col("status")
    completed = f"coalesce(lower({status}) = 'completed', {str('status' not in columns).lower()})"
    party = f"nullif(trim(split_part({col('other_party')}, ' - ', 1)), '')"
    account = f"upper(replace({col('account')}, ' ', ''))"
    what = f"lower(coalesce({col('reason_type')}, '') || ' ' || coalesce({col('details')}, ''))"
    return f"""SELECT row_number() OVER () AS n,
       {col("receipt")} AS receipt,
       coalesce({col("completion")}, {col("initiation")}) AS day,
       {completed} AS completed,
       coalesce({money("paid_in")}, 0) AS paid_in,
       coalesce({money("withdrawn")}, 0) AS withdrawn,
       {what} AS what,
       regexp_extract(coalesce({col("details")}, ''), '\\b([A-Z0-9]{{10}})\\b', 1) AS named,
       {account} AS account,
       {party} AS party,
       coalesce({col("reason_type")}, 'payment') AS reason_type
FROM stmt
WHERE {col("receipt")} IS NOT NULL OR {col("completion")} IS NOT NULL"""


def _log_sql() -> str:
    """The log from ``typed``: a payment without an account number goes to the account the
    same party pays with most often, else to the party itself."""
    internal = " OR ".join(f"what LIKE '%{w}%'" for w in _INTERNAL)
    return f"""WITH known AS (
  SELECT party, account FROM (
    SELECT party, account, row_number() OVER (
             PARTITION BY party ORDER BY count(*) DESC, account) AS rank
    FROM typed WHERE completed AND account IS NOT NULL AND party IS NOT NULL
    GROUP BY party, account)
  WHERE rank = 1
), t AS (
  SELECT typed.*, coalesce(typed.account, known.account, typed.party) AS customer,
         CASE WHEN what LIKE '%reversal%' AND withdrawn > 0 THEN 'reversal'
              WHEN paid_in > 0 AND NOT ({internal}) THEN 'payment'
              ELSE 'adjustment' END AS kind
  FROM typed LEFT JOIN known USING (party)
  WHERE completed
)
SELECT
  CASE WHEN t.kind = 'reversal' THEN coalesce(p.customer, t.customer)
       WHEN t.kind = 'payment' THEN t.customer END AS customer_id,
  t.day AS date,
  t.receipt AS receipt,
  CAST(CASE WHEN t.kind = 'reversal' THEN -t.withdrawn
            WHEN t.kind = 'payment' THEN t.paid_in
            ELSE t.paid_in - t.withdrawn END AS VARCHAR) AS amount,
  CASE WHEN t.kind = 'adjustment' THEN '{ADJUSTMENT}' ELSE t.reason_type END AS product
FROM t
LEFT JOIN (SELECT DISTINCT ON (receipt) receipt, customer FROM t WHERE kind = 'payment') AS p
  ON t.kind = 'reversal' AND p.receipt = t.named AND t.named <> ''
ORDER BY t.n"""
