"""A finished run on the Segments page: numbers, segment cards, charts and downloads.

A run this server finished lately has its whole result in memory (every chart); any other
stored run, from the command line, the API or before a restart, shows what the catalog keeps
(numbers, cards, sizes) and the same downloads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from segwise.app import exports, figures, state
from segwise.app.widgets import chart, plain, segment_card

if TYPE_CHECKING:
    from segwise.report.html import SegmentCard
    from segwise.service import RunInfo, Segmentation


def show(run: RunInfo, seg: Segmentation | None, title: str) -> None:
    """The run's result; ``seg`` its in-memory ``Segmentation`` when this process has it."""
    summary = seg.summary() if seg is not None else run.summary
    _numbers(summary)
    st.subheader("Segment cards")
    cards = _cards(seg) if seg is not None else stored_cards(summary)
    card_cols = st.columns(3)
    for i, card in enumerate(cards):
        with card_cols[i % 3]:
            segment_card(card)
    if seg is not None:
        _charts(run.id, seg)
    else:
        st.subheader("Segment sizes")
        chart(figures.stored_sizes_chart(summary.get("segments", [])), key="sizes")
        st.caption(
            "The profile, map and RFM charts show for runs finished since the dashboard "
            "started; find segments again with the same settings to see them."
        )
    _downloads(run.id, seg, title)


def _numbers(summary: dict[str, Any]) -> None:
    cols = st.columns(3)
    cols[0].metric("Customers", f"{int(summary.get('customers', 0)):,}")
    cols[1].metric("Segments", summary.get("k"))
    stability = summary.get("stability") or {}
    if stability.get("mean_ari") is not None:
        cols[2].metric("Stability", f"{stability['mean_ari']:.2f}", help="mean adjusted Rand")
    if summary.get("k_reason"):
        st.caption(plain(summary["k_reason"]))
    if learned := summary.get("classifier"):
        st.caption(
            f"A classifier trained on these segments names the right one for "
            f"{learned['accuracy']:.0%} of customers it did not see (macro F1 "
            f"{learned['macro_f1']:.2f}): the lower, the more the segments blur into each other."
        )
    if stability.get("warning"):
        st.warning(plain(stability["warning"]), icon=":material/warning:")


def _cards(seg: Segmentation) -> list[SegmentCard]:
    from segwise.report.html import segment_cards

    return segment_cards(seg)


def stored_cards(summary: dict[str, Any]) -> list[SegmentCard]:
    """Segment cards from a stored run's summary (sizes, what stands out, advice)."""
    from segwise.report.charts import color
    from segwise.report.html import SegmentCard

    cards = []
    for i, s in enumerate(summary.get("segments", [])):
        profile = s.get("profile") or {}
        distinctive = []
        for feature, z in s.get("distinctive") or []:
            above = float(z) > 0
            mean = profile.get(feature)
            where = f"{abs(float(z)):.1f} SD {'above' if above else 'below'} average"
            distinctive.append(
                (
                    "up" if above else "down",
                    str(feature),
                    where + (f" (mean {float(mean):,.2f})" if mean is not None else ""),
                )
            )
        mix = sorted((s.get("rfm_mix") or {}).items(), key=lambda item: -float(item[1]))
        cards.append(
            SegmentCard(
                segment=int(s["segment"]),
                name=str(s["name"]),
                color=color(i),
                size=int(s["size"]),
                share=float(s["share"]),
                distinctive=distinctive,
                rows=[],
                more_rows=[],
                rfm_mix=[(str(n), float(v)) for n, v in mix if float(v) >= 0.005],
                recommendation=str(s.get("recommendation") or ""),
            )
        )
    return cards


def _charts(run_id: str, seg: Segmentation) -> None:
    charts = state.figure_store(run_id)
    if not charts:
        charts.update(figures.report_figures(seg))
    st.subheader("Segment sizes")
    chart(charts["sizes"], key="sizes")
    st.subheader("Profiles")
    st.caption("How far each segment's mean sits from all customers' (z-score).")
    chart(charts["profiles"], key="profiles")
    st.subheader("Segment map")
    view = st.radio("View", ["2-D", "3-D"], horizontal=True, label_visibility="collapsed")
    chart(charts["map3d"] if view == "3-D" and "map3d" in charts else charts["map2d"], key="map")
    if "k" in charts:
        st.subheader("Number of segments")
        st.caption(
            "Inertia with the elbow marked, silhouette on the right axis; the chosen k shaded."
        )
        chart(charts["k"], key="k")
    if "rfm" in charts:
        st.subheader("RFM grid")
        st.caption(
            "Customers per cell: R score (recency) up the side, FM score (frequency and "
            "spend) across, 5 = best; each cell's RFM segment by its tag, listed below."
        )
        chart(figures.rfm_compact(charts["rfm"]), key="rfm")
        with st.expander("RFM grid as a list (tags and segments)"):
            st.dataframe(figures.rfm_cell_list(charts["rfm"]), hide_index=True, width="stretch")


def _downloads(run_id: str, seg: Segmentation | None, title: str) -> None:
    st.subheader("Downloads")
    down = st.columns(3 if seg is not None else 2)
    for column, suffix in zip(down[:2], (".csv", ".xlsx"), strict=True):
        column.download_button(
            f"Customers with segments ({suffix[1:].upper()})",
            data=exports.later_run_table(run_id, suffix),
            file_name=f"segments-{run_id}{suffix}",
            mime=exports.MIME[suffix],
            on_click="ignore",
            icon=":material/download:",
            width="stretch",
        )
    if seg is not None:
        down[2].download_button(
            "HTML report",
            data=exports.later_report(seg, title),
            file_name=f"report-{run_id}.html",
            mime=exports.MIME[".html"],
            on_click="ignore",
            icon=":material/description:",
            width="stretch",
        )
