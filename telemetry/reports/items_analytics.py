"""The Analytics module's report items: trends, run statistics, commands, agents, tools, models,
upstream efficiency, peak usage, generated code and task outcomes.

The audit trail is left out: it is about dashboard accounts, not telemetry, and
who may read which events depends on the viewer (see ``ui/analytics_audit.py``).
"""

from __future__ import annotations

import altair as alt
from sqlalchemy import Engine

from telemetry import format as fmt
from telemetry import kpi_text, queries
from telemetry.charts.analytics import comparison_chart, heatmap
from telemetry.reports import cells, shared
from telemetry.reports.items_common import Build, table_item
from telemetry.reports.model import (
    EXACT,
    Block,
    ChartBlock,
    Fidelity,
    ItemSpec,
    KpiBlock,
    ReportRequest,
)

MODULE = "analytics"
TITLE = "Analytics"
TREND_COLUMNS = 3


def trend_figures(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    """The Trends tab's cards: the period's totals beside the previous period's."""
    filters = request.filters
    previous = fmt.day_span(filters.previous())
    lines = tuple(
        cells.line(
            kpi.label,
            fmt.figure_text(kpi.value, kpi.unit),
            help=kpi_text.help_text(kpi, previous),
            change=kpi_text.change_text(kpi),
        )
        for kpi in shared.query(queries.trends, engine, filters).kpis
    )
    return KpiBlock(lines), EXACT


def trend_charts(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    filters = request.filters
    timeline = shared.query(queries.trends, engine, filters).timeline
    charts = [
        comparison_chart(timeline, key, label, unit, filters.grouping, filters.previous_offset_us)
        for key, label, unit in queries.TREND_KEYS
    ]
    caption = (
        f"Per {filters.grouping.value} (UTC): this period as a solid line, the previous "
        f"period ({fmt.day_span(filters.previous())}) dashed, shifted forward onto the same axis."
    )
    return ChartBlock(alt.concat(*charts, columns=TREND_COLUMNS).to_dict(), caption), EXACT


def run_statistics(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    stats = shared.query(queries.run_statistics, engine, request.filters)
    average = None if stats.average_duration_ms is None else stats.average_duration_ms / 1000
    lines = (
        cells.line("Runs", fmt.count(stats.traces), "Runs started in the period."),
        cells.line("Average duration", fmt.duration(average), "Mean of the finished runs."),
        cells.line("Completion rate", fmt.percent(stats.completion_rate), "ok ÷ finished runs."),
        cells.line("Timeout rate", fmt.percent(stats.timeout_rate), "Timeouts ÷ finished runs."),
        cells.line(
            "Tool calls per run", cells.decimal(stats.tool_calls_per_run, 2), "Tool calls ÷ runs."
        ),
        cells.line(
            "Tokens per run",
            cells.decimal(stats.tokens_per_run, 0),
            "Input + output tokens of the period's LLM calls ÷ runs.",
        ),
    )
    return KpiBlock(lines), EXACT


commands = table_item(
    "commands",
    {
        "command": ("Command", cells.text),
        "traces": ("Runs", cells.count),
        "errors": ("Errors", cells.count),
        "error_rate": ("Error rate", cells.percent),
        "median_duration_ms": ("Median duration", cells.seconds_from_ms),
    },
    caption="Runs by name (the root span: a command or intent), most used first; error "
    "rate = errors ÷ finished runs; median duration of finished runs.",
)


agent_runs = table_item(
    "agent_runs",
    {
        "agent": ("Agent", cells.text),
        "runs": ("Runs", cells.count),
        "avg_response_ms": ("Avg response", cells.seconds_from_ms),
        "p95_response_ms": ("p95 response", cells.seconds_from_ms),
        "tokens": ("Tokens", cells.count),
        "success_rate": ("Success rate", cells.percent),
        "sessions": ("Sessions", cells.count),
        "cost_usd": ("Cost", cells.dollars),
        "cost_per_conversation": ("Cost per conversation", cells.dollars),
    },
    caption="Per agent: runs, response time (mean and p95 of finished runs), tokens and "
    "cost of its LLM calls, success rate = ok ÷ finished runs, cost per conversation = "
    "cost ÷ sessions.",
)


tool_runs = table_item(
    "tool_runs",
    {
        "tool_type": ("Tool type", cells.text),
        "tool": ("Tool", cells.text),
        "runs": ("Runs", cells.count),
        "errors": ("Errors", cells.count),
        "avg_time_ms": ("Avg time", cells.seconds_from_ms),
        "success_rate": ("Success rate", cells.percent),
    },
    caption="Tool calls started in the period, per tool type and tool. Success rate = "
    "calls not ERROR ÷ calls.",
)


def model_runs(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    frame = shared.query(queries.model_runs, engine, request.filters)
    unpriced = int(frame["unpriced_calls"].sum())
    note = (
        f" {fmt.count(unpriced)} of {fmt.count(int(frame['calls'].sum()))} calls have no known "
        "price, so their cost is counted as 0."
        if unpriced
        else ""
    )
    block = cells.table(
        frame,
        {
            "model": ("Model", cells.text),
            "provider": ("Provider", cells.text),
            "calls": ("Invocations", cells.count),
            "avg_latency_ms": ("Avg latency", cells.seconds_from_ms),
            "tokens": ("Tokens", cells.count),
            "cost_usd": ("Cost", cells.dollars),
        },
        caption="LLM calls (generations and embeddings) started in the period, per model: "
        "invocations, mean latency, tokens (input + output) and cost." + note,
    )
    return block, EXACT


upstream = table_item(
    "model_runs",
    {
        "provider": ("Provider", cells.text),
        "model": ("Model", cells.text),
        "calls": ("Calls", cells.count),
        "error_rate": ("Error rate", cells.percent),
        "p50_latency_ms": ("p50 latency", cells.seconds_from_ms),
        "p95_latency_ms": ("p95 latency", cells.seconds_from_ms),
        "output_tokens_per_second": ("Output tokens/s", cells.decimal),
        "cache_hit_ratio": ("Cache hit ratio", cells.percent),
    },
    caption="Per provider and model: error rate = calls with status ERROR ÷ calls; latency "
    "p50/p95; output tokens per second = output tokens ÷ summed call durations of calls "
    "that ended; cache hit ratio = cache-read ÷ input tokens.",
)


# Tokens are placed at their run's start (telemetry/queries/peaks.py), not each call's own.
PEAK_FIDELITY = Fidelity(
    "tokens are placed at the start hour of their run, so an LLM call just across the "
    "period's edge counts with its run"
)


def peak_usage(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    peaks = shared.query(queries.peak_usage, engine, request.filters)
    chart = alt.hconcat(heatmap(peaks, "traces", "Runs"), heatmap(peaks, "tokens", "Tokens"))
    caption = (
        "Runs started in the period and their tokens (input + output of their LLM calls, "
        "placed at the run's start) per UTC weekday and hour of day."
    )
    return ChartBlock(chart.to_dict(), caption), PEAK_FIDELITY


_OUTCOME_COLUMNS = {
    "traces_with_code": ("Runs reporting code", cells.count),
    "lines_added": ("Lines added", cells.count),
    "lines_removed": ("Lines removed", cells.count),
    "lines_changed": ("Lines changed", cells.count),
    "traces_with_outcome": ("Runs with an outcome", cells.count),
    "clean": ("Clean", cells.count),
    "revised": ("Revised", cells.count),
    "regression": ("Regression", cells.count),
    "other_outcome": ("Other outcome", cells.count),
}
_OUTCOME_CAPTION = (
    "Only runs whose agents report them (code.lines_added / code.lines_removed, task.outcome). "
    "Lines changed = lines added + removed; outcomes count runs whose task.outcome is clean, "
    "revised or regression (other values apart)."
)


def _code_and_outcomes(by: str) -> Build:
    columns = {by: (by.title(), cells.text), **_OUTCOME_COLUMNS}
    return table_item("code_and_outcomes", columns, _OUTCOME_CAPTION, by=by)


def _spec(key: str, title: str, kind: str, build, description: str) -> ItemSpec:
    return ItemSpec(f"{MODULE}.{key}", MODULE, title, kind, build, description)


ITEMS = (
    _spec(
        "trends",
        "Trends",
        "kpis",
        trend_figures,
        "Runs, users, errors, tokens, session time (median, p90) against the previous period.",
    ),
    _spec(
        "trend_charts",
        "Against the previous period",
        "chart",
        trend_charts,
        "Each trend figure per time bucket, this period and the previous one.",
    ),
    _spec(
        "run_statistics",
        "Run statistics",
        "kpis",
        run_statistics,
        "Runs, duration, completion, timeouts, tool calls and tokens per run.",
    ),
    _spec("commands", "Commands", "table", commands, "Runs by command or intent."),
    _spec("agent_runs", "Agent runs", "table", agent_runs, "Runs, response time, cost per agent."),
    _spec("tool_runs", "Tool runs", "table", tool_runs, "Tool calls and success per tool."),
    _spec("model_runs", "Model runs", "table", model_runs, "LLM calls, latency, cost per model."),
    _spec(
        "upstream",
        "Upstream efficiency",
        "table",
        upstream,
        "Error rate, latency, throughput and cache hits per provider and model.",
    ),
    _spec("peak_usage", "Peak usage", "chart", peak_usage, "Runs and tokens by weekday × hour."),
    _spec(
        "code_by_agent",
        "Generated code and task outcomes by agent",
        "table",
        _code_and_outcomes("agent"),
        "Lines changed and task outcomes, per agent.",
    ),
    _spec(
        "code_by_team",
        "Generated code and task outcomes by team",
        "table",
        _code_and_outcomes("team"),
        "Lines changed and task outcomes, per team.",
    ),
)
