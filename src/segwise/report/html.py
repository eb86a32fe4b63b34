"""The self-contained HTML report of a segmentation run (``segwise segment --report r.html``).

One file that opens offline: plotly.js inlined once, inline CSS, system fonts, no external
link of any kind. All user text (column names, values, segment names) is escaped by Jinja2's
autoescape in the page and by ``charts.label`` inside the charts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from segwise import __version__
from segwise.io.atomic import atomic_path
from segwise.report import charts
from segwise.report.charts import format_number
from segwise.report.data_facts import data_facts, thousands
from segwise.report.value_check import value_check_chart, value_check_context
from segwise.segment.pipeline import Segmentation
from segwise.segment.profile import SegmentProfile, profile_segments

__all__ = ["SECTIONS", "render_report", "sections_for", "segment_cards", "write_report"]

#: Section id -> heading, in page order ("rfm" and "value_check" only for transaction logs).
SECTIONS: dict[str, str] = {
    "overview": "Overview",
    "sizes": "Segment sizes",
    "segments": "Segments",
    "profiles": "Segment profiles",
    "map": "Segment map",
    "rfm": "RFM grid",
    "value_check": "How well value is predicted",
    "k": "Number of segments",
    "correlations": "Feature correlations",
    "data": "Data and cleaning",
}
#: Rows of key numbers shown on a segment card before "all features".
CARD_ROWS = 6
#: Plain-words names of the RFM features of a transaction log.
RFM_LABELS = {
    "recency": "Recency (days since last purchase)",
    "frequency": "Frequency (purchases)",
    "monetary": "Monetary (net spend)",
}


@dataclass(frozen=True)
class FeatureRow:
    """One feature on a segment card, in original units."""

    label: str
    mean: str
    median: str
    overall: str
    z: float
    arrow: str  # "up", "down" or "" (about average)


@dataclass(frozen=True)
class SegmentCard:
    """What one segment card shows."""

    segment: int
    name: str
    color: str
    size: int
    share: float
    distinctive: list[tuple[str, str, str]]  # (arrow, feature, words)
    rows: list[FeatureRow]
    more_rows: list[FeatureRow]
    rfm_mix: list[tuple[str, float]]
    recommendation: str
    outcomes: list[tuple[str, str, str]] = field(default_factory=list)  # (what, here, all)
    value: str = ""  # a log's customer value, in words ("1,204 customers, expected value ...")


def render_report(seg: Segmentation, *, title: str = "Customer segments") -> str:
    """The whole report as one HTML text (UTF-8, self-contained, opens offline)."""
    used = [c for c in seg.prep.used if c in seg.features.columns]
    overall = profile_segments(seg.features[used], np.zeros(len(seg.labels), dtype=np.int64))[0]
    rows = charts.map_sample(seg.labels)
    rfm = _rfm(seg)
    figures: dict[str, str | None] = {
        "sizes": charts.sizes_chart(seg),
        "profiles": charts.profile_chart(seg.profiles, seg.names, overall),
        "map2d": charts.scatter_2d_chart(seg, rows),
        "map3d": charts.scatter_3d_chart(seg, rows),
        "k": charts.k_selection_chart(seg.k_selection) if seg.k_selection else None,
        "correlations": charts.correlation_chart(seg.features, used),
        "rfm": charts.rfm_grid_chart(*rfm["cells"]) if rfm else None,
        "value_check": value_check_chart(seg),
    }
    context = {
        "title": title,
        "version": __version__,
        "seg": seg,
        "sections": sections_for(seg),
        "overview": _overview(seg, used),
        "cards": _cards(seg, overall),
        "figures": {k: Markup(v) for k, v in figures.items() if v is not None},
        "map_points": len(rows),
        "k": _k_context(seg),
        "rfm": rfm,
        "value_check": value_check_context(seg),
        "data": data_facts(seg, used),
        "plotly_js": Markup(_plotly_js()),
    }
    return _environment().get_template("report.html.j2").render(context)


def write_report(seg: Segmentation, path: str | Path, *, title: str = "Customer segments") -> Path:
    """Render the report and write it atomically (temp file in the same folder, then rename)."""
    text = render_report(seg, title=title)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return Path(path)


def segment_cards(seg: Segmentation) -> list[SegmentCard]:
    """The report's segment cards (numbers, what stands out, advice), for other shells too."""
    used = [c for c in seg.prep.used if c in seg.features.columns]
    overall = profile_segments(seg.features[used], np.zeros(len(seg.labels), dtype=np.int64))[0]
    return _cards(seg, overall)


def sections_for(seg: Segmentation) -> list[tuple[str, str]]:
    """(id, heading) of the sections this run's report has, in page order."""
    has_rfm = seg.kind == "transactions" and all(
        c in seg.features.columns for c in ("r_score", "f_score", "m_score", "segment")
    )
    logs_only = {"rfm": has_rfm, "value_check": seg.kind == "transactions"}
    return [(key, text) for key, text in SECTIONS.items() if logs_only.get(key, True)]


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("segwise", "report/templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["number"] = thousands
    env.filters["money"] = lambda v, digits=2: f"{float(v):,.{digits}f}"
    env.filters["percent"] = lambda v, digits=1: f"{float(v):.{digits}%}"
    return env


@lru_cache(maxsize=1)
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    js = str(get_plotlyjs())
    if "</script" in js.lower():  # cannot happen with today's bundle; never end the tag early
        js = js.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")
    return js


def _feature_label(seg: Segmentation, feature: str) -> str:
    return RFM_LABELS.get(feature, feature) if seg.kind == "transactions" else feature


def _words(z: float) -> tuple[str, str]:
    """(arrow, plain words) for a z-score."""
    size = abs(z)
    arrow = "up" if z > 0 else "down"
    side = "higher" if z > 0 else "lower"
    if size >= 1:
        return arrow, f"much {side} than average"
    if size >= 0.5:
        return arrow, f"{side} than average"
    if size >= 0.2:
        return arrow, f"slightly {side} than average"
    return "", "about average"


def _value_words(seg: Segmentation, segment: int, name: str) -> str:
    """The segment's value headline without its name (the card shows that already)."""
    found = seg.segment_value.get(segment)
    return str(found["headline"]).removeprefix(f"{name}: ") if found else ""


def _cards(seg: Segmentation, overall: SegmentProfile) -> list[SegmentCard]:
    cards = []
    rates = seg.outcomes or [[] for _ in seg.profiles]
    for i, (p, name, advice, found) in enumerate(
        zip(seg.profiles, seg.names, seg.recommendations, rates, strict=True)
    ):
        binary = set(p.binary)
        rows = []
        for feature in sorted(p.mean, key=lambda f: -abs(p.z.get(f, 0.0))):
            z = p.z.get(feature, 0.0)
            flag = feature in binary
            rows.append(
                FeatureRow(
                    label=_feature_label(seg, feature),
                    mean=format_number(p.mean[feature], flag),
                    median="" if flag else format_number(p.median.get(feature, math.nan)),
                    overall=format_number(overall.mean.get(feature, math.nan), flag),
                    z=round(z, 2),
                    arrow=_words(z)[0],
                )
            )
        distinctive = []
        for feature, z in p.distinctive:
            arrow, words = _words(z)
            flag = feature in binary
            numbers = (
                f"{format_number(p.mean[feature], flag)} vs "
                f"{format_number(overall.mean.get(feature, math.nan), flag)} overall"
            )
            distinctive.append((arrow, _feature_label(seg, feature), f"{words} ({numbers})"))
        mix = sorted((p.rfm_mix or {}).items(), key=lambda item: -item[1])
        cards.append(
            SegmentCard(
                segment=p.segment,
                name=name,
                color=charts.color(i),
                size=p.size,
                share=p.share,
                distinctive=distinctive,
                rows=rows[:CARD_ROWS],
                more_rows=rows[CARD_ROWS:],
                rfm_mix=[(n, s) for n, s in mix if s >= 0.005],
                recommendation=advice,
                outcomes=[rate.cells() for rate in found],
                value=_value_words(seg, p.segment, name),
            )
        )
    return cards


def _overview(seg: Segmentation, used: list[str]) -> dict[str, Any]:
    rfm = seg.extra.get("rfm") or {}
    source = rfm.get("input") or seg.extra.get("input") or {}
    tiles = [
        ("Customers", f"{len(seg.labels):,}"),
        ("Segments", f"{seg.k}" + (" (chosen)" if seg.k_selection else " (fixed)")),
        ("Features used", f"{len(used)}"),
        ("Stability (mean ARI)", _fixed(seg.stability.mean_ari, 2)),
    ]
    if rfm.get("as_of"):
        tiles.append(("As-of date", str(rfm["as_of"])))
    return {
        "file": str(source.get("file", "")),
        "kind": "transaction log" if seg.kind == "transactions" else "customer table",
        "tiles": tiles,
        "reason": seg.k_selection.reason if seg.k_selection else None,
        "warning": seg.stability.warning,
        "mean_ari": _fixed(seg.stability.mean_ari, 2),
        "min_ari": _fixed(seg.stability.min_ari, 2),
        "weakest": _weakest(seg),
    }


def _weakest(seg: Segmentation) -> dict[str, str] | None:
    """The segment that holds together least across refits, and its Jaccard."""
    found = [(j, i) for i, j in enumerate(seg.stability.segment_jaccard) if math.isfinite(j)]
    if not found or len(found) != len(seg.names):
        return None
    jaccard, i = min(found)
    return {"name": seg.names[i], "jaccard": _fixed(jaccard, 2)}


def _k_context(seg: Segmentation) -> dict[str, Any] | None:
    selection = seg.k_selection
    if selection is None:
        return None
    n = len(seg.labels)
    return {
        "reason": selection.reason,
        "elbow": selection.elbow,
        "chosen": selection.k,
        "sampled": selection.sample_size if 0 < selection.sample_size < n else None,
        "scores": [
            {
                "k": s.k,
                "inertia": _sig_text(s.inertia),
                "silhouette": _fixed(s.silhouette, 3),
                "ch": _sig_text(s.calinski_harabasz),
                "db": _fixed(s.davies_bouldin, 3),
                "chosen": s.k == selection.k,
            }
            for s in selection.scores
        ],
    }


def _sig_text(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _fixed(value: float, digits: int) -> str:
    return f"{value:.{digits}f}" if math.isfinite(value) else "–"


def _rfm(seg: Segmentation) -> dict[str, Any] | None:
    if seg.kind != "transactions":
        return None
    summary = seg.extra.get("rfm") or {}
    bins = int(summary.get("bins") or 5)
    cells = charts.rfm_cells(seg.features, bins)
    if cells is None:
        return None
    return {"cells": cells, "bins": bins, "segments": summary.get("segments") or []}
