"""Decide how a column of date text is written, from the data itself, never by a silent guess.

Only the date part matters for RFM (purchase *days*), so the time part of a value is ignored:
``01-12-2010 8.26``, ``12/1/2010 8:26`` and ``2010-12-01T08:26:00`` all read as their day.
Day-first versus month-first is settled by a value above 12 in one position; data that cannot
settle it (every value <= 12 in both) stops with an error asking for ``--date-format``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from segwise.errors import InputError


@dataclass(frozen=True)
class DateFamily:
    """How the date part of the values looks, before day/month order is known."""

    name: str  # "iso" | "ymd8" | "dmy_or_mdy"
    separator: str  # "-", "/", "." or "" for yyyymmdd
    two_digit_year: bool = False


@dataclass(frozen=True)
class DateFormat:
    """A resolved strptime format for the date part, and how it was decided (for the report)."""

    format: str
    reason: str
    whole_value: bool = False  # True when the user's own format applies to the whole text

    def describe(self) -> str:
        return f"{self.format} ({self.reason})"

    @property
    def unsettled(self) -> bool:
        """Day/month order read from the sample only (``guess_order``), still to settle."""
        return self.reason == UNSETTLED


_ISO = re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})$")
_YMD8 = re.compile(r"^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$")
_DMY = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})$")


_SPACES = " \t\n\v\f\r"  # what strptime (and ``sql.spaced``) reads as a space


def date_part(value: str) -> str:
    """The date token of a value: the text before a space (a tab, a line break) or an ISO
    ``T``."""
    text = value.strip(_SPACES)
    head = re.split(f"[{re.escape(_SPACES)}]", text, maxsplit=1)[0]
    return head.partition("T")[0] or head


_CLOCKS = (
    (re.compile(r"\d{1,2}:\d{2}"), "%H:%M"),
    (re.compile(r"\d{1,2}:\d{2}:\d{2}"), "%H:%M:%S"),
)


def timestamp_format(values: Iterable[str], date_format: str) -> str | None:
    """The strptime format of whole values that are a date in ``date_format``, a space and
    a clock (``12/5/2010 8:02`` -> ``%m/%d/%Y %H:%M``), when every value is written so; else
    None. A reader can then type the column as it reads, where the date part alone would be
    cut from each text."""
    if " " in date_format or "T" in date_format:
        return None
    clocks = set()
    for value in values:
        words = re.split(f"[{re.escape(_SPACES)}]+", value.strip(_SPACES), maxsplit=1)
        found = [fmt for pattern, fmt in _CLOCKS if pattern.fullmatch(words[-1])]
        if len(words) != 2 or not found:
            return None
        clocks.add(found[0])
    return f"{date_format} {clocks.pop()}" if len(clocks) == 1 else None


def detect_family(values: Iterable[str], *, column: str, file: str | None = None) -> DateFamily:
    """The one family that most sample values follow; an error when none does."""
    counts: Counter[DateFamily] = Counter()
    seen = 0
    example = None
    for raw in values:
        part = date_part(raw)
        if not part:
            continue
        seen += 1
        if m := _ISO.match(part):
            counts[DateFamily("iso", m.group(2))] += 1
        elif _YMD8.match(part):
            counts[DateFamily("ymd8", "")] += 1
        elif m := _DMY.match(part):
            counts[DateFamily("dmy_or_mdy", m.group(2), len(m.group(4)) == 2)] += 1
        elif example is None:
            example = raw
    if not counts or counts.most_common(1)[0][1] < 0.5 * seen:
        shown = example if example is not None else next(iter(values), "")
        raise InputError(
            f"cannot read the dates, e.g. '{shown}'",
            file=file,
            column=column,
            hint="pass --date-format, e.g. --date-format '%d/%m/%Y %H:%M'",
        )
    return counts.most_common(1)[0][0]


def resolve_format(
    family: DateFamily,
    *,
    max_first: int | None,
    max_second: int | None,
    column: str,
    file: str | None = None,
) -> DateFormat:
    """The strptime format of the date part; day/month order decided from the largest values.

    ``max_first`` and ``max_second`` are the largest first and second numbers over the *whole*
    column (computed by the engine), not a sample, so one value above 12 settles the order.
    """
    if family.name == "iso":
        sep = family.separator
        return DateFormat(f"%Y{sep}%m{sep}%d", "year first")
    if family.name == "ymd8":
        return DateFormat("%Y%m%d", "yyyymmdd numbers")
    sep, year = family.separator, "%y" if family.two_digit_year else "%Y"
    first, second = max_first or 0, max_second or 0
    if first > 12 and second <= 12:
        return DateFormat(f"%d{sep}%m{sep}{year}", f"day first: a first number reaches {first}")
    if second > 12 and first <= 12:
        return DateFormat(f"%m{sep}%d{sep}{year}", f"month first: a second number reaches {second}")
    day_first, month_first = f"%d{sep}%m{sep}{year}", f"%m{sep}%d{sep}{year}"
    if first > 12 and second > 12:
        raise InputError(
            "the dates mix day-first and month-first values",
            file=file,
            column=column,
            hint=f"fix the export or pass --date-format '{day_first}' or '{month_first}'",
        )
    raise AmbiguousDayMonth(
        "cannot tell day-first from month-first dates: no day above 12",
        file=file,
        column=column,
        hint=f"pass --date-format '{day_first}' (day first) or '{month_first}' (month first)",
        formats=(day_first, month_first),
    )


UNSETTLED = "read from the sample, to be settled over every line"


def guess_order(family: DateFamily, values: Iterable[str]) -> DateFormat | None:
    """A day-first or month-first format the sample does not contradict, to try over the whole
    file (``resolve_format`` then settles it from the whole column's largest numbers, see
    ``line_rules.settle_date_format``); None when the sample mixes the orders."""
    if family.name != "dmy_or_mdy":
        return None
    sep, year = family.separator, "%y" if family.two_digit_year else "%Y"
    parts = [m.groups() for v in values if (m := _DMY.match(date_part(v)))]
    first = max((int(p[0]) for p in parts), default=0)
    second = max((int(p[2]) for p in parts), default=0)
    if first > 12 and second > 12:
        return None
    order = f"%d{sep}%m{sep}{year}" if first > 12 else f"%m{sep}%d{sep}{year}"
    return DateFormat(order, UNSETTLED)


class AmbiguousDayMonth(InputError):
    """Dates whose values cannot settle day-first against month-first (every number <= 12);
    ``formats``: the two readings (day first, month first)."""

    def __init__(self, message: str, *, formats: tuple[str, str], **where: Any) -> None:
        super().__init__(message, **where)
        self.formats = formats


def user_format(fmt: str) -> DateFormat:
    """The user's ``--date-format``, applied to the whole value (time part included)."""
    if "%" not in fmt:
        raise InputError(
            f"--date-format '{fmt}' has no % directives",
            hint="use strptime codes, e.g. '%d-%m-%Y %H.%M' or '%m/%d/%Y'",
        )
    return DateFormat(fmt, "given by --date-format", whole_value=True)


# strptime directive -> (Java pattern, fixed-width Java pattern used next to another directive)
_JAVA = {
    "d": ("d", "dd"),
    "m": ("M", "MM"),
    "Y": ("yyyy", "yyyy"),
    "y": ("yy", "yy"),
    "H": ("H", "HH"),
    "I": ("h", "hh"),
    "M": ("m", "mm"),
    "S": ("s", "ss"),
    "f": ("SSSSSS", "SSSSSS"),
    "p": ("a", "a"),
    "b": ("MMM", "MMM"),
    "h": ("MMM", "MMM"),
    "B": ("MMMM", "MMMM"),
    "j": ("D", "DDD"),
}


def java_pattern(fmt: str) -> str:
    """The Java DateTimeFormatter pattern (Spark) that reads what a strptime format reads.

    Numbers take one or two digits like strptime, except next to another number without a
    separator (``%Y%m%d``), where widths must be fixed. Two-digit years read as 20xx here;
    the SQL maps 69..99 back to 19xx as strptime does.
    """
    tokens: list[tuple[str, str]] = []  # ("directive", letter) or ("text", chars)
    i = 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            code = fmt[i + 1]
            if code == "-" and i + 2 < len(fmt):
                code, i = fmt[i + 2], i + 1
            if code == "%":
                tokens.append(("text", "%"))
            elif code in _JAVA:
                tokens.append(("directive", code))
            else:
                raise InputError(
                    f"--date-format directive %{code} cannot be read by the Spark engine",
                    hint="use %d %m %Y %y %H %I %M %S %f %p %b %B %j, or --engine local",
                )
            i += 2
        else:
            tokens.append(("text", fmt[i]))
            i += 1
    out = []
    for n, (kind, value) in enumerate(tokens):
        if kind == "text":
            quoted = value.isalpha() or value in "[]{}#'"
            out.append("''" if value == "'" else f"'{value}'" if quoted else value)
            continue
        beside = [tokens[j][0] for j in (n - 1, n + 1) if 0 <= j < len(tokens)]
        flexible, fixed = _JAVA[value]
        out.append(fixed if "directive" in beside else flexible)
    return "".join(out)
