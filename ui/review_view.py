"""The Review page's parts: the queue kept for the session, next/previous, the rating form.

The queue (:func:`telemetry.queries.review.review_queue`) is read once per filter
set and kept in the session, so next/previous stay put while runs are rated; the
*Refresh queue* button reads it again (rated runs then leave it).
Keyboard: N next, P previous, G good run, B bad run.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from telemetry import format as fmt
from telemetry.queries.review import review_queue
from telemetry.timeutil import from_us
from ui import plain
from ui.cache import get_engine
from ui.filters import View
from ui.rating import rating_panel

HOW_IT_WORKS = (
    "Runs of the period nobody has reviewed yet: negative feedback first, then failed runs, "
    "then a random sample of the others. Rate each (G good, B bad, labels and a comment), "
    "and the next one opens; N / P move without rating."
)
QUEUE_SIZE = 200
SAMPLE_SIZE = 50
_QUEUE = "_review_queue"
_POSITION = "_review_position"
_RATED = "_review_rated"


def current_queue(view: View) -> pd.DataFrame:
    """The session's queue for these filters (read again when they change or on Refresh)."""
    kept = st.session_state.get(_QUEUE)
    if kept is None or kept[0] != view.filters:
        frame = review_queue(
            get_engine(),
            view.filters,
            limit=QUEUE_SIZE,
            sample=SAMPLE_SIZE,
            seed=view.filters.start_day,
        )
        st.session_state[_QUEUE] = (view.filters, frame)
        st.session_state[_POSITION] = 0
        st.session_state[_RATED] = set()
        return frame
    return kept[1]


def refresh() -> None:
    st.session_state.pop(_QUEUE, None)


def position(size: int) -> int:
    return min(max(int(st.session_state.get(_POSITION, 0)), 0), size - 1)


def move(size: int, step: int) -> None:
    st.session_state[_POSITION] = min(max(position(size) + step, 0), size - 1)


def navigation(queue: pd.DataFrame, at: int) -> None:
    row = queue.iloc[at]
    rated = st.session_state.get(_RATED, set())
    st.markdown(
        f"**{at + 1} of {fmt.count(len(queue))}** · {plain.text(row['reason'])} · "
        f"{fmt.count(len(rated))} rated this session"
    )
    # One row of buttons at their own width: narrow columns cut "Previous" and its key hint.
    with st.container(horizontal=True, gap="small"):
        st.button(
            "Previous", icon=":material/arrow_back:", key="review-previous", shortcut="p",
            disabled=at == 0, on_click=move, args=(len(queue), -1),
        )  # fmt: skip
        st.button(
            "Next", icon=":material/arrow_forward:", key="review-next", shortcut="n",
            disabled=at >= len(queue) - 1, on_click=move, args=(len(queue), +1),
        )  # fmt: skip
        st.button(
            "Refresh queue", icon=":material/refresh:", key="review-refresh", on_click=refresh
        )
    shown = queue.assign(
        start=[f"{from_us(us):%Y-%m-%d %H:%M}" for us in queue.start_us],
        rated=["✓" if trace in rated else "" for trace in queue.trace_id],
    )
    st.dataframe(
        shown[["rated", "reason", "name", "agent", "user", "status", "start", "cost_usd"]],
        hide_index=True,
        width="stretch",
        height=240,
        column_config={"cost_usd": st.column_config.NumberColumn("Cost", format="dollar")},
    )


def rate(view: View, row: pd.Series) -> bool:
    """The rating form of the current run; True when it was just rated."""
    st.markdown(f"Run {plain.code(row['trace_id'])} · {plain.text(row['name'])}")
    rated = rating_panel(view, row["trace_id"], key="review")
    if rated:
        st.session_state.setdefault(_RATED, set()).add(row["trace_id"])
    return rated


def empty_queue(view: View) -> None:
    st.success(
        f"Nothing to review in {fmt.day_span(view.filters)}: every run of the period with "
        "negative feedback or a failure has been reviewed and no other run is waiting. Try "
        "a longer period.",
        icon=":material/task_alt:",
    )
    st.button("Refresh queue", icon=":material/refresh:", key="review-refresh", on_click=refresh)
