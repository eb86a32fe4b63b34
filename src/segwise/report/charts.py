"""The Plotly figures of the HTML report, each returned as a JSON text for ``Plotly.newPlot``.

Every label that comes from user data (column names, values, segment names, customer ids)
goes through ``label``: HTML-escaped, because Plotly reads a few HTML tags in its text and
decodes entities for display, so ``<b>`` in a column name is shown, not obeyed. Arrays are
sent as float32 (Plotly's base64 typed arrays), and scatter plots draw a seeded sample,
so the size of a report does not grow with the number of customers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from segwise.features.rfm import DEFAULT_GRID
from segwise.report.chart_style import (
    FONT,
    PALETTE,
    axis,
    color,
    f4,
    figure_json,
    label,
    layout,
    sig,
)
from segwise.segment.kselect import KSelection
from segwise.segment.pipeline import Segmentation
from segwise.segment.profile import SegmentProfile

#: Most points a scatter plot draws (a seeded sample, every segment represented).
MAP_POINTS = 5_000
#: Fewest points a segment keeps in the scatter sample (all of them when it is smaller).
MAP_MIN_PER_SEGMENT = 50
#: Most rows the rank correlations are computed on (a seeded sample).
CORRELATION_ROWS = 20_000
#: Most features in the correlation heatmap.
CORRELATION_FEATURES = 30


def k_selection_chart(selection: KSelection) -> str:
    """Inertia per k with the elbow marked, silhouette on a second axis, chosen k shaded."""
    ks = [s.k for s in selection.scores]
    inertia = [sig(s.inertia) for s in selection.scores]
    sil = [sig(s.silhouette, 3) for s in selection.scores]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Scatter(
            x=ks,
            y=inertia,
            name="inertia (lower = tighter)",
            mode="lines+markers",
            line={"color": "#4e79a7", "width": 2},
            hovertemplate="k = %{x}<br>inertia %{y:,.4~r}<extra></extra>",
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=ks,
            y=sil,
            name="silhouette (higher = better separated)",
            mode="lines+markers",
            line={"color": "#f28e2b", "width": 2, "dash": "dot"},
            hovertemplate="k = %{x}<br>silhouette %{y:.3f}<extra></extra>",
        ),
        secondary_y=True,
    )
    if selection.elbow is not None and selection.elbow in ks:
        at = ks.index(selection.elbow)
        fig.add_trace(
            go.Scatter(
                x=[selection.elbow],
                y=[inertia[at]],
                name=f"elbow (k = {selection.elbow})",
                mode="markers+text",
                marker={"symbol": "star", "size": 18, "color": "#e15759"},
                text=["elbow"],
                textposition="top right",
                hovertemplate="elbow of the inertia curve at k = %{x}<extra></extra>",
            ),
            secondary_y=False,
        )
    fig.add_vrect(
        x0=selection.k - 0.4,
        x1=selection.k + 0.4,
        fillcolor="#59a14f",
        opacity=0.12,
        line_width=0,
        annotation_text=f"chosen k = {selection.k}",
        annotation_position="bottom left",
    )
    fig.update_layout(layout(380, margin={"l": 10, "r": 10, "t": 40, "b": 10}))
    fig.update_xaxes(axis(title_text="number of segments k", dtick=1))
    fig.update_yaxes(axis(title_text="inertia"), secondary_y=False)
    fig.update_yaxes(axis(title_text="silhouette", showgrid=False), secondary_y=True)
    return figure_json(fig)


def sizes_chart(seg: Segmentation) -> str:
    """Customers per segment, largest on top, coloured like every other chart."""
    order = sorted(range(seg.k), key=lambda i: -seg.profiles[i].size)
    fig = go.Figure(
        go.Bar(
            x=[seg.profiles[i].size for i in order],
            y=[label(seg.names[i], 28) for i in order],
            orientation="h",
            marker={"color": [color(i) for i in order]},
            text=[f"{seg.profiles[i].size:,} ({seg.profiles[i].share:.1%})" for i in order],
            textposition="auto",
            hovertemplate="%{y}<br>%{text}<extra></extra>",
        )
    )
    fig.update_layout(
        layout(max(220, 48 * seg.k + 60), showlegend=False, dragmode=False),
        xaxis=axis(title_text="customers", fixedrange=True),
        yaxis=axis(type="category", autorange="reversed", fixedrange=True),
    )
    return figure_json(fig)


def profile_chart(
    profiles: Sequence[SegmentProfile], names: Sequence[str], overall: SegmentProfile
) -> str:
    """z-scores, segments x features: how far each segment's mean sits from all customers'."""
    features = list(profiles[0].z)
    z = np.array([[p.z[f] for f in features] for p in profiles], dtype=np.float64)
    hover = [
        [
            f"{format_number(p.mean[f], f in p.binary)}"
            f" (all customers {format_number(overall.mean[f], f in p.binary)})"
            for f in features
        ]
        for p in profiles
    ]
    show_text = len(features) * len(profiles) <= 400
    fig = go.Figure(
        go.Heatmap(
            z=np.round(z, 2),
            x=[label(f, 18) for f in features],
            y=[label(n, 28) for n in names],
            customdata=hover,
            colorscale="RdBu",
            reversescale=True,
            zmid=0,
            zmin=-2.5,
            zmax=2.5,
            texttemplate="%{z:.1f}" if show_text else None,
            hovertemplate="%{y}<br>%{x}<br>mean %{customdata}<br>z = %{z:.2f}<extra></extra>",
            colorbar={"title": {"text": "z"}, "thickness": 12},
            xgap=1,
            ygap=1,
        )
    )
    fig.update_layout(
        layout(max(260, 56 * len(profiles) + 120), dragmode=False),
        xaxis=axis(type="category", tickangle=-35, fixedrange=True, showgrid=False),
        yaxis=axis(type="category", autorange="reversed", fixedrange=True, showgrid=False),
    )
    return figure_json(fig)


def map_sample(labels: np.ndarray, *, seed: int = 0, points: int = MAP_POINTS) -> np.ndarray:
    """Sorted row positions of a seeded sample: each segment in proportion, at least a few."""
    labels = np.asarray(labels)
    n = len(labels)
    if n <= points:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    picked = []
    for g in np.unique(labels):
        rows = np.flatnonzero(labels == g)
        quota = min(len(rows), max(MAP_MIN_PER_SEGMENT, int(points * len(rows) / n)))
        picked.append(rng.choice(rows, size=quota, replace=False))
    return np.sort(np.concatenate(picked))


def _axis_title(component: int, share: float) -> str:
    return f"PC{component} ({share:.0%} of variance)"


def scatter_2d_chart(seg: Segmentation, rows: np.ndarray) -> str:
    """Customers on the first two principal components, one colour per segment."""
    coords = seg.projection.coords_2d[rows]
    labels = seg.labels[rows]
    ids = seg.features.index.to_numpy()[rows]
    fig = go.Figure()
    for i, p in enumerate(seg.profiles):
        mine = labels == p.segment
        fig.add_trace(
            go.Scatter(
                x=f4(coords[mine, 0]),
                y=f4(coords[mine, 1]),
                mode="markers",
                name=label(seg.names[i]),
                text=[label(c) for c in ids[mine]],
                marker={"color": color(i), "size": 5, "opacity": 0.7},
                hovertemplate="%{fullData.name}<br>customer %{text}<extra></extra>",
            )
        )
    share = seg.projection.explained_variance_2d
    fig.update_layout(
        layout(480),
        xaxis=axis(title_text=_axis_title(1, share[0])),
        yaxis=axis(title_text=_axis_title(2, share[1])),
    )
    return figure_json(fig)


def scatter_3d_chart(seg: Segmentation, rows: np.ndarray) -> str | None:
    """The same sample on three components; None when the third carries no variance."""
    share = seg.projection.explained_variance_3d
    if len(share) < 3 or share[2] <= 0:
        return None
    coords = seg.projection.coords_3d[rows]
    labels = seg.labels[rows]
    fig = go.Figure()
    for i, p in enumerate(seg.profiles):
        mine = labels == p.segment
        fig.add_trace(
            go.Scatter3d(
                x=f4(coords[mine, 0]),
                y=f4(coords[mine, 1]),
                z=f4(coords[mine, 2]),
                mode="markers",
                name=label(seg.names[i]),
                marker={"color": color(i), "size": 2.5, "opacity": 0.8},
                hovertemplate="%{fullData.name}<extra></extra>",
            )
        )
    titles = [_axis_title(c + 1, share[c]) for c in range(3)]
    fig.update_layout(
        layout(520, margin={"l": 0, "r": 0, "t": 10, "b": 0}),
        scene={
            "xaxis": {"title": {"text": titles[0]}},
            "yaxis": {"title": {"text": titles[1]}},
            "zaxis": {"title": {"text": titles[2]}},
        },
    )
    return figure_json(fig)


def correlation_chart(features: pd.DataFrame, used: Sequence[str], *, seed: int = 0) -> str | None:
    """Spearman (rank) correlations of the numeric features used; None with fewer than two."""
    numeric = [
        c
        for c in used
        if c in features.columns
        and (pd.api.types.is_numeric_dtype(features[c]) or pd.api.types.is_bool_dtype(features[c]))
    ][:CORRELATION_FEATURES]
    if len(numeric) < 2:
        return None
    table = features[numeric]
    if len(table) > CORRELATION_ROWS:
        rng = np.random.default_rng(seed)
        table = table.iloc[np.sort(rng.choice(len(table), CORRELATION_ROWS, replace=False))]
    corr = table.astype(float).corr(method="spearman").to_numpy()
    names = [label(c, 18) for c in numeric]
    fig = go.Figure(
        go.Heatmap(
            z=np.round(np.nan_to_num(corr, nan=0.0), 2),
            x=names,
            y=names,
            colorscale="RdBu",
            reversescale=True,
            zmin=-1,
            zmax=1,
            texttemplate="%{z:.2f}" if len(numeric) <= 12 else None,
            hovertemplate="%{y} / %{x}<br>rank correlation %{z:.2f}<extra></extra>",
            colorbar={"thickness": 12},
            xgap=1,
            ygap=1,
        )
    )
    fig.update_layout(
        layout(max(300, 34 * len(numeric) + 160), dragmode=False),
        xaxis=axis(type="category", tickangle=-35, fixedrange=True, showgrid=False),
        yaxis=axis(type="category", autorange="reversed", fixedrange=True, showgrid=False),
    )
    return figure_json(fig)


def rfm_cells(features: pd.DataFrame, bins: int) -> tuple[np.ndarray, list[list[str]]] | None:
    """Customers per (R, FM) cell of the 5 x 5 grid and each cell's segment name.

    Scores of other bin counts are rescaled onto 1..5 as the RFM SQL does; FM is
    round-half-up((F + M) / 2). A cell's name is the segment its customers carry (so a
    user's own grid shows), or the standard grid's name for an empty cell.
    """
    needed = ("r_score", "f_score", "m_score", "segment")
    if any(c not in features.columns for c in needed):
        return None

    def to5(score: pd.Series) -> np.ndarray:
        s = score.to_numpy(dtype=np.int64)
        return s if bins == 5 else 1 + (8 * (s - 1) + bins - 1) // (2 * (bins - 1))

    r5 = to5(features["r_score"])
    fm5 = (to5(features["f_score"]) + to5(features["m_score"]) + 1) // 2
    counts = np.zeros((5, 5), dtype=np.int64)
    np.add.at(counts, (r5 - 1, fm5 - 1), 1)
    cell = pd.DataFrame({"r": r5, "fm": fm5, "segment": features["segment"].astype(str)})
    seen = cell.groupby(["r", "fm"])["segment"].agg(lambda s: s.mode().iloc[0]).to_dict()
    names = [
        [str(seen.get((r, fm), DEFAULT_GRID.cells[(r, fm)])) for fm in range(1, 6)]
        for r in range(1, 6)
    ]
    return counts, names


def rfm_grid_chart(counts: np.ndarray, names: list[list[str]]) -> str:
    """The 5 x 5 heatmap of customers by R score (rows) and FM score (columns)."""
    total = max(int(counts.sum()), 1)
    text = [
        [f"{label(names[r][fm], 12)}<br>{counts[r, fm]:,}" for fm in range(5)] for r in range(5)
    ]
    shares = [[f"{counts[r, fm] / total:.1%}" for fm in range(5)] for r in range(5)]
    fig = go.Figure(
        go.Heatmap(
            z=counts[::-1],
            x=[f"FM {fm}" for fm in range(1, 6)],
            y=[f"R {r}" for r in range(5, 0, -1)],
            text=text[::-1],
            customdata=shares[::-1],
            texttemplate="%{text}",
            textfont={"size": 11},
            colorscale="Blues",
            hovertemplate="%{y}, %{x}: %{text}<br>%{customdata} of customers<extra></extra>",
            colorbar={"title": {"text": "customers"}, "thickness": 12},
            xgap=2,
            ygap=2,
        )
    )
    fig.update_layout(
        layout(460, dragmode=False),
        xaxis=axis(
            type="category",
            title_text="FM score (frequency and spend, 5 = best)",
            fixedrange=True,
            showgrid=False,
        ),
        yaxis=axis(
            type="category",
            title_text="R score (recency, 5 = most recent)",
            fixedrange=True,
            showgrid=False,
        ),
    )
    return figure_json(fig)


def format_number(value: float, binary: bool = False) -> str:
    """A mean for people: shares as percentages, else a few significant figures."""
    if not math.isfinite(value):
        return "–"
    if binary:
        return f"{value:.0%}"
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


__all__ = ["FONT", "MAP_POINTS", "PALETTE", "color", "label", "map_sample", "rfm_cells"]
