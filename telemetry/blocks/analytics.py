"""The Analytics blocks: trends, run statistics, commands, agents, tools, models, upstream
efficiency, peak usage, generated code and task outcomes.

The audit trail is not a block: it is about dashboard accounts, not telemetry, and who
may read which events depends on the viewer (see ``ui/analytics_audit.py``).
"""

from __future__ import annotations

from telemetry import format as fmt
from telemetry.blocks.common import decimal, kpi_figure
from telemetry.blocks.formats import COUNT, MILLISECONDS, RATIO, USD, USD_FINE, number
from telemetry.blocks.model import BlockSpec, Column, Fidelity, Figure, Source
from telemetry.charts.analytics import comparison_chart, heatmap
from telemetry.queries import TREND_KEYS, RunStatistics, Trends

TITLE = "Analytics"
TREND_COLUMNS = 3
# Where "up" is bad, or neither good nor bad, the change is coloured so.
TONES = {
    "errors": "inverse",
    "error_rate": "inverse",
    "timeouts": "inverse",
    "input_tokens": "off",
    "output_tokens": "off",
    "cache_read_tokens": "off",
    "session_time_median_s": "off",
    "session_time_p90_s": "off",
}
# Tokens are placed at their run's start (telemetry/queries/peaks.py), not each call's own.
PEAK_FIDELITY = Fidelity(
    "tokens are placed at the start hour of their run, so an LLM call just across the "
    "period's edge counts with its run"
)


def _previous(source: Source) -> str:
    return fmt.day_span(source.filters.previous())


def _trend_figures(source: Source, found: Trends) -> tuple[Figure, ...]:
    return tuple(
        kpi_figure(kpi, _previous(source), tone=TONES.get(kpi.key, "normal"), text=fmt.figure_text)
        for kpi in found.kpis
    )


def _trends_caption(source: Source, found: Trends) -> str:
    return (
        f"Totals of the period; each card compares with the previous period ({_previous(source)}; "
        '"new" when it holds no data). Runs and errors count traces by their start, tokens count '
        "LLM calls by their own start, session time = latest end − earliest start of a "
        "session's runs, as median and p90 (the mean, which a few long sessions dominate, is in "
        "the cards' help)."
    )


def _trend_panels(source: Source, found: Trends) -> list:
    filters = source.filters
    return [
        comparison_chart(
            found.timeline, key, label, unit, filters.grouping, filters.previous_offset_us
        )
        for key, label, unit in TREND_KEYS
    ]


def _run_figures(source: Source, stats: RunStatistics) -> tuple[Figure, ...]:
    average = None if stats.average_duration_ms is None else stats.average_duration_ms / 1000
    return (
        Figure("traces", "Runs", fmt.count(stats.traces), "Runs started in the period."),
        Figure(
            "average_duration",
            "Average duration",
            fmt.duration(average),
            "Average duration = mean duration of the finished runs.",
            short="Avg duration",  # six cards to a row: the full label would be cut
        ),
        Figure(
            "completion_rate",
            "Completion rate",
            fmt.percent(stats.completion_rate),
            "Completion rate = runs with status ok ÷ finished runs.",
        ),
        Figure(
            "timeout_rate",
            "Timeout rate",
            fmt.percent(stats.timeout_rate),
            "Timeout rate = runs that timed out ÷ finished runs.",
        ),
        Figure(
            "tool_calls_per_run",
            "Tool calls per run",
            decimal(stats.tool_calls_per_run, 2),
            f"Tool calls per run = tool calls started in the period ({stats.tool_calls:,}) ÷ "
            f"runs ({stats.traces:,}).",
            short="Tool calls/run",
        ),
        Figure(
            "tokens_per_run",
            "Tokens per run",
            decimal(stats.tokens_per_run, 0),
            f"Tokens per run = input + output tokens of the period's LLM calls "
            f"({stats.tokens:,}) ÷ runs ({stats.traces:,}).",
        ),
    )


def _model_runs_caption(source: Source, frame) -> str:
    unpriced = int(frame["unpriced_calls"].sum())
    note = (
        f" {fmt.count(unpriced)} of {fmt.count(int(frame['calls'].sum()))} calls have no known "
        "price, so their cost is counted as 0."
        if unpriced
        else ""
    )
    return (
        "LLM calls (generations and embeddings) started in the period, per model: invocations, "
        "mean latency, tokens (input + output) and cost." + note
    )


TRENDS = BlockSpec(
    "analytics.trends",
    "Trends",
    "kpis",
    "Runs, users, errors, tokens, session time (median, p90) against the previous period.",
    query="trends",
    caption=_trends_caption,
    figures=_trend_figures,
    card_rows=(4, 4, 3),
)
TREND_CHARTS = BlockSpec(
    "analytics.trend_charts",
    "Against the previous period",
    "chart",
    "Each trend figure per time bucket, this period and the previous one.",
    query="trends",
    caption=lambda source, found: (
        f"Per {source.filters.grouping.value} (UTC): this period as a solid line, the previous "
        f"period ({_previous(source)}) dashed, shifted forward onto the same axis."
    ),
    chart=_trend_panels,
    panel_columns=TREND_COLUMNS,
)
RUN_STATISTICS = BlockSpec(
    "analytics.run_statistics",
    "Run statistics",
    "kpis",
    "Runs, duration, completion, timeouts, tool calls and tokens per run.",
    query="run_statistics",
    caption=lambda source, stats: (
        "Runs started in the period. Completion and timeout rates are of finished runs; tool "
        "calls and tokens (input + output) are those started in the period, per run."
    ),
    figures=_run_figures,
)
COMMANDS = BlockSpec(
    "analytics.commands",
    "Commands",
    "table",
    "Runs by command or intent.",
    query="commands",
    caption=lambda source, frame: (
        "Runs by name (the root span: a command or intent), most used first; error rate = "
        "errors ÷ finished runs; median duration of finished runs."
    ),
    columns=(
        Column("command", "Command", key=True),
        Column("traces", "Runs", COUNT),
        Column("errors", "Errors", COUNT, key=True),
        Column("error_rate", "Error rate", RATIO),
        Column("median_duration_ms", "Median duration", MILLISECONDS),
    ),
)
AGENT_RUNS = BlockSpec(
    "analytics.agent_runs",
    "Agent runs",
    "table",
    "Runs, response time, cost per agent.",
    query="agent_runs",
    caption=lambda source, frame: (
        "Per agent: runs, response time (mean and p95 of finished runs), tokens and cost of its "
        "LLM calls, success rate = ok ÷ finished runs, cost per conversation = cost ÷ sessions."
    ),
    columns=(
        Column("agent", "Agent", key=True),
        Column("runs", "Runs", COUNT),
        Column("success_rate", "Success rate", RATIO, key=True),
        Column("cost_usd", "Cost (USD)", USD, key=True),
        Column("cost_per_conversation", "Cost per conversation (USD)", USD_FINE),
        Column("avg_response_ms", "Avg response", MILLISECONDS),
        Column("p95_response_ms", "p95 response", MILLISECONDS),
        Column("tokens", "Tokens", COUNT),
        Column("sessions", "Sessions", COUNT),
    ),
)
TOOL_RUNS = BlockSpec(
    "analytics.tool_runs",
    "Tool runs",
    "table",
    "Tool calls and success per tool.",
    query="tool_runs",
    caption=lambda source, frame: (
        "Tool calls started in the period, per tool type and tool; a tool that failed inside a "
        "run that still answered counts here. Success rate = calls not ERROR ÷ calls."
    ),
    columns=(
        Column("tool", "Tool", key=True),
        Column("tool_type", "Tool type"),
        Column("runs", "Runs", COUNT),
        Column("errors", "Errors", COUNT, key=True),
        Column("success_rate", "Success rate", RATIO),
        Column("avg_time_ms", "Avg time", MILLISECONDS),
    ),
)
MODEL_RUNS = BlockSpec(
    "analytics.model_runs",
    "Model runs",
    "table",
    "LLM calls, latency, cost per model.",
    query="model_runs",
    caption=_model_runs_caption,
    columns=(
        Column("model", "Model", key=True),
        Column("provider", "Provider"),
        Column("calls", "Invocations", COUNT),
        Column("cost_usd", "Cost (USD)", USD, key=True),
        Column("avg_latency_ms", "Avg latency", MILLISECONDS),
        Column("tokens", "Tokens", COUNT),
    ),
)
UPSTREAM = BlockSpec(
    "analytics.upstream",
    "Upstream efficiency",
    "table",
    "Error rate, latency, throughput and cache hits per provider and model.",
    query="model_runs",
    caption=lambda source, frame: (
        "Per provider and model: error rate = calls with status ERROR ÷ calls; latency p50/p95 "
        "(linear interpolation); output tokens per second = output tokens ÷ summed call "
        "durations of calls that ended; cache hit ratio = cache-read ÷ input tokens."
    ),
    columns=(
        Column("model", "Model", key=True),
        Column("provider", "Provider"),
        Column("calls", "Calls", COUNT),
        Column("error_rate", "Error rate", RATIO, key=True),
        Column("p50_latency_ms", "p50 latency", MILLISECONDS),
        Column("p95_latency_ms", "p95 latency", MILLISECONDS),
        Column("output_tokens_per_second", "Output tokens/s", number(1)),
        Column("cache_hit_ratio", "Cache hit ratio", RATIO),
    ),
)
PEAK_USAGE = BlockSpec(
    "analytics.peak_usage",
    "Peak usage",
    "chart",
    "Runs and tokens by weekday × hour.",
    query="peak_usage",
    caption=lambda source, peaks: (
        "Runs started in the period and their tokens (input + output of their LLM calls, "
        "placed at the run's start) per UTC weekday and hour of day."
    ),
    chart=lambda source, peaks: [
        heatmap(peaks, "traces", "Runs"),
        heatmap(peaks, "tokens", "Tokens"),
    ],
    panel_columns=2,
    fidelity=lambda source: PEAK_FIDELITY,
)

_OUTCOME_COLUMNS = (
    Column("lines_changed", "Lines changed", COUNT, key=True),
    Column("traces_with_code", "Runs reporting code", COUNT),
    Column("lines_added", "Lines added", COUNT),
    Column("lines_removed", "Lines removed", COUNT),
    Column("traces_with_outcome", "Runs with an outcome", COUNT),
    Column("clean", "Clean", COUNT),
    Column("revised", "Revised", COUNT),
    Column("regression", "Regression", COUNT, key=True),
    Column("other_outcome", "Other outcome", COUNT),
)


def _code_and_outcomes(by: str, caption: str) -> BlockSpec:
    return BlockSpec(
        f"analytics.code_by_{by}",
        f"Generated code and task outcomes by {by}",
        "table",
        f"Lines changed and task outcomes, per {by}.",
        query="code_and_outcomes",
        options={"by": by},
        caption=lambda source, frame: caption,
        columns=(Column(by, by.title(), key=True), *_OUTCOME_COLUMNS),
    )


CODE_BY_AGENT = _code_and_outcomes(
    "agent",
    "Per agent, the runs whose agent reports generated code (code.lines_added / "
    "code.lines_removed) or a task outcome (task.outcome). Lines changed = lines added + "
    "removed; outcomes count runs whose task.outcome is clean, revised or regression (other "
    "values apart).",
)
CODE_BY_TEAM = _code_and_outcomes(
    "team",
    "Per team, the same figures: runs reporting code, lines changed and task outcomes.",
)

BLOCKS = (TRENDS, TREND_CHARTS, RUN_STATISTICS, COMMANDS, AGENT_RUNS, TOOL_RUNS, MODEL_RUNS)
BLOCKS += (UPSTREAM, PEAK_USAGE, CODE_BY_AGENT, CODE_BY_TEAM)
