"""The dashboard's words for errors: one mapping from what the core says to what a person who
never opens a terminal can act on.

The core's messages are written for the command line ("pass --date-format ..."); here each
option is named by the control that sets it, server paths become file names, a library's own
error text is left out, and advice only a terminal can follow is dropped. An error that is
not segwise's own (a bug) gets one plain sentence; its details go to the server's log.
"""

from __future__ import annotations

import re

from segwise.errors import InputError, NotAllowedError, SegwiseError, SignInError

UNEXPECTED = (
    "Something went wrong that segwise did not expect. Try again; if it happens again, "
    "the details are in the server's log for whoever runs segwise here."
)
ROLES = "among the column roles on the Data page"

PHRASES: list[tuple[str, str]] = [
    # dates: the Date format field of the Data page
    (
        r"pass --date-format '([^']*)' \(day first\) or '([^']*)' \(month first\)",
        r"type \1 (day first) or \2 (month first) in Date format on the Data page",
    ),
    (
        r"pass --date-format '([^']*)' or '([^']*)'",
        r"type \1 or \2 in Date format on the Data page",
    ),
    (
        r"fix the export or pass --date-format '([^']*)' or '([^']*)'",
        r"fix the export, or type \1 or \2 in Date format on the Data page",
    ),
    (
        r"pass --date-format, e\.g\. --date-format '([^']*)'",
        r"type the format in Date format on the Data page, e.g. \1",
    ),
    (r"pass --date-format", "type the format in Date format on the Data page"),
    (r"given by --date-format", "typed in Date format"),
    (r"--date-format", "Date format on the Data page"),
    # columns: the column roles of the Data page
    (r"name it with --customer COL", f"choose it as Customer id {ROLES}"),
    (r"name it with --date COL", f"choose it as Date {ROLES}"),
    (
        r"name them with --amount COL, or --quantity COL --price COL",
        f"choose them as Line amount, or Quantity and Unit price, {ROLES}",
    ),
    (
        r"name the right column with --amount/--quantity/--price",
        f"choose the right Line amount, Quantity or Unit price {ROLES}",
    ),
    (r"\(--customer\)", f"(Customer id {ROLES})"),
    (r"--customer\b", "Customer id"),
    (r"--date\b", "Date"),
    (r"--invoice\b", "Invoice"),
    (r"--amount\b", "Line amount"),
    (r"--quantity\b", "Quantity"),
    (r"--price\b", "Unit price"),
    # the Segments form
    (r"use --k auto or a number >= 2", "ask for 2 segments or more, or choose automatically"),
    (r"use 2\.\.(\d+) \(--k-max\)", r"ask for 2 to \1 segments"),
    (r"--k-max\b", "Largest number tried automatically"),
    (r"--k-min\b", "Smallest number tried automatically"),
    (r"k fixed by --k\b", "the number of segments asked for"),
    (r"--k (\d+)", r"\1 segments"),
    (r"--k\b", "Number of segments"),
    (r"--min-share\b", "Smallest segment worth having"),
    (r"--bins\b", "RFM scores from 1 to"),
    (r"--seed\b", "Random seed"),
    (r"--features\b", "Features"),
    (r"--outcomes none\b", "an empty Outcomes list"),
    (r"--outcomes\b", "Outcomes"),
    (r"--kind\b", "Kind"),
    (r"--target\b", "Column to predict"),
    (r"--name\b", "Name"),
    (r"SEGWISE_MAX_UPLOAD_MB", "the upload limit (whoever runs segwise here sets it)"),
]
_PHRASES = [(re.compile(pattern), words) for pattern, words in PHRASES]

# what a dashboard user cannot act on: terminal commands, settings, leftover flags
_TERMINAL = re.compile(r"`segwise[^`]*`|\bsegwise (?:[a-z]+ )*--|\bSEGWISE_[A-Z_]+|(?<!\w)--[a-z]")
# a library's own error text ("Invalid Input Error: No magic bytes ..."), up to the
# location or the hint that segwise added after it
_LIBRARY = re.compile(
    r":?\s*\b(?:[A-Z][A-Za-z]*\s)*[A-Z]?[A-Za-z]*(?:Error|Exception|Invalid|Warning)\b"
    r"(?::[^;()]*)?"
)
# absolute paths (POSIX or Windows) and relative ones with folders: shown by their last part
_PATH = re.compile(r"(?:[A-Za-z]:\\|/|\.{1,2}/)?(?:[\w.\-+ ]+[\\/])+([\w.\-+]+)")


def say(error: BaseException | str) -> str:
    """One line a dashboard user can act on, for an error or a stored error message."""
    if isinstance(error, SignInError | NotAllowedError):
        return _clean(str(error))
    if isinstance(error, InputError):
        text = error.message
        if error.file is not None or error.row is not None or error.column is not None:
            where = [part for part in (_file(error.file), _row(error.row)) if part]
            if error.column is not None:
                where.append(f"column '{error.column}'")
            text += f" ({', '.join(where)})"
        if error.hint:
            text += f"; {error.hint}"
        return _clean(text)
    if isinstance(error, SegwiseError | str):
        return _clean(str(error))
    return UNEXPECTED


def _file(name: str | None) -> str:
    return _PATH.sub(r"\1", name) if name else ""


def _row(row: int | None) -> str:
    return f"row {row}" if row is not None else ""


def _clean(text: str) -> str:
    text = " ".join(text.split())
    text = _PATH.sub(r"\1", text)
    text = _LIBRARY.sub(" ", text)
    for pattern, words in _PHRASES:
        text = pattern.sub(words, text)
    clauses = [c.strip() for c in text.split(";")]
    kept = [clauses[0]] + [c for c in clauses[1:] if c and not _TERMINAL.search(c)]
    kept[0] = re.sub(r"(?<!\w)--([a-z][a-z-]*)", lambda m: m.group(1).replace("-", " "), kept[0])
    kept[0] = re.sub(r"`segwise[^`]*`", "the command line", kept[0])
    said = "; ".join(c for c in kept if c)
    said = re.sub(r"\s+([,;)]|\.(?!\w))", r"\1", " ".join(said.split())).strip(" :;")
    return said[:1].upper() + said[1:] if said else UNEXPECTED
