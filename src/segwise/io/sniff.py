"""How a text file separates its fields, where DuckDB's sniffer cannot tell.

DuckDB finds comma, semicolon, tab and pipe files. Here: the delimiter of a header line in a
ragged file, columns separated by runs of blanks (spaces or tabs, leading blanks too, as in
fixed-width exports), and, when nothing splits, which separator the lines seem to use.
"""

from __future__ import annotations

import codecs
import csv
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from segwise.errors import InputError
from segwise.io.sql import literal

if TYPE_CHECKING:
    import duckdb

HEAD_BYTES = 65536
_BLANKS = re.compile(r"[ \t]+")
_EDGES = re.compile(r"^[ \t]+|[ \t\r]+$", re.MULTILINE)
_NUMBER = re.compile(r"[-+]?[\d.,]+")
_READ = (",", ";", "\t", "|")  # the separators DuckDB splits on
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", " ": "space"}
_OTHER = (":", "~", "^", "#")

Lines = Sequence[tuple[int, str]]  # (line number from 1, text)


def utf16_encoding(head: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when a file's head is UTF-16 text (Excel's "Unicode
    text" export): by its byte-order mark, or else by NUL bytes on every other byte."""
    if head.startswith(codecs.BOM_UTF32_LE):
        return None
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le"
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be"
    sample = head[:1024]
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even, odd = sample[0 : 2 * pairs : 2].count(0), sample[1 : 2 * pairs : 2].count(0)
    if odd >= 0.6 * pairs and even <= 0.05 * pairs:
        return "utf-16-le"
    if even >= 0.6 * pairs and odd <= 0.05 * pairs:
        return "utf-16-be"
    return None


def sample_lines(head: bytes, encoding: str, *, whole: bool) -> list[tuple[int, str]]:
    """The non-empty lines of a file's head; its last line is dropped unless ``whole``."""
    text = head.decode(encoding.replace("-", ""), "replace").lstrip("\ufeff")
    lines = text.split("\n")
    if not whole:
        lines = lines[:-1]
    return [(n, line.rstrip("\r")) for n, line in enumerate(lines, 1) if line.strip()]


def header_delimiter(lines: Lines) -> str | None:
    """The delimiter of a first line that looks like a header (no field is a number)."""
    if not lines:
        return None
    first = lines[0][1]
    counts = {d: first.count(d) for d in _READ}
    best = max(counts, key=lambda d: counts[d])
    if not counts[best]:
        return None
    fields = [f.strip().strip('"') for f in first.strip().split(best)]
    return best if all(f and not _NUMBER.fullmatch(f) for f in fields) else None


def blank_fields(line: str) -> list[str]:
    """The fields of a line whose columns are separated by runs of spaces or tabs."""
    return _BLANKS.split(line.strip(" \t\r"))


def splits_on_blanks(lines: Lines, delimiter: str, columns: int) -> bool:
    """True when runs of blanks split every line into the same number of fields, and better
    than DuckDB's reading (``columns`` fields on ``delimiter``).

    Better means: DuckDB saw one column; or the lines are aligned (leading blanks or runs of
    two or more), those fields are more, and DuckDB's delimiter does not split every line
    alike or (not a tab) sits only inside blank-separated fields, as a decimal comma does.
    """
    if not lines:
        return False
    split = [blank_fields(line) for _, line in lines]
    counts = {len(fields) for fields in split}
    if len(counts) != 1 or (width := counts.pop()) < 2 or width <= columns:
        return False
    if columns == 1:
        return True
    if not any(re.search(r"^[ \t]|[ \t]{2}", line) for _, line in lines):
        return False
    ragged = len({line.count(delimiter) for _, line in lines}) > 1
    inside = not any(f.startswith(delimiter) or f.endswith(delimiter) for s in split for f in s)
    return ragged or (inside and delimiter != "\t")


def write_tab_separated(path: Path, encoding: str) -> Path:
    """Copy a blank-separated file as UTF-8 text with one tab between fields, into a temp file.

    Streamed in large blocks; raises UnicodeDecodeError when the text is not UTF-8 and
    ``encoding`` says it is. The fallback encodings read every byte: the five bytes cp1252
    leaves undefined become U+FFFD, as in ``text_files``' UTF-8 copy of a cp1252 file.
    """
    out = Path(tempfile.mkstemp(prefix="segwise-", suffix=".tsv")[1])
    utf8 = codecs.lookup(encoding).name == "utf-8"
    codec = "utf-8-sig" if utf8 else encoding
    decoder = codecs.getincrementaldecoder(codec)(errors="strict" if utf8 else "replace")
    try:
        with path.open("rb") as src, out.open("w", encoding="utf-8", newline="") as dst:
            rest = ""
            while chunk := src.read(1 << 24):
                text = rest + decoder.decode(chunk)
                if src.tell() == len(chunk):  # the first block: drop a UTF-16 byte-order mark
                    text = text.lstrip("\ufeff")
                cut = text.rfind("\n") + 1
                dst.write(_BLANKS.sub("\t", _EDGES.sub("", text[:cut])))
                rest = text[cut:]
            dst.write(_BLANKS.sub("\t", _EDGES.sub("", rest + decoder.decode(b"", final=True))))
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return out


def split_problem(lines: Lines, file: Path) -> InputError | None:
    """Why a file that reads as one column cannot be split, when its lines show a separator.

    A separator is seen when nine lines in ten hold three fields or more by it (a log needs a
    customer, a date and an amount): DuckDB's four, then blanks, then a few others.
    """
    for sep in (*_READ, " ", *_OTHER):
        split = [blank_fields(t) if sep == " " else t.split(sep) for _, t in lines]
        if not split or sum(len(f) >= 3 for f in split) < 0.9 * len(split):
            continue
        name = _NAMES.get(sep, f"'{sep}'")
        if sep == " " and any("\t" in t for _, t in lines):
            name = "space/tab"
        message = "the file reads as a single column"
        first_number, first = lines[0][0], len(split[0])
        numbered = zip(lines, split, strict=True)
        other = next(((n, len(f)) for (n, _), f in numbered if len(f) != first), None)
        if other is not None:
            by = "runs of blanks" if sep == " " else name
            message += (
                f": split on {by}, line {other[0]} has {other[1]} fields "
                f"where line {first_number} has {first}"
            )
        elif sep in _OTHER:
            message += f": segwise does not split on {name}"
        if sep in _OTHER:
            hint = (
                f"the file looks {name}-separated; export the data as CSV (or separated by "
                "semicolons, tabs, pipes or spaces)"
            )
        elif sep == " ":
            hint = (
                f"the file looks {name}-separated; give every line the same number of fields "
                "(no blanks inside values), or export the data as CSV"
            )
        else:
            hint = f"the file looks {name}-separated; check the quoting, or export it again"
        return InputError(message, file=file, hint=hint)
    return None


def check_field_counts(
    con: duckdb.DuckDBPyConnection, path: Path, source_path: Path, delim: str, opts: str
) -> None:
    """Name the first row whose number of fields differs from the header's (error path)."""
    import duckdb

    try:
        row = con.execute(
            f"SELECT count(*) FROM read_csv({literal(str(source_path))}, "
            f"delim = {literal(delim)}, header = true, {opts})"
        ).fetchone()
        if row and row[0] > 0:
            return
    except duckdb.Error:
        pass
    with source_path.open(newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh, delimiter=delim)
        width = len(next(reader, []))
        for number, fields in enumerate(reader, start=1):
            if fields and len(fields) != width:
                raise InputError(
                    f"a row has {len(fields)} fields where the header has {width}",
                    file=path,
                    row=number,
                    hint="check the quoting and the separator, or export the file again",
                )
