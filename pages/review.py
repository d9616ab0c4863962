"""Review: a queue of runs to rate (negative feedback, failures, a sample), the trace beside it."""

from __future__ import annotations

import streamlit as st

from ui import review_view
from ui.header import page_header
from ui.trace_view import show_trace

view = page_header("Review")
st.caption(review_view.HOW_IT_WORKS)
queue = review_view.current_queue(view)
if queue.empty:
    review_view.empty_queue(view)
    st.stop()
position = review_view.position(len(queue))
row = queue.iloc[position]
left, right = st.columns([2, 3], gap="large")
with left:
    review_view.navigation(queue, position)
    if review_view.rate(view, row):
        review_view.move(len(queue), +1)
        st.rerun()
with right:
    show_trace(view, row["trace_id"], in_review=True)
