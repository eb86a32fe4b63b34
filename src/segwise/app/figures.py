"""Plotly figures of the dashboard: the HTML report's charts, plus the few only it shows
(customer timeline and standing, run migration and drift, target evaluation, campaign
uplift).

The report's builders (``segwise.report.charts``) return JSON; ``report_figures`` turns them
into figures once per run. Every label from user data goes through ``charts.label``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go
import plotly.io as pio

from segwise.report import charts
from segwise.report.charts import FONT, color, label

if TYPE_CHECKING:
    from segwise.service import Segmentation

FEATURE_WORDS = {"recency": "recency (days)", "frequency": "frequency", "monetary": "spend"}
PSI_SHIFTED = 0.25
PSI_SOME = 0.1


def report_figures(seg: Segmentation) -> dict[str, go.Figure]:
    """The report's charts of a run, by name: sizes, profiles, map2d, map3d, k, rfm."""
    from segwise import service

    overall = service.overall_profile(seg)
    rows = charts.map_sample(seg.labels)
    bins = int((seg.extra.get("rfm") or {}).get("bins") or 5)
    cells = charts.rfm_cells(seg.features, bins) if seg.kind == "transactions" else None
    built: dict[str, str | None] = {
        "sizes": charts.sizes_chart(seg),
        "profiles": charts.profile_chart(seg.profiles, seg.names, overall),
        "map2d": charts.scatter_2d_chart(seg, rows),
        "map3d": charts.scatter_3d_chart(seg, rows),
        "k": charts.k_selection_chart(seg.k_selection) if seg.k_selection else None,
        "rfm": charts.rfm_grid_chart(*cells) if cells else None,
    }
    return {name: from_json(text) for name, text in built.items() if text is not None}


def from_json(text: str) -> go.Figure:
    """A report chart's JSON as a figure."""
    figure: go.Figure = pio.from_json(text, skip_invalid=True)
    return figure


def _layout(height: int, **extra: Any) -> dict[str, Any]:
    return {
        "template": "none",
        "height": height,
        "font": {"family": FONT, "size": 13, "color": "#1f2933"},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "dragmode": False,
    } | extra


def _axis(**extra: Any) -> dict[str, Any]:
    return {"automargin": True, "gridcolor": "#e4e7eb", "fixedrange": True} | extra


def history_chart(history: Sequence[Mapping[str, Any]]) -> go.Figure:
    """A customer's net spend per month (bars) and purchases per month (line), quiet months
    included, from the first month with a line to the last."""
    history = _every_month(history)
    months = [h["month"] for h in history]
    most = max([int(h["purchases"]) for h in history] or [1])
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=months,
            y=[h["spend"] for h in history],
            name="net spend",
            marker={"color": color(0)},
            hovertemplate="%{x}<br>net spend %{y:,.2f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=months,
            y=[h["purchases"] for h in history],
            name="purchases",
            yaxis="y2",
            mode="lines+markers",
            line={"color": color(1)},
            hovertemplate="%{x}<br>%{y} purchases<extra></extra>",
        )
    )
    fig.update_layout(
        _layout(300),
        xaxis=_axis(type="category", title_text="month"),
        yaxis=_axis(title_text="net spend"),
        yaxis2=_axis(
            title_text="purchases",
            overlaying="y",
            side="right",
            showgrid=False,
            range=[0, most + 1],
            dtick=max(1, math.ceil((most + 1) / 5)),
        ),
    )
    return fig


def _every_month(history: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """``history`` with the months between its first and last (no purchase) filled in."""
    import pandas as pd

    if not history:
        return []
    seen = {h["month"]: h for h in history}
    span = pd.period_range(history[0]["month"], history[-1]["month"], freq="M")
    quiet = {"purchases": 0, "returns": 0, "spend": 0.0}
    return [seen.get(str(m), {"month": str(m), **quiet}) for m in span]


def migration_chart(migration: Mapping[str, Any]) -> go.Figure:
    """Sankey of customers from the earlier run's segments (left) to the later run's."""
    sources, targets = list(migration["from"]), list(migration["to"])
    counts: list[list[int]] = migration["counts"]
    by_name: dict[str, str] = {}  # one colour per segment name, on both sides
    for name in sources + targets:
        by_name.setdefault(name, color(len(by_name)))
    link_source, link_target, values, colours = [], [], [], []
    for i, row in enumerate(counts):
        for j, n in enumerate(row):
            if n > 0:
                link_source.append(i)
                link_target.append(len(sources) + j)
                values.append(n)
                colours.append(_faded(by_name[sources[i]]))
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": [label(s) for s in sources] + [label(t) for t in targets],
                "color": [by_name[name] for name in sources + targets],
                "pad": 12,
                "thickness": 14,
            },
            link={
                "source": link_source,
                "target": link_target,
                "value": values,
                "color": colours,
                "hovertemplate": "%{source.label} → %{target.label}: %{value:,}<extra></extra>",
            },
        )
    )
    fig.update_layout(_layout(max(320, 40 * max(len(sources), len(targets)) + 80)))
    return fig


def _faded(hex_colour: str, alpha: float = 0.35) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def drift_chart(drift: Mapping[str, float | None]) -> go.Figure:
    """Population stability index per feature, coloured by how far it moved."""
    names = [name for name, value in drift.items() if value is not None]
    values = [float(drift[name] or 0.0) for name in names]
    shade = [
        color(2) if v > PSI_SHIFTED else color(5) if v > PSI_SOME else color(4) for v in values
    ]
    fig = go.Figure(
        go.Bar(
            x=values,
            y=[label(n, 18) for n in names],
            orientation="h",
            marker={"color": shade},
            text=[f"{v:.3f}" for v in values],
            textposition="auto",
            hovertemplate="%{y}: PSI %{x:.3f}<extra></extra>",
        )
    )
    for edge in (PSI_SOME, PSI_SHIFTED):
        fig.add_vline(x=edge, line={"color": "#9aa5b1", "dash": "dot"})
    fig.update_layout(
        _layout(max(160, 44 * len(names) + 60), showlegend=False),
        xaxis=_axis(title_text="PSI (< 0.1 stable, > 0.25 shifted)", rangemode="tozero"),
        yaxis=_axis(type="category", autorange="reversed"),
    )
    return fig


def confusion_chart(matrix: Sequence[Sequence[int]], classes: Sequence[Any]) -> go.Figure:
    """Hold-out confusion matrix: true class (rows) by predicted class (columns)."""
    names = [label(c) for c in classes]
    fig = go.Figure(
        go.Heatmap(
            z=[list(row) for row in matrix][::-1],
            x=names,
            y=names[::-1],
            colorscale="Blues",
            texttemplate="%{z}",
            hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
            showscale=False,
            xgap=2,
            ygap=2,
        )
    )
    fig.update_layout(
        _layout(max(240, 50 * len(names) + 120)),
        xaxis=_axis(type="category", title_text="predicted", showgrid=False),
        yaxis=_axis(type="category", title_text="true", showgrid=False),
    )
    return fig


def importance_chart(importance: Mapping[str, float]) -> go.Figure:
    """How much the hold-out macro F1 drops when each input column is shuffled."""
    ranked = sorted(importance.items(), key=lambda item: -item[1])[:20]
    fig = go.Figure(
        go.Bar(
            x=[v for _, v in ranked],
            y=[label(n, 18) for n, _ in ranked],
            orientation="h",
            marker={"color": color(0)},
            hovertemplate="%{y}: macro F1 drops %{x:.3f} when shuffled<extra></extra>",
        )
    )
    fig.update_layout(
        _layout(max(180, 32 * len(ranked) + 80), showlegend=False),
        xaxis=_axis(title_text="drop in macro F1 when shuffled"),
        yaxis=_axis(type="category", autorange="reversed"),
    )
    return fig


def uplift_chart(groups: Sequence[Mapping[str, Any]], measure: str = "bought again") -> go.Figure:
    """A campaign read-out's uplift per group with its 95% interval (the HTML read-out's)."""
    from segwise.report.campaign import uplift_chart as uplift_json

    return from_json(uplift_json(groups, measure))


def stored_sizes_chart(segments: Sequence[Mapping[str, Any]]) -> go.Figure:
    """Customers per segment of a stored run (its catalog summary), largest on top."""
    order = sorted(range(len(segments)), key=lambda i: -int(segments[i]["size"]))
    fig = go.Figure(
        go.Bar(
            x=[int(segments[i]["size"]) for i in order],
            y=[label(segments[i]["name"], 28) for i in order],
            orientation="h",
            marker={"color": [color(i) for i in order]},
            text=[
                f"{int(segments[i]['size']):,} ({float(segments[i]['share']):.1%})" for i in order
            ],
            textposition="auto",
            hovertemplate="%{y}<br>%{text}<extra></extra>",
        )
    )
    fig.update_layout(
        _layout(max(220, 48 * len(segments) + 60), showlegend=False),
        xaxis=_axis(title_text="customers"),
        yaxis=_axis(type="category", autorange="reversed"),
    )
    return fig


def abbreviations(names: Sequence[str]) -> dict[str, str]:
    """A short tag per RFM segment name (its initials; two letters for one word), unique."""
    tags: dict[str, str] = {}
    for name in dict.fromkeys(names):
        words = [w for w in name.split() if w[:1].isalpha()]
        tag = "".join(w[0].upper() for w in words) if len(words) > 1 else name[:2].title()
        width = len(tag)
        while tag in tags.values() and width < len(name):
            width += 1
            tag = name.replace(" ", "")[:width].title()
        tags[name] = tag
    return tags


def _rfm_cells(figure: go.Figure) -> list[tuple[str, str, str, int]]:
    """(R, FM, segment name, customers) of each cell of the report's RFM grid figure."""
    trace = figure.data[0]
    cells = []
    for row, r in zip(trace.text, trace.y, strict=True):
        for text, fm in zip(row, trace.x, strict=True):
            *name, count = str(text).split("<br>")
            cells.append(
                (str(r), str(fm), html.unescape(" ".join(name)), int(count.replace(",", "")))
            )
    return cells


def rfm_compact(figure: go.Figure) -> go.Figure:
    """The RFM grid readable on a phone: each cell's segment as a short tag (the key is in
    ``rfm_cell_list``), its count under it, no colour bar."""
    cells = _rfm_cells(figure)
    tags = abbreviations([name for _, _, name, _ in cells])
    width = len(figure.data[0].x)
    text = [
        [f"{tags[name]}<br>{n:,}" for _, _, name, n in cells[i : i + width]]
        for i in range(0, len(cells), width)
    ]
    compact = go.Figure(figure)
    compact.update_traces(text=text, showscale=False, textfont={"size": 12})
    compact.update_layout(
        height=380,
        margin={"l": 4, "r": 4, "t": 10, "b": 4},
        xaxis_title_text="FM score (5 = best)",
        yaxis_title_text="R score (5 = recent)",
    )
    return compact


def rfm_cell_list(figure: go.Figure) -> list[dict[str, Any]]:
    """The RFM grid as rows (tag, segment, R, FM, customers), for small screens and readers."""
    cells = _rfm_cells(figure)
    tags = abbreviations([name for _, _, name, _ in cells])
    return [
        {"tag": tags[name], "segment": name, "R": r, "FM": fm, "customers": n}
        for r, fm, name, n in cells
        if n
    ]


def distribution_chart(
    values: Sequence[float], customer: float, feature: str, segment_name: str, index: int = 0
) -> go.Figure:
    """The segment's customers by ``feature`` (histogram) with this customer marked; the
    longest tail (above the 99th percentile) is folded into the last bar."""
    import numpy as np

    data = np.asarray(values, dtype=float)
    data = data[~np.isnan(data)]
    top = float(max(np.quantile(data, 0.99), customer)) if len(data) else float(customer)
    words = FEATURE_WORDS.get(feature, feature)
    fig = go.Figure(
        go.Histogram(
            x=np.minimum(data, top),
            nbinsx=30,
            marker={"color": color(index), "opacity": 0.75},
            hovertemplate=f"{label(words)} %{{x}}: %{{y:,}} customers<extra></extra>",
        )
    )
    fig.add_vline(x=customer, line={"color": "#1f2933", "width": 3})
    fig.add_annotation(
        x=customer,
        y=1,
        yref="paper",
        text="this customer",
        showarrow=False,
        yanchor="bottom",
        font={"size": 12},
    )
    fig.update_layout(
        _layout(240, showlegend=False, bargap=0.05, margin={"l": 10, "r": 10, "t": 34, "b": 10}),
        xaxis=_axis(title_text=label(words)),
        yaxis=_axis(title_text=label(f"customers in {segment_name}", 22)),
    )
    return fig
