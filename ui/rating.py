"""The rating widget under a trace: thumbs up/down, the configured labels, a comment.

Shown to whoever may see the trace (admins; managers on their own teams' traces,
which the trace view already checked). Scores are stored as source ``human`` by
:func:`telemetry.reviews.record_review`; comments are telemetry text, shown as plain.
Keyboard: G = good, B = bad (when the focus is not in a text field).
"""

from __future__ import annotations

import streamlit as st

from telemetry import format as fmt
from telemetry.queries.review import review_choices, trace_scores
from telemetry.reviews import record_review
from telemetry.timeutil import from_us
from ui import plain
from ui.account import current_account
from ui.cache import cached_query, get_engine
from ui.filters import View

NO_LABEL = "—"
_FLASH = "_rating_flash"


def rating_panel(view: View, trace_id: str, *, key: str = "rate") -> bool:
    """Draw the scores of the trace and the rating form; True when a rating was just stored."""
    account = current_account()
    st.subheader("Rating")
    flash = st.session_state.pop(_FLASH, None)
    if flash:
        st.success(flash, icon=":material/check:")
    scores = cached_query(trace_scores, view.filters, view.data_version, trace_id=trace_id)
    if scores.empty:
        st.caption("No score yet: no feedback, review or evaluation for this run.")
    else:
        st.caption("Scores of this run, oldest first (feedback, reviews, evaluations).")
        shown = scores.assign(time=[f"{from_us(us):%Y-%m-%d %H:%M}" for us in scores.time_us])
        st.dataframe(
            shown[["time", "name", "value", "label", "source", "author", "comment"]],
            hide_index=True,
            width="stretch",
        )
    if account is None:
        return False
    choices = cached_query(review_choices, view.filters, view.data_version)
    labels = {}
    if choices:
        columns = st.columns(min(len(choices), 3))
        for index, (name, allowed) in enumerate(choices):
            picked = columns[index % len(columns)].selectbox(
                plain.text(name), [NO_LABEL, *allowed], key=f"{key}-label-{trace_id}-{name}"
            )
            labels[name] = "" if picked == NO_LABEL else picked
    comment = st.text_area(
        "Comment (optional)", key=f"{key}-comment-{trace_id}", max_chars=2000, height=80
    )
    good, bad, only_labels = st.columns(3)
    verdict = None
    if good.button("Good run", icon=":material/thumb_up:", key=f"{key}-up", shortcut="g"):
        verdict = "up"
    if bad.button("Bad run", icon=":material/thumb_down:", key=f"{key}-down", shortcut="b"):
        verdict = "down"
    save_labels = bool(choices) and only_labels.button(
        "Save labels only", key=f"{key}-labels", disabled=not any(labels.values())
    )
    st.caption("Keyboard: **G** good run, **B** bad run (outside the comment box).")
    if verdict is None and not save_labels:
        return False
    outcome = record_review(
        get_engine(),
        view.filters.org,
        trace_id,
        author=account.username,
        verdict=verdict,
        labels=labels,
        comment=comment.strip(),
    )
    for reason in outcome.rejected:
        st.warning(f"Not stored: {plain.text(reason)}", icon=":material/warning:")
    if not outcome.stored:
        return False
    st.session_state[_FLASH] = f"Rating stored ({fmt.count(outcome.stored)} scores)."
    for name in [f"{key}-comment-{trace_id}", *(f"{key}-label-{trace_id}-{n}" for n, _ in choices)]:
        st.session_state.pop(name, None)  # the next run starts with an empty form
    return True
