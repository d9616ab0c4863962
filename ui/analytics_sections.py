"""The Analytics page's sections, each drawn from the query layer (see pages/analytics.py).

Every function takes the page's block source (filters and cached queries) and
the data version, draws its blocks (telemetry/blocks/analytics.py) with their
captions, and an empty state saying why when there is nothing.
"""

from __future__ import annotations

import streamlit as st

from telemetry import queries
from telemetry.blocks import analytics
from telemetry.blocks.model import BlockSpec, Source
from telemetry.charts.analytics import breakdown_chart
from telemetry.queries.breakdown import MEASURES
from ui import analytics_blocks as blocks
from ui import block_view, plain
from ui.links import traces_url

BREAKDOWN_NONE = "None"
BREAKDOWN_CHOICES = (BREAKDOWN_NONE, *(name.title() for name in queries.DIMENSIONS))
TOP_SERIES = 5
_MEASURE_LABELS = {"runs": "Runs", "tokens": "Tokens (input + output)", "errors": "Errors"}
_MEASURE_NOTES = {
    "model": "runs = LLM calls, errors = calls with status ERROR",
    "provider": "runs = LLM calls, errors = calls with status ERROR",
    "tool": "runs = tool calls, errors = tool calls with status ERROR",
}


def trends(source: Source, version: int) -> None:
    found = analytics.TRENDS.load(source)
    block_view.figures(analytics.TRENDS, analytics.TRENDS.build(source, found))
    values = {kpi.key: kpi for kpi in found.kpis}
    if not any(values[key].value or values[key].previous for key in ("traces", "input_tokens")):
        filters = source.filters
        blocks.empty_note(filters, version, "runs or LLM calls in this period or the one before")
        return
    breakdown_section(source)
    block_view.chart(analytics.TREND_CHARTS, analytics.TREND_CHARTS.build(source, found))


def breakdown_section(source: Source) -> None:
    filters = source.filters
    choice = st.selectbox(
        "Break down by",
        BREAKDOWN_CHOICES,
        key="breakdown",
        bind="query-params",
        help=f"Split runs, tokens and errors by a dimension: the top {TOP_SERIES} values, "
        "the rest as (other).",
    )
    if choice == BREAKDOWN_NONE:
        return
    dimension = choice.lower()
    st.subheader(f"By {dimension}")
    note = _MEASURE_NOTES.get(dimension, "runs = traces, errors = traces with status error")
    st.caption(
        f"Per {filters.grouping.value} (UTC), the top {TOP_SERIES} {dimension} values of the "
        f"period and (other); {note}; tokens = input + output tokens of LLM calls."
    )
    columns = st.columns(len(MEASURES))
    for column, measure in zip(columns, MEASURES, strict=True):
        frame = source.query(
            "breakdown_timeline", dimension=dimension, measure=measure, top=TOP_SERIES
        )
        with column:
            label = _MEASURE_LABELS[measure]
            if frame.empty:
                reason = "tool calls carry no tokens" if measure == "tokens" else "none counted"
                st.info(f"{label} by {dimension}: {reason} in this period.", icon=":material/info:")
            else:
                st.altair_chart(breakdown_chart(frame, label, choice), width="stretch")


def runs(source: Source, version: int) -> None:
    """The Runs tab: run statistics, commands, agent runs and tool runs."""
    stats = analytics.RUN_STATISTICS.load(source)
    block = analytics.RUN_STATISTICS.build(source, stats)
    block_view.figures(analytics.RUN_STATISTICS, block, title=True)
    if not stats.traces:
        blocks.empty_note(source.filters, version, "runs")
    _table(source, version, analytics.COMMANDS, "runs", csv_name="commands")
    frame = _table(source, version, analytics.AGENT_RUNS, "agent runs", csv_name="agent-runs")
    if frame is not None:
        trace_links("agent", frame["agent"].tolist())
    _table(source, version, analytics.TOOL_RUNS, "tool calls", csv_name="tool-runs")


def model_runs(source: Source, version: int) -> None:
    """The Models tab: LLM calls per model, and their upstream efficiency."""
    frame = _table(source, version, analytics.MODEL_RUNS, "LLM calls", csv_name="model-runs")
    if frame is None:
        return
    trace_links("model", frame["model"].tolist())
    block_view.table(
        analytics.UPSTREAM,
        analytics.UPSTREAM.build(source, frame),
        source.filters,
        csv_name="upstream-efficiency",
    )


def peak_usage(source: Source, version: int) -> None:
    peaks = analytics.PEAK_USAGE.load(source)
    if not peaks["traces"].any() and not peaks["tokens"].any():
        block_view.heading(analytics.PEAK_USAGE)
        blocks.empty_note(source.filters, version, "runs or LLM calls")
        return
    block_view.chart(analytics.PEAK_USAGE, analytics.PEAK_USAGE.build(source, peaks))


def _table(source: Source, version: int, spec: BlockSpec, what: str, *, csv_name: str):
    """The table block ``spec``, or a note saying why it is empty (then ``None``)."""
    frame = spec.load(source)
    if frame.empty:
        block_view.heading(spec)
        blocks.empty_note(source.filters, version, what)
        return None
    block_view.table(spec, spec.build(source, frame), source.filters, csv_name=csv_name)
    return frame


def trace_links(field: str, values: list[str], shown: int = 12) -> None:
    """Links to the Traces page narrowed to each value (agent=..., model=...), filters kept."""
    picked = [value for value in values if value][:shown]
    if not picked:
        return
    # The link text is telemetry (plain text); the address is ours, URL-encoded.
    parts = [f"[{plain.text(value)}]({traces_url(**{field: value})})" for value in picked]
    more = len(values) - len(picked)
    tail = f" · and {more} more (type one into the Traces page's {field} field)" if more else ""
    st.caption(f"Their runs on the Traces page: {' · '.join(parts)}{tail}")
