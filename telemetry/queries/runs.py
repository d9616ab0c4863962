"""Runs of the Analytics page (docs/metrics.md, "Activity and quality"): run statistics, commands,
and the agent, tool and model tables (upstream efficiency included).

Durations are taken as whole microseconds (end − start) so that sums and
percentiles are exact and identical on SQLite and PostgreSQL; they are shown in
milliseconds. Means divide those integer sums in Python. Percentiles follow
:mod:`telemetry.queries.percentiles` (linear interpolation, numpy's default).

Counts, sums and means are read from the daily rollups (``trace_daily``,
``llm_daily``, ``tool_daily``, ``command_daily``, ``session_daily``; see
:mod:`telemetry.rollups`). Only percentiles (medians, p95) read the traces and
LLM calls themselves: they need every value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, func, select

from telemetry.filters import Filters
from telemetry.models import (
    CommandDaily,
    CostSource,
    LlmDaily,
    SessionDaily,
    ToolDaily,
    Trace,
    TraceDaily,
    TraceStatus,
)
from telemetry.queries.activity import NO_AGENT
from telemetry.queries.costs import usage_totals_in
from telemetry.queries.daily import total, total_cost, total_duration, total_if
from telemetry.queries.observations import (
    llm_call_durations,
    trace_duration_us,
)
from telemetry.queries.percentiles import (
    P50,
    P95,
    grouped_percentiles,
    interpolate,
    sorted_values_by_group,
)
from telemetry.queries.rollup_scope import rollup_rows, rollup_where
from telemetry.queries.scope import (
    Scope,
    cost_key,
    ratio,
    resolve_scope,
    trace_where,
)

NO_NAME = "(no name)"
NO_TOOL = "(no tool name)"
US_PER_MS = 1000


def _with_status(rows, status: TraceStatus):
    """How many traces of ``rows`` (a trace rollup) have ``status``."""
    return total_if(rows.status == str(status), rows.traces)


def _mean_ms(total_us: int, count: int) -> float | None:
    return total_us / count / US_PER_MS if count else None


def _ms(value_us: float | None) -> float | None:
    return None if value_us is None else value_us / US_PER_MS


@dataclass(frozen=True)
class RunStatistics:
    """How the period's runs went.

    ``traces`` = runs started in the period; ``average_duration_ms`` = mean
    duration of the finished ones (``None`` when none finished);
    ``completion_rate`` = ok ÷ finished, ``timeout_rate`` = timeouts ÷ finished;
    ``tool_calls`` = tool-call observations started in the period and
    ``tool_calls_per_run`` = tool_calls ÷ traces; ``tokens`` = input + output
    tokens of the period's LLM calls and ``tokens_per_run`` = tokens ÷ traces
    (both ``None`` when there is no run).
    """

    traces: int
    finished: int
    average_duration_ms: float | None
    completion_rate: float | None
    timeout_rate: float | None
    tool_calls: int
    tool_calls_per_run: float | None
    tokens: int
    tokens_per_run: float | None


def run_statistics(engine: Engine, filters: Filters) -> RunStatistics:
    """The :class:`RunStatistics` of ``filters``."""
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        traces = rollup_rows(scope, TraceDaily)
        row = conn.execute(
            select(
                total(traces.traces),
                _with_status(traces, TraceStatus.RUNNING),
                _with_status(traces, TraceStatus.OK),
                _with_status(traces, TraceStatus.TIMEOUT),
                total(traces.timed_traces),
                total_duration(traces.duration_us_sum),
            ).where(rollup_where(scope, traces))
        ).one()
        usage = usage_totals_in(conn, scope)
        tools = rollup_rows(scope, ToolDaily)
        tool_calls = conn.execute(
            select(total(tools.calls)).where(rollup_where(scope, tools))
        ).scalar_one()
    traces, running, ok, timeouts, timed, total_us = (int(value) for value in row)
    finished = traces - running
    return RunStatistics(
        traces=traces,
        finished=finished,
        average_duration_ms=_mean_ms(total_us, timed),
        completion_rate=ratio(ok, finished),
        timeout_rate=ratio(timeouts, finished),
        tool_calls=int(tool_calls),
        tool_calls_per_run=ratio(int(tool_calls), traces),
        tokens=usage.tokens,
        tokens_per_run=ratio(usage.tokens, traces),
    )


COMMAND_COLUMNS = ["command", "traces", "finished", "errors", "error_rate", "median_duration_ms"]


def commands(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Traces by name (the command or intent): ``DataFrame[COMMAND_COLUMNS]``.

    ``error_rate`` = errors ÷ finished traces of that name; ``median_duration_ms``
    = median duration of its finished traces. Unnamed traces show as ``"(no
    name)"``. Most used first, then by name.
    """
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        daily = rollup_rows(scope, CommandDaily)
        rows = conn.execute(
            select(
                daily.name,
                total(daily.traces),
                _with_status(daily, TraceStatus.RUNNING),
                _with_status(daily, TraceStatus.ERROR),
            )
            .where(rollup_where(scope, daily))
            .group_by(daily.name)
        ).all()
        durations = select(Trace.name.label("name"), trace_duration_us().label("us")).where(
            trace_where(scope)
        )
        medians = grouped_percentiles(conn, durations, 1, (P50,))
    records = []
    for name, traces, running, errors in rows:
        finished = int(traces) - int(running)
        median = medians.get((name,), {}).get(P50)
        error_rate = ratio(int(errors), finished)
        records.append(
            (name or NO_NAME, int(traces), finished, int(errors), error_rate, _ms(median))
        )
    records.sort(key=lambda r: (-r[1], r[0]))
    return pd.DataFrame(records, columns=COMMAND_COLUMNS)


AGENT_COLUMNS = [
    "agent",
    "runs",
    "avg_response_ms",
    "p95_response_ms",
    "tokens",
    "success_rate",
    "sessions",
    "cost_usd",
    "cost_per_conversation",
]


def agent_runs(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Runs per agent: ``DataFrame[AGENT_COLUMNS]``.

    From the period's traces, by the trace's agent: ``runs``, mean and p95
    response time (duration of finished traces), ``success_rate`` = ok ÷
    finished, ``sessions`` = distinct session ids. From the period's LLM calls,
    by the call's agent: ``tokens`` (input + output) and ``cost_usd``.
    ``cost_per_conversation`` = cost ÷ sessions (``None`` without sessions).
    Traces with no agent show as ``"(no agent)"``. Most runs first, then cost.
    """
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        return _agent_runs(conn, scope)


def _agent_runs(conn: Connection, scope: Scope) -> pd.DataFrame:
    traces = rollup_rows(scope, TraceDaily)
    runs = conn.execute(
        select(
            traces.agent,
            total(traces.traces),
            _with_status(traces, TraceStatus.RUNNING),
            _with_status(traces, TraceStatus.OK),
            total(traces.timed_traces),
            total_duration(traces.duration_us_sum),
        )
        .where(rollup_where(scope, traces))
        .group_by(traces.agent)
    ).all()
    # The session is a key of session_daily, so its distinct values per agent are exact.
    per_session = rollup_rows(scope, SessionDaily)
    sessions = dict(
        conn.execute(
            select(per_session.agent, func.count(func.distinct(per_session.session_id)))
            .where(rollup_where(scope, per_session))
            .group_by(per_session.agent)
        ).all()
    )
    calls = rollup_rows(scope, LlmDaily)
    usage = conn.execute(
        select(
            calls.agent,
            total(calls.input_tokens) + total(calls.output_tokens),
            total_cost(calls.cost_usd),
        )
        .where(rollup_where(scope, calls))
        .group_by(calls.agent)
    ).all()
    durations = sorted_values_by_group(
        conn, select(Trace.agent, trace_duration_us()).where(trace_where(scope)), 1
    )
    by_agent: dict[str, dict] = {}
    for agent, traces, running, ok, timed, total_us in runs:
        ranked = durations.get((agent,), np.zeros(0, dtype=np.int64))
        by_agent[agent] = {
            "runs": int(traces),
            "avg_response_ms": _mean_ms(int(total_us), int(timed)),
            "p95_response_ms": _ms(interpolate(ranked, len(ranked), P95)),
            "success_rate": ratio(int(ok), int(traces) - int(running)),
            "sessions": int(sessions.get(agent, 0)),
        }
    spent = {agent: (int(tokens), float(cost)) for agent, tokens, cost in usage}
    records = []
    for agent in set(by_agent) | set(spent):
        values = {"runs": 0, "avg_response_ms": None, "p95_response_ms": None}
        values |= {"success_rate": None, "sessions": 0, **by_agent.get(agent, {})}
        tokens, cost = spent.get(agent, (0, 0.0))
        records.append(
            {
                "agent": agent or NO_AGENT,
                **values,
                "tokens": tokens,
                "cost_usd": cost,
                "cost_per_conversation": cost / values["sessions"] if values["sessions"] else None,
            }
        )
    records.sort(key=lambda r: (-r["runs"], -cost_key(r["cost_usd"]), r["agent"]))
    return pd.DataFrame(records, columns=AGENT_COLUMNS)


TOOL_COLUMNS = ["tool_type", "tool", "runs", "errors", "avg_time_ms", "success_rate"]


def tool_runs(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Tool calls per tool type and tool: ``DataFrame[TOOL_COLUMNS]``.

    Tool-call observations started in the period (a tool that failed inside a
    trace that still answered counts here, not as a trace error). ``errors`` =
    calls with status ERROR; ``success_rate`` = calls not ERROR ÷ calls;
    ``avg_time_ms`` = mean duration of the calls that ended. Most runs first.
    """
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        tools = rollup_rows(scope, ToolDaily)
        rows = conn.execute(
            select(
                tools.tool_type,
                tools.tool_name,
                total(tools.calls),
                total(tools.errors),
                total(tools.timed_calls),
                total_duration(tools.duration_us_sum),
            )
            .where(rollup_where(scope, tools))
            .group_by(tools.tool_type, tools.tool_name)
        ).all()
    records = [
        (
            tool_type,
            tool or NO_TOOL,
            int(calls),
            int(errors),
            _mean_ms(int(total_us), int(timed)),
            ratio(int(calls) - int(errors), int(calls)),
        )
        for tool_type, tool, calls, errors, timed, total_us in rows
    ]
    records.sort(key=lambda r: (-r[2], r[0], r[1]))
    return pd.DataFrame(records, columns=TOOL_COLUMNS)


MODEL_COLUMNS = [
    "provider",
    "model",
    "calls",
    "errors",
    "error_rate",
    "avg_latency_ms",
    "p50_latency_ms",
    "p95_latency_ms",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "tokens",
    "output_tokens_per_second",
    "cache_hit_ratio",
    "cost_usd",
    "unpriced_calls",
]


def model_runs(engine: Engine, filters: Filters) -> pd.DataFrame:
    """LLM calls per provider and model and their upstream efficiency: ``DataFrame[MODEL_COLUMNS]``.

    The period's LLM calls (generations and embeddings, by their own start).
    ``error_rate`` = calls with status ERROR ÷ calls. Latency = call duration
    (mean, p50, p95) over calls that ended. ``tokens`` = input + output.
    ``output_tokens_per_second`` = output tokens of the calls that ended ÷ the
    sum of their durations in seconds (``None`` when that is 0): throughput seen
    from the caller, queueing and time to first token included.
    ``cache_hit_ratio`` = cache read ÷ input tokens (input includes cached
    ones). ``unpriced_calls`` = calls with no known price. By cost, then calls.
    """
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        calls = rollup_rows(scope, LlmDaily)
        rows = conn.execute(
            select(
                calls.provider,
                calls.model,
                total(calls.calls),
                total(calls.errors),
                total(calls.timed_calls),
                total_duration(calls.duration_us_sum),
                total(calls.input_tokens),
                total(calls.output_tokens),
                total(calls.cache_read_tokens),
                total(calls.timed_output_tokens),
                total_cost(calls.cost_usd),
                total_if(calls.cost_source == str(CostSource.UNPRICED), calls.calls),
            )
            .where(rollup_where(scope, calls))
            .group_by(calls.provider, calls.model)
        ).all()
        percentiles = grouped_percentiles(conn, llm_call_durations(scope), 2, (P50, P95))
    records = [_model_record(row, percentiles.get((row[0], row[1]), {})) for row in rows]
    records.sort(key=lambda r: (-cost_key(r["cost_usd"]), -r["calls"], r["provider"], r["model"]))
    return pd.DataFrame(records, columns=MODEL_COLUMNS)


def _model_record(row, percentiles: dict) -> dict:
    provider, model, calls, errors, timed, total_us = row[:6]
    input_tokens, output_tokens, cache_read, ended_output, cost, unpriced = row[6:]
    seconds = int(total_us) / 1_000_000
    return {
        "provider": provider,
        "model": model,
        "calls": int(calls),
        "errors": int(errors),
        "error_rate": ratio(int(errors), int(calls)),
        "avg_latency_ms": _mean_ms(int(total_us), int(timed)),
        "p50_latency_ms": _ms(percentiles.get(P50)),
        "p95_latency_ms": _ms(percentiles.get(P95)),
        "input_tokens": int(input_tokens),
        "output_tokens": int(output_tokens),
        "cache_read_tokens": int(cache_read),
        "tokens": int(input_tokens) + int(output_tokens),
        "output_tokens_per_second": int(ended_output) / seconds if seconds else None,
        "cache_hit_ratio": ratio(int(cache_read), int(input_tokens)),
        "cost_usd": float(cost),
        "unpriced_calls": int(unpriced),
    }
