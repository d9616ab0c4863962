"""The trace view (Traces page, ``?trace=<id>``): what happened in one run, step by step.

Header with the status and key figures, the failing step called out first, the
tree of steps, a waterfall, the events, and the detail of one step. Content
(prompts, responses, tool arguments) is only ever fetched for admins.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from telemetry import format as fmt
from telemetry.charts.trace import WATERFALL_MAX_ROWS, waterfall_chart
from telemetry.models import TraceStatus
from telemetry.queries.trace_detail import TraceDetail, trace_detail
from telemetry.queries.trace_tree import duplicate_note
from telemetry.timeutil import from_us
from ui import plain
from ui.account import is_admin
from ui.cache import cached_query
from ui.filters import View
from ui.rating import rating_panel
from ui.trace_links import back_to_traces
from ui.trace_step import step_panel

NOT_FOUND = (
    "No trace {trace_id} here: it does not exist in {org}, or it belongs to a team or "
    "environment you cannot see (or that the filters leave out)."
)
_STATUS_BADGE = {
    TraceStatus.OK: ("ok", "green", ":material/check_circle:"),
    TraceStatus.ERROR: ("error", "red", ":material/error:"),
    TraceStatus.TIMEOUT: ("timeout", "orange", ":material/timer_off:"),
    TraceStatus.RUNNING: ("running", "blue", ":material/pending:"),
}
_INDENT = "\u2003\u2003"


def show_trace(view: View, trace_id: str, *, in_review: bool = False) -> None:
    """Draw the trace ``trace_id`` of the view's organization, teams and environments.

    The period filter does not apply to a trace opened by its id. ``in_review``: drawn
    beside the Review page's queue, which has its own rating form and navigation.
    """
    if not in_review:
        back_to_traces()
    include_content = is_admin()
    detail = cached_query(
        trace_detail,
        view.filters,
        view.data_version,
        trace_id=trace_id,
        include_content=include_content,
    )
    if detail is None:
        st.warning(
            NOT_FOUND.format(trace_id=plain.code(trace_id), org=plain.text(view.filters.org)),
            icon=":material/search_off:",
        )
        return
    _header(detail)
    _outcome(detail)
    _key_figures(detail, per_row=3 if in_review else 5)  # Review: a narrower column
    if detail.truncated:
        st.info(
            f"This trace has {fmt.count(detail.total_observations)} steps; the first "
            f"{fmt.count(len(detail.observations))} by start time are shown.",
            icon=":material/content_cut:",
        )
    st.subheader("Steps")
    st.dataframe(steps_frame(detail), hide_index=True, width="stretch", column_config=_COLUMNS)
    st.subheader("Timeline")
    if len(detail.observations) > WATERFALL_MAX_ROWS:
        st.caption(f"The timeline shows the first {WATERFALL_MAX_ROWS} steps in tree order.")
    st.altair_chart(waterfall_chart(detail), width="stretch")
    _events(detail)
    st.subheader("Step detail")
    step_panel(detail, include_content)
    if not in_review and rating_panel(view, trace_id):
        st.rerun()


def _header(detail: TraceDetail) -> None:
    trace = detail.trace
    # st.badge escapes brackets itself: an unknown status gets a fixed label, not the raw value.
    text, colour, icon = _STATUS_BADGE.get(trace.status, ("unknown status", "gray", None))
    st.subheader(plain.text(trace.name) or "(unnamed trace)")
    st.badge(text, color=colour, icon=icon)
    parts = [
        f"trace {plain.code(trace.trace_id)}",
        f"started {from_us(trace.start_us):%d %b %Y %H:%M:%S} UTC",
        f"user {plain.user(trace.user_name, trace.user)}",
        f"team {plain.text(trace.team or fmt.MISSING)}",
        f"agent {plain.text(trace.agent or fmt.MISSING)}",
        f"module {plain.text(trace.module or fmt.MISSING)}",
        f"environment {plain.text(trace.environment)}",
    ]
    if trace.session:
        parts.append(f"session {plain.code(trace.session)}")
    st.caption(" · ".join(parts))


def _outcome(detail: TraceDetail) -> None:
    """The answer to "did it fail, where and why", before anything else."""
    trace = detail.trace
    failing = detail.failing_step
    if trace.failed:
        verb = "Timed out" if trace.status == TraceStatus.TIMEOUT else "Failed"
        if failing is None:
            message = trace.error_message or trace.error_type or "no message sent"
            st.error(f"{verb}: {plain.text(message, lines=True)}", icon=":material/error:")
        else:
            st.error(
                f"{verb} at step {failing.step} ({plain.text(failing.name)}): "
                f"{plain.text(failing.error_text, lines=True)}",
                icon=":material/error:",
            )
    elif failing is not None:
        st.warning(
            f"{len(detail.errors)} step(s) reported an error but the run "
            f"{'is still going' if trace.running else 'finished'}; the first at step "
            f"{failing.step} ({plain.text(failing.name)}): "
            f"{plain.text(failing.error_text, lines=True)}",
            icon=":material/warning:",
        )
    if trace.running:
        st.info(
            "This run is still in progress: its root span has not ended. Reload to see new steps.",
            icon=":material/pending:",
        )


def _key_figures(detail: TraceDetail, *, per_row: int = 5) -> None:
    trace = detail.trace
    cards = [*st.columns(per_row), *(st.columns(per_row) if per_row < 5 else ())]
    cards[0].metric("Duration", duration_text(trace.duration_ms))
    cards[1].metric(
        "Tokens",
        fmt.count(trace.tokens),
        help=f"{fmt.count(trace.input_tokens)} in ({fmt.count(trace.cache_read_tokens)} cached)"
        f" · {fmt.count(trace.output_tokens)} out; LLM calls only",
    )
    cards[2].metric("Cost", fmt.dollars(trace.cost_usd))
    cards[3].metric("LLM calls", fmt.count(trace.generations))
    cards[4].metric(
        "Tool calls",
        fmt.count(trace.tool_calls),
        help=f"{fmt.count(trace.tool_errors)} failed",
    )


def duration_text(milliseconds: float | None) -> str:
    if milliseconds is None:
        return "running"
    if milliseconds < 1000:
        return f"{milliseconds:,.0f} ms"
    seconds = milliseconds / 1000
    return f"{seconds:,.2f} s" if seconds < 120 else f"{seconds / 60:,.1f} min"


_COLUMNS = {
    "Step": st.column_config.NumberColumn("Step", width="small"),
    "Starts at (ms)": st.column_config.NumberColumn("Starts at (ms)", format="%.0f"),
    "Duration (ms)": st.column_config.NumberColumn("Duration (ms)", format="%.0f"),
}


def steps_frame(detail: TraceDetail) -> pd.DataFrame:
    """The tree as a table: one row per step, the name indented by depth."""
    rows = []
    for node in detail.observations:
        label = _INDENT * node.depth + (node.name or node.kind)
        if node.orphan:
            label += " (parent not received)"
        if node.is_duplicate:
            label += f" ({duplicate_note(node, detail.observations)})"
        shows_usage = node.is_llm_call or node.is_duplicate
        detail_text = node.model if shows_usage else node.tool_name
        rows.append(
            {
                "Step": node.step,
                "Name": label,
                "Kind": node.kind,
                "Status": node.status_text,
                "Starts at (ms)": node.offset_ms,
                "Duration (ms)": node.duration_ms,
                "Model / tool": detail_text,
                # Text: a step that is no LLM call shows nothing here, not "None".
                "Tokens": f"{node.input_tokens + node.output_tokens:,}" if shows_usage else "",
                "Cost (USD)": f"${node.cost_usd:.4f}" if shows_usage else "",
                "Error": node.error_text if node.is_error else "",
            }
        )
    return pd.DataFrame(rows)


def _events(detail: TraceDetail) -> None:
    st.subheader("Events")
    if not detail.events:
        st.caption("No span events in this trace (exceptions and logs sent as span events).")
        return
    rows = [
        {
            "At (ms)": event.offset_ms,
            "Step": event.step,
            "Span": event.span_name,
            "Event": event.name,
            "Attributes": fmt_attributes(event.attributes),
        }
        for event in detail.events
    ]
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_config={"At (ms)": st.column_config.NumberColumn("At (ms)", format="%.0f")},
    )


def fmt_attributes(attributes: dict) -> str:
    return "; ".join(f"{key}={value}" for key, value in attributes.items())
