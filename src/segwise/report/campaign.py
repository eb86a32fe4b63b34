"""The self-contained HTML read-out of a campaign (``segwise campaign report --html r.html``).

One file that opens offline, like the run report: plotly.js inlined once, inline CSS, no
external link. User text (campaign, segment names, the message) is escaped by Jinja2's
autoescape in the page and by ``charts.label`` inside the chart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from markupsafe import Markup

from segwise import __version__
from segwise.io.atomic import atomic_path
from segwise.report.chart_style import axis, color, figure_json, label, layout
from segwise.report.html import _environment, _plotly_js
from segwise.service import CampaignReport

__all__ = ["render_campaign_report", "uplift_chart", "write_campaign_report"]

NEUTRAL = "#9aa5b1"


def uplift_chart(groups: Sequence[Mapping[str, Any]], measure: str = "bought again") -> str:
    """Uplift of one measure per group (``overall`` first) as a point with its 95% interval
    and a line at 0, as Plotly JSON; shares in customers per 100. Groups too small to tell
    are left out."""
    shown = [g for g in groups if g["measures"][measure]["uplift"] is not None]
    share = bool(shown) and shown[0]["measures"][measure]["kind"] == "share"
    scale = 100.0 if share else 1.0
    values = [g["measures"][measure] for g in shown]
    mid = [scale * v["uplift"] for v in values]
    low = [scale * v["ci_low"] for v in values]
    high = [scale * v["ci_high"] for v in values]
    tint = [
        color(4) if lo > 0 else color(2) if hi < 0 else NEUTRAL
        for lo, hi in zip(low, high, strict=True)
    ]
    fig = go.Figure(
        go.Scatter(
            x=mid,
            y=[label(g["segment"], 22) for g in shown],
            mode="markers",
            marker={"size": 12, "color": tint},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [h - m for h, m in zip(high, mid, strict=True)],
                "arrayminus": [m - lo for m, lo in zip(mid, low, strict=True)],
                "thickness": 2,
            },
            hovertemplate="%{y}: %{x:.2f}<extra></extra>",
        )
    )
    fig.add_vline(x=0, line={"color": "#52606d", "dash": "dot"})
    unit = " (customers per 100)" if share else ""
    fig.update_layout(
        layout(max(180, 56 * len(shown) + 90), showlegend=False),
        xaxis=axis(title_text=f"uplift in {measure}{unit}, with its 95% interval"),
        yaxis=axis(type="category", autorange="reversed"),
    )
    return figure_json(fig)


def render_campaign_report(report: CampaignReport) -> str:
    """The read-out as one HTML text (UTF-8, self-contained, opens offline)."""
    data = report.to_dict()
    measures = list(data["groups"][0]["measures"]) if data["groups"] else []
    context = {
        "version": __version__,
        "campaign": report.campaign,
        "report": data,
        "charts": {m: Markup(uplift_chart(data["groups"], m)) for m in measures},
        "plotly_js": Markup(_plotly_js()),
    }
    return _environment().get_template("campaign.html.j2").render(context)


def write_campaign_report(report: CampaignReport, path: str | Path) -> Path:
    """Render the read-out and write it atomically."""
    text = render_campaign_report(report)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return Path(path)
