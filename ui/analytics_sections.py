"""The Analytics page's sections, each drawn from the query layer (see pages/analytics.py).

Every function takes ``load(query, **options)`` (the page's cached query
runner), the filters and the data version, draws its block with a caption
saying what it shows, and an empty state saying why when there is nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from telemetry import format as fmt
from telemetry import queries
from telemetry.charts.analytics import breakdown_chart, comparison_chart, heatmap
from telemetry.filters import Filters
from telemetry.queries.breakdown import MEASURES
from ui import analytics_blocks as blocks
from ui import plain
from ui.links import traces_url

Load = Callable[..., object]
BREAKDOWN_NONE = "None"
BREAKDOWN_CHOICES = (BREAKDOWN_NONE, *(name.title() for name in queries.DIMENSIONS))
TOP_SERIES = 5
UPSTREAM_COLUMNS = [
    "provider",
    "model",
    "calls",
    "error_rate",
    "p50_latency_s",
    "p95_latency_s",
    "output_tokens_per_second",
    "cache_hit_ratio",
]
_MEASURE_LABELS = {"runs": "Runs", "tokens": "Tokens (input + output)", "errors": "Errors"}
_MEASURE_NOTES = {
    "model": "runs = LLM calls, errors = calls with status ERROR",
    "provider": "runs = LLM calls, errors = calls with status ERROR",
    "tool": "runs = tool calls, errors = tool calls with status ERROR",
}


def trends(load: Load, filters: Filters, version: int) -> None:
    found = load(queries.trends)
    kpis = found.kpis
    st.caption(
        f"Totals of the period; each card compares with the previous period "
        f"({fmt.day_span(filters.previous())}; *new* when it holds no data). Runs and errors "
        "count traces by their start, tokens count LLM calls by their own start, session "
        "time = latest end − earliest start of a session's runs, as median and p90 (the "
        "mean, which a few long sessions dominate, is in the cards' help)."
    )
    blocks.figure_cards(kpis, filters)
    values = {kpi.key: kpi for kpi in kpis}
    if not any(values[key].value or values[key].previous for key in ("traces", "input_tokens")):
        blocks.empty_note(filters, version, "runs or LLM calls in this period or the one before")
        return
    breakdown_section(load, filters)
    st.subheader("Against the previous period")
    st.caption(
        f"Per {filters.grouping.value} (UTC): this period as a solid line, the previous "
        f"period ({fmt.day_span(filters.previous())}) dashed, shifted forward onto the same axis."
    )
    timeline = found.timeline
    columns = st.columns(3)
    for index, (key, label, unit) in enumerate(queries.TREND_KEYS):
        with columns[index % 3]:
            st.altair_chart(
                comparison_chart(
                    timeline, key, label, unit, filters.grouping, filters.previous_offset_us
                ),
                width="stretch",
            )


def breakdown_section(load: Load, filters: Filters) -> None:
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
        frame = load(
            queries.breakdown_timeline, dimension=dimension, measure=measure, top=TOP_SERIES
        )
        with column:
            label = _MEASURE_LABELS[measure]
            if frame.empty:
                reason = "tool calls carry no tokens" if measure == "tokens" else "none counted"
                st.info(f"{label} by {dimension}: {reason} in this period.", icon=":material/info:")
            else:
                st.altair_chart(breakdown_chart(frame, label, choice), width="stretch")


def runs(load: Load, filters: Filters, version: int) -> None:
    """The Runs tab: run statistics, commands, agent runs and tool runs."""
    run_statistics(load, filters, version)
    commands(load, filters, version)
    agent_runs(load, filters, version)
    tool_runs(load, filters, version)


def commands(load: Load, filters: Filters, version: int) -> None:
    st.subheader("Commands")
    st.caption(
        "Runs by name (the root span: a command or intent), most used first; error rate = "
        "errors ÷ finished runs; median duration of finished runs."
    )
    frame = load(queries.commands)
    if frame.empty:
        blocks.empty_note(filters, version, "runs")
        return
    blocks.table_with_download(
        blocks.seconds_columns(frame.drop(columns=["finished"])),
        filters,
        name="commands",
        column_config={
            "command": st.column_config.TextColumn("Command"),
            "traces": blocks.count_column("Runs"),
            "errors": blocks.count_column("Errors"),
            "error_rate": blocks.percent_column("Error rate"),
            "median_duration_s": blocks.seconds_column("Median duration"),
        },
    )


def run_statistics(load: Load, filters: Filters, version: int) -> None:
    stats = load(queries.run_statistics)
    st.subheader("Run statistics")
    st.caption(
        "Runs started in the period. Completion and timeout rates are of finished runs; tool "
        "calls and tokens (input + output) are those started in the period, per run."
    )
    cards = (
        ("Runs", fmt.count(stats.traces)),
        ("Average duration", fmt.duration(_seconds(stats.average_duration_ms))),
        ("Completion rate", fmt.percent(stats.completion_rate)),
        ("Timeout rate", fmt.percent(stats.timeout_rate)),
        ("Tool calls per run", _decimal(stats.tool_calls_per_run)),
        ("Tokens per run", _decimal(stats.tokens_per_run, 0)),
    )
    for column, (label, value) in zip(st.columns(len(cards)), cards, strict=True):
        column.metric(label, value, border=True)
    if not stats.traces:
        blocks.empty_note(filters, version, "runs")


def agent_runs(load: Load, filters: Filters, version: int) -> None:
    st.subheader("Agent runs")
    st.caption(
        "Per agent: runs, response time (mean and p95 of finished runs), tokens and cost of "
        "its LLM calls, success rate = ok ÷ finished runs, cost per conversation = cost ÷ "
        "sessions."
    )
    frame = load(queries.agent_runs)
    if frame.empty:
        blocks.empty_note(filters, version, "agent runs")
        return
    blocks.table_with_download(
        blocks.seconds_columns(frame),
        filters,
        name="agent-runs",
        column_config={
            "agent": st.column_config.TextColumn("Agent"),
            "runs": blocks.count_column("Runs"),
            "avg_response_s": blocks.seconds_column("Avg response"),
            "p95_response_s": blocks.seconds_column("p95 response"),
            "tokens": blocks.count_column("Tokens"),
            "success_rate": blocks.percent_column("Success rate"),
            "sessions": blocks.count_column("Sessions"),
            "cost_usd": blocks.dollar_column("Cost"),
            "cost_per_conversation": blocks.dollar_column("Cost per conversation"),
        },
    )
    trace_links("agent", frame["agent"].tolist())


def tool_runs(load: Load, filters: Filters, version: int) -> None:
    st.subheader("Tool runs")
    st.caption(
        "Tool calls started in the period, per tool type and tool; a tool that failed inside "
        "a run that still answered counts here. Success rate = calls not ERROR ÷ calls."
    )
    frame = load(queries.tool_runs)
    if frame.empty:
        blocks.empty_note(filters, version, "tool calls")
        return
    blocks.table_with_download(
        blocks.seconds_columns(frame),
        filters,
        name="tool-runs",
        column_config={
            "tool_type": st.column_config.TextColumn("Tool type"),
            "tool": st.column_config.TextColumn("Tool"),
            "runs": blocks.count_column("Runs"),
            "errors": blocks.count_column("Errors"),
            "avg_time_s": blocks.seconds_column("Avg time"),
            "success_rate": blocks.percent_column("Success rate"),
        },
    )


def model_runs(load: Load, filters: Filters, version: int) -> None:
    frame = load(queries.model_runs)
    st.subheader("Model runs")
    st.caption(
        "LLM calls (generations and embeddings) started in the period, per model: "
        "invocations, mean latency, tokens (input + output) and cost."
    )
    if frame.empty:
        blocks.empty_note(filters, version, "LLM calls")
        return
    shown = blocks.seconds_columns(frame)
    blocks.table_with_download(
        shown[["model", "provider", "calls", "avg_latency_s", "tokens", "cost_usd"]],
        filters,
        name="model-runs",
        column_config={
            "model": st.column_config.TextColumn("Model"),
            "provider": st.column_config.TextColumn("Provider"),
            "calls": blocks.count_column("Invocations"),
            "avg_latency_s": blocks.seconds_column("Avg latency"),
            "tokens": blocks.count_column("Tokens"),
            "cost_usd": blocks.dollar_column("Cost"),
        },
    )
    trace_links("model", frame["model"].tolist())
    unpriced = int(frame["unpriced_calls"].sum())
    if unpriced:
        st.warning(
            f"{fmt.count(unpriced)} of {fmt.count(int(frame['calls'].sum()))} calls have no "
            "known price, so their cost is counted as 0. An admin can add prices.",
            icon=":material/warning:",
        )
    st.subheader("Upstream efficiency")
    st.caption(
        "Per provider and model: error rate = calls with status ERROR ÷ calls; latency p50/p95 "
        "(linear interpolation); output tokens per second = output tokens ÷ summed call "
        "durations of calls that ended; cache hit ratio = cache-read ÷ input tokens."
    )
    blocks.table_with_download(
        shown[UPSTREAM_COLUMNS],
        filters,
        name="upstream-efficiency",
        column_config={
            "provider": st.column_config.TextColumn("Provider"),
            "model": st.column_config.TextColumn("Model"),
            "calls": blocks.count_column("Calls"),
            "error_rate": blocks.percent_column("Error rate"),
            "p50_latency_s": blocks.seconds_column("p50 latency"),
            "p95_latency_s": blocks.seconds_column("p95 latency"),
            "output_tokens_per_second": st.column_config.NumberColumn(
                "Output tokens/s", format="%.1f"
            ),
            "cache_hit_ratio": blocks.percent_column("Cache hit ratio"),
        },
    )


def peak_usage(load: Load, filters: Filters, version: int) -> None:
    st.subheader("Peak usage")
    st.caption(
        "Runs started in the period and their tokens (input + output of their LLM calls, "
        "placed at the run's start) per UTC weekday and hour of day."
    )
    peaks = load(queries.peak_usage)
    if not peaks["traces"].any() and not peaks["tokens"].any():
        blocks.empty_note(filters, version, "runs or LLM calls")
        return
    left, right = st.columns(2)
    left.altair_chart(heatmap(peaks, "traces", "Runs"), width="stretch")
    right.altair_chart(heatmap(peaks, "tokens", "Tokens"), width="stretch")


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


def _seconds(milliseconds: float | None) -> float | None:
    return None if milliseconds is None else milliseconds / 1000


def _decimal(value: float | None, decimals: int = 2) -> str:
    return fmt.MISSING if value is None else f"{value:,.{decimals}f}"
