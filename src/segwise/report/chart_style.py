"""The look shared by every Plotly figure of the report and the dashboard: palette, font,
layout and axes, safe labels, and the JSON a figure is sent as."""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

#: One colour per segment (Tableau 10, then repeated), the same in every chart and card.
_TABLEAU_10 = "#4e79a7 #f28e2b #e15759 #76b7b2 #59a14f #edc948 #b07aa1 #ff9da7 #9c755f #7f7f7f"
PALETTE = tuple(_TABLEAU_10.split(" "))
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


def label(text: object, width: int = 0) -> str:
    """User text made safe for a Plotly label; wrapped onto lines of about ``width`` chars."""
    words = html.escape(str(text), quote=False).split(" ")
    if width <= 0:
        return " ".join(words)
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def color(segment_index: int) -> str:
    """The colour of the segment at this position of ``seg.profiles``."""
    return PALETTE[segment_index % len(PALETTE)]


def layout(height: int, **extra: Any) -> dict[str, Any]:
    """The report's common layout (font, margins, legend on top), with ``extra`` over it."""
    base: dict[str, Any] = {
        "template": "none",
        "height": height,
        "autosize": True,
        "font": {"family": FONT, "size": 13, "color": "#1f2933"},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
        "hoverlabel": {"font": {"family": FONT}},
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
    }
    return base | extra


def axis(**extra: Any) -> dict[str, Any]:
    """The report's common axis style, with ``extra`` over it."""
    return {
        "automargin": True,
        "gridcolor": "#e4e7eb",
        "zerolinecolor": "#cbd2d9",
        "linecolor": "#cbd2d9",
    } | extra


def figure_json(figure: go.Figure) -> str:
    """Figure JSON for a ``<script type="application/json">`` block (no ``<`` left raw)."""
    text = str(pio.to_json(figure, validate=False, remove_uids=True))
    return text.replace("<", "\\u003c").replace(">", "\\u003e")


def f4(values: Any) -> np.ndarray:
    """Values as float32: Plotly sends them as base64 typed arrays, half the size of float64."""
    return np.asarray(values, dtype=np.float32)


def sig(value: float, digits: int = 4) -> float | None:
    """``value`` to ``digits`` significant digits (None when not finite), for JSON text."""
    if not math.isfinite(value):
        return None
    if value == 0:
        return 0.0
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))
