"""Read a user's own RFM segment grid (``--segments FILE``): JSON or CSV."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from segwise.errors import InputError


def read_grid(path: str | Path) -> dict[str, list[str]]:
    """Segment -> cells from a grid file; ``SegmentGrid.from_mapping`` checks them.

    JSON: ``{"Champions": ["55", "54"], ...}``; CSV: rows ``segment,cells``.

    In CSV, ``cells`` holds the cells separated by spaces, e.g. ``Champions,55 54 45``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("segment grid file not found", file=path, hint="check the path")
    text = path.read_text(encoding="utf-8-sig")
    mapping: dict[str, list[str]] = {}
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON: {exc.msg}", file=path, row=exc.lineno) from None
        if not isinstance(data, dict):
            raise InputError("expected an object of segment -> cells", file=path)
        mapping = {
            str(k): [str(c) for c in (v if isinstance(v, list) else str(v).split())]
            for k, v in data.items()
        }
    else:
        for number, row in enumerate(csv.reader(text.splitlines()), start=0):
            if not row or (number == 0 and row[0].strip().lower() == "segment"):
                continue
            if len(row) != 2:
                raise InputError(
                    "expected two columns: segment,cells",
                    file=path,
                    row=number,
                    hint="e.g. Champions,55 54 45",
                )
            mapping.setdefault(row[0].strip(), []).extend(row[1].split())
    return mapping
