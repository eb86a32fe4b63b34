"""Inputs that claim far more than they hold (zip bombs, huge sheets, endless lines, thousands
of columns) are refused before they are read, with one line naming the limit and its setting;
UTF-16 text (Excel's "Unicode text") is read like UTF-8."""

from __future__ import annotations

import codecs
import re
import struct
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest
from click.testing import Result

from segwise.config import get_settings
from segwise.errors import InputError
from segwise.io.readers import open_source

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>'
)
SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<dimension ref="A1"/><sheetData>'
)
SHEET_TAIL = "</sheetData></worksheet>"


def set_limit(monkeypatch: pytest.MonkeyPatch, name: str, value: int) -> None:
    monkeypatch.setenv(f"SEGWISE_{name.upper()}", str(value))
    get_settings.cache_clear()


def refused(result: Result, *needles: str) -> str:
    """The one error line of a CLI run that exited 2, checked for ``needles``."""
    exit_code, stderr = result.exit_code, result.stderr
    assert exit_code == 2, (exit_code, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr[:2000]
    assert "Traceback" not in stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return str(lines[0])


def zip_bomb(path: Path, rows: int) -> Path:
    """A valid minimal workbook whose sheet holds ``rows`` empty rows: tiny packed, big unpacked."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(SHEET_HEAD.encode())
            block = b"<row/>" * 100_000
            for _ in range(rows // 100_000):
                sheet.write(block)
            sheet.write(SHEET_TAIL.encode())
    return path


def claim_size(path: Path, entry: str, size: int) -> None:
    """Rewrite the central directory so that ``entry`` claims ``size`` unpacked bytes."""
    raw = bytearray(path.read_bytes())
    name = entry.encode()
    at = raw.find(b"PK\x01\x02")
    while at >= 0:
        length = struct.unpack_from("<H", raw, at + 28)[0]
        if raw[at + 46 : at + 46 + length] == name:
            struct.pack_into("<I", raw, at + 24, size)
            path.write_bytes(bytes(raw))
            return
        at = raw.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"{entry} not in {path}")


def small_workbook(path: Path, columns: int = 6, rows: int = 3) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    names = ["InvoiceNo", "InvoiceDate", "CustomerID", "Amount"]
    names += [f"extra{i}" for i in range(columns - len(names))]
    sheet.append(names)
    for row in range(rows):
        sheet.append([f"A{row}", "2011-01-0" + str(row + 1), f"C{row}", 10.0 + row])
    book.save(path)
    return path


def set_dimension(path: Path, ref: str) -> None:
    """Rewrite the first sheet's declared extent (the data stays as it is)."""
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"]
    sheet, count = re.subn(rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), sheet)
    assert count == 1
    parts["xl/worksheets/sheet1.xml"] = sheet
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)


# 1. XLSX: declared sizes, packing ratio and the sheet's declared extent


def test_xlsx_bomb_over_unpacked_limit(cli, tmp_path: Path, monkeypatch) -> None:
    set_limit(monkeypatch, "max_unpacked_mb", 1)
    bomb = zip_bomb(tmp_path / "bomb.xlsx", rows=500_000)  # 3 MB of <row/>, a few KB packed
    assert bomb.stat().st_size < 20_000
    line = refused(cli("rfm", bomb), "bomb.xlsx", "3 MB", "1 MB", "SEGWISE_MAX_UNPACKED_MB")
    assert len(line) < 300


def test_xlsx_claiming_gigabytes_is_refused_by_default(cli, tmp_path: Path) -> None:
    """A 2 KB workbook whose sheet claims 3.7 GB, at the default 1024 MB limit."""
    bomb = zip_bomb(tmp_path / "claims.xlsx", rows=100_000)
    claim_size(bomb, "xl/worksheets/sheet1.xml", 0xF000_0000)
    refused(cli("rfm", bomb), "claims.xlsx", "3,840 MB", "1,024 MB", "SEGWISE_MAX_UNPACKED_MB")


def test_xlsx_packed_too_tightly_is_refused(tmp_path: Path) -> None:
    """20 MB of empty rows in a few KB: under the size limit, but no workbook packs like that."""
    bomb = zip_bomb(tmp_path / "tight.xlsx", rows=3_500_000)
    with pytest.raises(InputError, match=r"to 1.*not a plain workbook"):
        open_source(duckdb.connect(), bomb)


def test_xlsx_declaring_too_many_cells(cli, tmp_path: Path) -> None:
    book = small_workbook(tmp_path / "cells.xlsx")
    set_dimension(book, "A1:ZZ9999999")  # 702 columns x 9,999,999 rows
    refused(cli("rfm", book), "cells.xlsx", "50,000,000", "SEGWISE_MAX_CELLS")


def test_xlsx_declaring_too_many_columns(cli, tmp_path: Path) -> None:
    book = small_workbook(tmp_path / "widesheet.xlsx")
    set_dimension(book, "A1:CZZ3")
    refused(cli("rfm", book), "widesheet.xlsx", "2,000", "SEGWISE_MAX_COLUMNS")


def test_plain_workbook_still_reads(cli, tmp_path: Path, monkeypatch) -> None:
    set_limit(monkeypatch, "max_unpacked_mb", 1)
    book = small_workbook(tmp_path / "plain.xlsx")
    result = cli("rfm", book, "--amount", "Amount", "--json")
    assert result.exit_code == 0, result.stderr


# 2. Wide tables


def wide_rows(columns: int, rows: int = 3) -> list[list[str]]:
    header = [f"col{i}" for i in range(columns)]
    return [header] + [[str(r * columns + i) for i in range(columns)] for r in range(rows)]


@pytest.mark.parametrize("kind", ["csv", "tsv", "parquet", "xlsx"])
def test_too_many_columns(cli, tmp_path: Path, kind: str) -> None:
    table = wide_rows(2_100)
    path = tmp_path / f"wide.{kind}"
    if kind in ("csv", "tsv"):
        sep = "," if kind == "csv" else "\t"
        path.write_text("".join(sep.join(row) + "\n" for row in table))
    elif kind == "parquet":
        pd.DataFrame(table[1:], columns=table[0]).to_parquet(path)
    else:
        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet()
        for row in table:
            sheet.append(row)
        book.save(path)
    for command in ("rfm", "segment"):
        line = refused(cli(command, path), f"wide.{kind}", "2,100", "2,000")
        assert "SEGWISE_MAX_COLUMNS" in line
        assert len(line) < 300


def test_error_lists_of_columns_are_capped(cli, tmp_path: Path) -> None:
    table = wide_rows(200)
    path = tmp_path / "many.csv"
    path.write_text("".join(",".join(row) + "\n" for row in table))
    line = refused(cli("rfm", path), "col0, col1", "and 180 more")
    assert "col150" not in line
    line = refused(cli("rfm", path, "--customer", "nope"), "and 180 more")
    assert len(line) < 500


# 3. Endless lines


def test_endless_first_line(cli, tmp_path: Path, monkeypatch) -> None:
    set_limit(monkeypatch, "max_line_kb", 16)
    path = tmp_path / "oneline.csv"
    path.write_bytes(b"a," * 50_000)  # 100 KB, no line break
    refused(cli("rfm", path), "oneline.csv", "16 KB", "SEGWISE_MAX_LINE_KB")


def test_endless_line_after_the_first(cli, data: Path, tmp_path: Path, monkeypatch) -> None:
    """Every line is held to the limit, not only the first; under a raised limit it reads."""
    set_limit(monkeypatch, "max_line_kb", 16)
    lines = (data / "retail_us.csv").read_text(encoding="utf-8-sig").splitlines(keepends=True)
    path = tmp_path / "longmid.csv"
    path.write_text(
        "".join(lines[:3]) + lines[3].rstrip("\n") + "x" * 40_000 + "\n" + "".join(lines[4:])
    )
    refused(cli("rfm", path), "longmid.csv", "a line is 39 KB long", "16 KB", "SEGWISE_MAX_LINE_KB")
    set_limit(monkeypatch, "max_line_kb", 64)
    assert cli("rfm", path, "--json").exit_code == 0


def test_short_lines_in_a_long_file_pass(cli, data: Path, monkeypatch) -> None:
    set_limit(monkeypatch, "max_line_kb", 1)  # the file is 2 KB; its lines are short
    result = cli("rfm", data / "retail_us.csv", "--json")
    assert result.exit_code == 0, result.stderr


# 4. UTF-16 text


def utf16_copy(data: Path, path: Path, codec: str, bom: bytes) -> Path:
    text = (data / "retail_us.csv").read_text(encoding="utf-8-sig").replace(",", "\t")
    path.write_bytes(bom + text.replace("\n", "\r\n").encode(codec))
    return path


@pytest.mark.parametrize(
    ("codec", "bom"),
    [
        ("utf-16-le", codecs.BOM_UTF16_LE),  # Excel's "Unicode text"
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-16-le", b""),
    ],
)
def test_utf16_reads_like_utf8(cli, data: Path, tmp_path: Path, codec: str, bom: bytes) -> None:
    expected, got = tmp_path / "expected.csv", tmp_path / "got.csv"
    result = cli("rfm", data / "retail_us.csv", "--out", expected)
    assert result.exit_code == 0, result.stderr
    path = utf16_copy(data, tmp_path / "unicode.txt", codec, bom)
    result = cli("rfm", path, "--out", got)
    assert result.exit_code == 0, result.stderr
    assert got.read_text() == expected.read_text()


def test_utf16_source_describes_encoding(data: Path, tmp_path: Path) -> None:
    path = utf16_copy(data, tmp_path / "unicode.txt", "utf-16-le", codecs.BOM_UTF16_LE)
    con = duckdb.connect()
    source = open_source(con, path)
    try:
        assert source.encoding == "utf-16-le"
        assert source.delimiter == "tab"
        assert source.columns[0] == "InvoiceNo"  # no byte-order mark left in the header
    finally:
        source.close()
    assert source._temp is None
