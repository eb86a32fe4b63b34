"""The report's "How well value is predicted" section: the run's hold-out check (BG/NBD
learned before the last weeks, its expected purchases beside the actual ones per group of
customers), as a Plotly chart and a table; a one-line note when the check was not made."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from segwise.report.chart_style import axis, figure_json, layout
from segwise.segment.pipeline import Segmentation

ACTUAL_COLOR = "#4e79a7"
PREDICTED_COLOR = "#f28e2b"


def value_check_context(seg: Segmentation) -> dict[str, Any]:
    """What the section shows: the check's periods, groups and totals, or only a note."""
    check = seg.extra.get("value_check")
    if not check:
        return {"note": "No hold-out check: this run did not value its customers."}
    if check.get("note"):
        return {"note": str(check["note"])}
    return {"note": None} | dict(check)


def value_check_chart(seg: Segmentation) -> str | None:
    """The chart of the run's hold-out check; None when the run has none."""
    check = seg.extra.get("value_check") or {}
    return holdout_chart(check) if check.get("groups") else None


def holdout_chart(check: dict[str, Any]) -> str:
    """Purchases per customer in the hold-out, actual (bars) and predicted (line), by the
    number of repeat purchases before it, from a check's summary (``ValueCheck.summary``)."""
    groups = check["groups"]
    names = [str(g["repeat_purchases"]) for g in groups]
    sizes = [f"{int(g['customers']):,} customers" for g in groups]
    fig = go.Figure(
        [
            go.Bar(
                x=names,
                y=[g["actual_mean"] for g in groups],
                name="actual",
                marker={"color": ACTUAL_COLOR},
                customdata=sizes,
                hovertemplate="%{x} before: %{y:.3f} actual (%{customdata})<extra></extra>",
            ),
            go.Scatter(
                x=names,
                y=[g["predicted_mean"] for g in groups],
                name="predicted (BG/NBD)",
                mode="lines+markers",
                line={"color": PREDICTED_COLOR, "width": 3},
                marker={"size": 9},
                customdata=sizes,
                hovertemplate="%{x} before: %{y:.3f} predicted (%{customdata})<extra></extra>",
            ),
        ]
    )
    fig.update_layout(
        layout(360, dragmode=False),
        xaxis=axis(
            type="category",
            title_text=f"repeat purchases up to {check['calibration_end']}",
            fixedrange=True,
        ),
        yaxis=axis(
            title_text=f"per customer, {check['holdout_weeks']:g} weeks after",
            fixedrange=True,
            rangemode="tozero",
        ),
    )
    return figure_json(fig)
