"""Limits on what an input may claim, checked before a reader spends memory or time on it.

An XLSX workbook is a zip archive: its entries declare their unpacked sizes and the first
sheet declares its extent (``<dimension ref="A1:K5000"/>``); both are read without
unpacking the sheet. Text files must show a line break within ``max_line_kb``, and no input
may have more than ``max_columns`` columns. Every limit is a setting (``SEGWISE_MAX_*``).
"""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path

from segwise.config import get_settings
from segwise.errors import InputError

LISTED = 20  # column names an error message shows before "and N more"
MAX_RATIO = 200  # unpacked / packed size past which a large zip entry is a bomb
RATIO_FLOOR = 16 << 20  # entries smaller than this are not checked for their ratio
_PEEK = 65536  # bytes read of the workbook, its relationships and the head of the sheet
_MB = 1 << 20
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"']")
_CELL = re.compile(r"\$?([A-Za-z]{0,3})\$?(\d*)")
_SHEET = re.compile(rb"<(?:\w+:)?sheet\b[^>]*?\b\w+:id\s*=\s*[\"']([^\"']+)[\"']")
_RELATION = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
_ATTR = re.compile(rb"\b(Id|Target)\s*=\s*[\"']([^\"']+)[\"']")


def listed(names: Sequence[str], limit: int = LISTED) -> str:
    """Names for an error message: the first ``limit``, then how many more there are."""
    more = len(names) - limit
    return ", ".join(names[:limit]) + (f" and {more} more" if more > 0 else "")


def check_columns(count: int, file: str | Path) -> None:
    """Refuse an input with more columns than ``max_columns``."""
    limit = get_settings().max_columns
    if count > limit:
        raise InputError(
            f"the file has {count:,} columns, more than the limit of {limit:,}",
            file=file,
            hint="keep the columns segwise needs, or raise SEGWISE_MAX_COLUMNS",
        )


def line_limit_bytes() -> int:
    """The longest line a text file may have (``max_line_kb``), in bytes."""
    return get_settings().max_line_kb * 1024


def check_text_head(path: Path, encoding: str) -> None:
    """Refuse a text file whose first line is longer than ``max_line_kb`` KB, or whose first
    line has more fields than ``max_columns`` (by comma, semicolon, tab or pipe).

    Reads at most ``max_line_kb`` KB; ``encoding`` decodes the first line.
    """
    limit_kb = get_settings().max_line_kb
    limit = limit_kb * 1024
    with path.open("rb") as fh:
        chunk = fh.read(limit)
    ends = [i for i in (chunk.find(b"\n"), chunk.find(b"\r")) if i >= 0]
    if not ends:
        if path.stat().st_size > limit:
            raise InputError(
                f"no line break within the first {limit_kb:,} KB: a line is longer than "
                f"the limit of {limit_kb:,} KB",
                file=path,
                hint="check that this is a CSV/TSV export, or raise SEGWISE_MAX_LINE_KB",
            )
        end = len(chunk)
    else:
        end = min(ends)
    first = chunk[:end].decode(encoding, "replace").lstrip("\ufeff").rstrip("\x00")
    widest = max(len(next(csv.reader([first], delimiter=d), [])) for d in ",;\t|")
    check_columns(widest, path)


def check_workbook(path: Path) -> None:
    """Refuse an XLSX archive that unpacks past ``max_unpacked_mb`` or packs too tightly, and a
    first sheet that declares more than ``max_cells`` cells or ``max_columns`` columns.

    Reads the zip directory and a few KB of the workbook parts, never a whole entry.
    """
    settings = get_settings()
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            claimed = sum(e.file_size for e in entries)
            if claimed > settings.max_unpacked_mb * _MB:
                raise InputError(
                    f"the workbook claims to unpack to {claimed / _MB:,.0f} MB, more than the "
                    f"limit of {settings.max_unpacked_mb:,} MB",
                    file=path,
                    hint="export the sheet as CSV, or raise SEGWISE_MAX_UNPACKED_MB",
                )
            for entry in entries:
                ratio = entry.file_size / max(entry.compress_size, 1)
                if entry.file_size > RATIO_FLOOR and ratio > MAX_RATIO:
                    raise InputError(
                        f"the workbook part {entry.filename} packs {entry.file_size / _MB:,.0f} "
                        f"MB into {entry.compress_size / 1024:,.0f} KB ({ratio:,.0f} to 1; "
                        f"real workbooks pack less than {MAX_RATIO} to 1): not a plain workbook",
                        file=path,
                        hint="save it again from Excel, or export the sheet as CSV",
                    )
            sheet = _first_sheet(archive)
            head = b""
            if sheet is not None:
                with archive.open(sheet) as fh:
                    head = fh.read(_PEEK)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise InputError(
            f"cannot read the workbook: {exc}", file=path, hint="save it again from Excel"
        ) from None
    found = _DIMENSION.search(head)
    if found is None:
        return
    rows, columns = _extent(found.group(1).decode("ascii", "replace"))
    check_columns(columns, path)
    if rows * columns > settings.max_cells:
        raise InputError(
            f"the first sheet declares {rows:,} rows x {columns:,} columns = "
            f"{rows * columns:,} cells, more than the limit of {settings.max_cells:,}",
            file=path,
            hint="export the sheet as CSV or Parquet, or raise SEGWISE_MAX_CELLS",
        )


def _first_sheet(archive: zipfile.ZipFile) -> str | None:
    """The archive entry of the workbook's first sheet, by the workbook and its relationships."""
    names = set(archive.namelist())
    default = "xl/worksheets/sheet1.xml" if "xl/worksheets/sheet1.xml" in names else None
    if "xl/workbook.xml" not in names or "xl/_rels/workbook.xml.rels" not in names:
        return default
    with archive.open("xl/workbook.xml") as fh:
        sheet = _SHEET.search(fh.read(_PEEK))
    if sheet is None:
        return default
    with archive.open("xl/_rels/workbook.xml.rels") as fh:
        rels = fh.read(_PEEK)
    for relation in _RELATION.finditer(rels):
        attrs = dict(_ATTR.findall(relation.group(0)))
        if attrs.get(b"Id") == sheet.group(1) and b"Target" in attrs:
            target = attrs[b"Target"].decode("utf-8", "replace")
            name = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            return name if name in names else default
    return default


def _extent(ref: str) -> tuple[int, int]:
    """Rows and columns of a range such as ``A1:ZZ9999999`` (a single cell is 1 x 1)."""
    corners = [_CELL.fullmatch(part.strip()) for part in ref.split(":")[:2]]
    points = [(m.group(1), m.group(2)) for m in corners if m is not None]
    if len(points) < 2:
        return 1, 1
    (c1, r1), (c2, r2) = points
    rows = abs(int(r2 or "1048576") - int(r1 or "1")) + 1
    columns = abs(_column_number(c2 or "XFD") - _column_number(c1 or "A")) + 1
    return rows, columns


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number
