"""UI pieces shared by the pages: error messages, charts, cards, pickers, reports.

``attempt`` is the dashboard's edge for errors: a ``SegwiseError`` becomes its one line in
dashboard words (``messages.say``) in ``st.error``, anything else a short note (the traceback
goes to the server log), so a bad file never shows a traceback, a flag or a path.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import streamlit as st

from segwise import service
from segwise.app import state
from segwise.app.messages import say
from segwise.errors import SegwiseError

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from segwise.app.forms import Prediction
    from segwise.report.html import SegmentCard
    from segwise.service import DatasetInfo

P = ParamSpec("P")
R = TypeVar("R")

log = logging.getLogger("segwise.app")
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|$~:])")
ARROWS = {"up": "↑", "down": "↓", "": "·"}
CHART_CONFIG = {"displaylogo": False, "responsive": True, "scrollZoom": False}


def attempt(func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R | None:
    """Call a service function; on failure show a readable message and return None."""
    try:
        return func(*args, **kwargs)
    except SegwiseError as error:
        st.error(say(error), icon=":material/error:")
    except Exception as error:  # a bug: say so plainly, keep the traceback for the log
        log.exception("unexpected error in the dashboard")
        st.error(say(error), icon=":material/bug_report:")
    return None


def plain(text: object) -> str:
    """User text shown literally in markdown (no formatting, links or HTML obeyed)."""
    return _MARKDOWN.sub(r"\\\1", html.escape(str(text), quote=False))


def chart(figure: go.Figure, *, key: str | None = None) -> None:
    """A Plotly figure across the page's width (phones included), in the report's colours."""
    st.plotly_chart(figure, width="stretch", theme=None, config=CHART_CONFIG, key=key)


def require_dataset() -> DatasetInfo:
    """The session's dataset, or a pointer to the Data page and the end of this page."""
    info = state.dataset()
    if info is None:
        st.info("Choose a file or a stored dataset first.", icon=":material/info:")
        st.page_link("app_pages/data.py", label="Go to Data", icon=":material/upload_file:")
        st.stop()
        raise AssertionError("unreachable")  # st.stop ends the script run
    return info


def dataset_line(info: DatasetInfo) -> str:
    """One line naming a dataset: name, kind, size, id."""
    kind = "transaction log" if info.kind == "transactions" else "customer table"
    return (
        f"**{plain(info.name)}** · {kind} · {info.customers:,} customers · "
        f"{info.rows:,} rows · `{info.id}`"
    )


def cleaning_report(info: DatasetInfo) -> None:
    """What was read and kept, what was dropped and why, in plain words."""
    from segwise.service import REASONS

    report = info.report
    dropped = {reason: n for reason, n in info.dropped.items() if n}
    cols = st.columns(3)
    cols[0].metric("Rows read", f"{info.rows:,}")
    cols[1].metric("Customers", f"{info.customers:,}")
    cols[2].metric("Rows left out", f"{sum(dropped.values()):,}")
    if info.kind == "transactions":
        st.caption(
            f"{report.get('kept_lines', 0):,} lines kept, {report.get('returns', 0):,} of them "
            "cancellations or returns (they lower net spend, they are not purchases)"
            + (f"; as-of date {info.as_of}" if info.as_of else "")
        )
    if dropped:
        total = max(info.rows, 1)
        st.dataframe(
            [
                {
                    "left out": REASONS.get(reason, reason),
                    "rows": n,
                    "share": f"{n / total:.1%}",
                }
                for reason, n in dropped.items()
            ],
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption("No row was left out.")
    roles = {k: v for k, v in info.roles.items() if v and k != "date_format"}
    if roles:
        words = ", ".join(f"{plain(role)}: **{plain(column)}**" for role, column in roles.items())
        fmt = info.roles.get("date_format")
        st.caption(f"Columns used — {words}" + (f"; dates read as {plain(fmt)}" if fmt else ""))


def segment_card(card: SegmentCard) -> None:
    """One segment: name in its chart colour, size, what stands out, the advice."""
    with st.container(border=True):
        st.markdown(
            f'<span style="color:{card.color};font-size:1.3em">●</span> '
            f"**{plain(card.name)}** <small>segment {card.segment}</small>",
            unsafe_allow_html=True,
        )
        st.markdown(f"**{card.size:,}** customers · **{card.share:.1%}** of all")
        if card.value:
            st.markdown(f":material/payments: {plain(card.value)}")
        if card.distinctive:
            st.markdown(
                "\n".join(
                    f"- {ARROWS.get(arrow, '·')} {plain(feature)}: {plain(words)}"
                    for arrow, feature, words in card.distinctive
                )
            )
        if card.rfm_mix:
            mix = ", ".join(f"{plain(name)} {share:.0%}" for name, share in card.rfm_mix[:3])
            st.caption(f"RFM segments inside: {mix}")
        if card.outcomes:
            said = "; ".join(
                f"{plain(w)} {here} vs {every} overall" for w, here, every in card.outcomes
            )
            st.markdown(f"Outcomes (not clustered on): {said}")
        st.markdown(f":material/lightbulb: {plain(card.recommendation)}")


def run_picker(label: str = "Run") -> str | None:
    """Choose a finished run (the session's latest first); None, with a hint, when none."""
    runs = [r for r in service.list_runs() if r.status == "done"]
    if not runs:
        st.info("No finished run yet: find segments first.", icon=":material/info:")
        st.page_link(
            "app_pages/segments.py", label="Go to Segments", icon=":material/bubble_chart:"
        )
        return None
    names = {
        r.id: f"{r.dataset_name} · k={r.k} · {r.created:%Y-%m-%d %H:%M} · {r.id}" for r in runs
    }
    ids = list(names)
    current = state.run_id()
    chosen = st.selectbox(
        label, ids, index=ids.index(current) if current in ids else 0, format_func=names_of(names)
    )
    if chosen is not None and chosen != current:
        state.set_run(chosen)
    return chosen


def names_of(names: Mapping[str, str]) -> Callable[[object], str]:
    """A selectbox's ``format_func`` showing each option's name from ``names``."""
    return lambda option: names.get(str(option), str(option))


def prediction_card(result: Prediction, colours: Mapping[int, str] | None = None) -> None:
    """The answer for one customer: segment (or class), probability, advice, reasons."""
    colour = (colours or {}).get(result.segment or 0, "#4e79a7")
    with st.container(border=True):
        what = "Segment" if result.kind == "segment" else "Prediction"
        st.markdown(
            f'{what}: <span style="color:{colour};font-size:1.3em">●</span> '
            f"**{plain(result.answer)}**",
            unsafe_allow_html=True,
        )
        st.progress(result.probability, text=f"probability {result.probability:.0%}")
        if result.recommendation:
            st.markdown(f":material/lightbulb: {plain(result.recommendation)}")
        if result.reasons:
            st.markdown("**Why**\n" + "\n".join(f"- {plain(r)}" for r in result.reasons))
        for note in result.notes:
            st.caption(plain(note))


def table(rows: Any, **column_config: Any) -> None:
    """A table across the page's width without its index."""
    st.dataframe(rows, hide_index=True, width="stretch", column_config=column_config or None)
