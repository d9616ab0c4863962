"""Activity and quality (docs/metrics.md): runs, outcomes, timeline, agents."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, Engine, func, select

from telemetry.filters import Filters
from telemetry.models import LlmDaily, Trace, TraceDaily, TraceStatus
from telemetry.queries.buckets import bucket_numbers, bucket_start
from telemetry.queries.daily import day_bucket, total, total_cost, total_if
from telemetry.queries.rollup_scope import daily_grouping, rollup_rows, rollup_where
from telemetry.queries.scope import (
    Scope,
    cost_key,
    ratio,
    resolve_scope,
    trace_bucket,
    trace_where,
)

NO_AGENT = "(no agent)"


@dataclass(frozen=True)
class RunTotals:
    """How the period's traces went (trace-based; see :mod:`telemetry.queries.scope`).

    ``sessions`` counts distinct non-empty session ids among the traces (a
    session with traces on two days of the period counts once);
    ``traces_without_session`` counts the traces that have none. ``finished`` =
    traces not ``running``; ``completion_rate`` = ok ÷ finished, ``error_rate``
    = errors ÷ finished, ``timeout_rate`` = timeouts ÷ finished, each ``None``
    when nothing finished.
    """

    traces: int
    sessions: int
    traces_without_session: int
    finished: int
    ok: int
    errors: int
    timeouts: int
    running: int
    completion_rate: float | None
    error_rate: float | None
    timeout_rate: float | None


def run_totals(engine: Engine, filters: Filters) -> RunTotals:
    """The :class:`RunTotals` of ``filters``.

    Counts come from the daily trace rollup, sessions from the trace cover index.
    """
    with engine.connect() as conn:
        return run_totals_in(conn, resolve_scope(conn, filters))


def _traces_with_status(rows, status: TraceStatus):
    return total_if(rows.status == str(status), rows.traces)


def run_totals_in(conn: Connection, scope: Scope) -> RunTotals:
    rows = rollup_rows(scope, TraceDaily)
    row = conn.execute(
        select(
            total(rows.traces),
            total(rows.traces_without_session),
            _traces_with_status(rows, TraceStatus.OK),
            _traces_with_status(rows, TraceStatus.ERROR),
            _traces_with_status(rows, TraceStatus.TIMEOUT),
            _traces_with_status(rows, TraceStatus.RUNNING),
        ).where(rollup_where(scope, rows))
    ).one()
    traces, without_session, ok, errors, timeouts, running = (int(v) for v in row)
    sessions = session_count_in(conn, scope) if traces > without_session else 0
    finished = traces - running
    return RunTotals(
        traces=traces,
        sessions=sessions,
        traces_without_session=without_session,
        finished=finished,
        ok=ok,
        errors=errors,
        timeouts=timeouts,
        running=running,
        completion_rate=ratio(ok, finished),
        error_rate=ratio(errors, finished),
        timeout_rate=ratio(timeouts, finished),
    )


def session_count_in(conn: Connection, scope: Scope) -> int:
    """Distinct session ids among the scope's traces.

    Read from the trace cover index, not a rollup: a session spans days, so
    per-day distinct counts would count it once per day.
    """
    query = select(func.count(func.distinct(Trace.session_id))).where(trace_where(scope))
    return int(conn.execute(query).scalar_one())


def trace_count_in(conn: Connection, scope: Scope) -> int:
    """The number of traces started in the scope (from the daily trace rollup)."""
    rows = rollup_rows(scope, TraceDaily)
    query = select(total(rows.traces)).where(rollup_where(scope, rows))
    return int(conn.execute(query).scalar_one())


def activity_timeline(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Traces and active users per time bucket: ``DataFrame[bucket, traces, users_active]``.

    One row per bucket of ``filters.grouping`` (hour, day, ISO week from Monday,
    month) covering the whole period, zero-filled, oldest first. ``bucket`` is
    the naive UTC start of the bucket (a week or month may start before the
    period does). ``users_active`` = distinct users with a trace in the bucket.
    """
    with engine.connect() as conn:
        return activity_timeline_in(conn, resolve_scope(conn, filters))


def activity_timeline_in(conn: Connection, scope: Scope) -> pd.DataFrame:
    grouping = scope.filters.grouping
    if not daily_grouping(scope):  # finer than the daily rollup: read the traces
        bucket = trace_bucket(grouping, scope.filters).label("bucket")
        query = select(bucket, func.count(), func.count(func.distinct(Trace.user_id))).where(
            trace_where(scope)
        )
    else:  # the user is a rollup key, so distinct users per bucket are exact
        rows = rollup_rows(scope, TraceDaily)
        bucket = day_bucket(rows.day, grouping, scope.filters).label("bucket")
        query = select(bucket, total(rows.traces), func.count(func.distinct(rows.user_id))).where(
            rollup_where(scope, rows)
        )
    rows = conn.execute(query.group_by("bucket")).all()
    found = {int(number): (int(traces), int(users)) for number, traces, users in rows}
    buckets = bucket_numbers(scope.filters)
    return pd.DataFrame(
        {
            "bucket": pd.to_datetime([bucket_start(grouping, n) for n in buckets]),
            "traces": [found.get(n, (0, 0))[0] for n in buckets],
            "users_active": [found.get(n, (0, 0))[1] for n in buckets],
        }
    )


def top_agents(engine: Engine, filters: Filters, limit: int = 10) -> pd.DataFrame:
    """The busiest agents: ``DataFrame[agent, traces, users_active, error_rate, cost_usd]``.

    ``traces``, ``users_active`` and ``error_rate`` (errors ÷ finished traces;
    missing, i.e. NaN in the frame, when none finished) come from the period's traces grouped by the
    trace's agent; ``cost_usd`` from the period's LLM calls grouped by the
    observation's agent (an LLM call counts in the period of its own start, so
    an agent can show cost with no trace started in the period). Traces with no
    agent are shown as ``"(no agent)"``. Sorted by traces, then cost, most
    first, then agent name; at most ``limit`` rows.
    """
    with engine.connect() as conn:
        return top_agents_in(conn, resolve_scope(conn, filters), limit=limit)


def top_agents_in(conn: Connection, scope: Scope, *, limit: int = 10) -> pd.DataFrame:
    traces = rollup_rows(scope, TraceDaily)
    runs = conn.execute(
        select(
            traces.agent,
            total(traces.traces),
            func.count(func.distinct(traces.user_id)),
            _traces_with_status(traces, TraceStatus.ERROR),
            _traces_with_status(traces, TraceStatus.RUNNING),
        )
        .where(rollup_where(scope, traces))
        .group_by(traces.agent)
    ).all()
    calls = rollup_rows(scope, LlmDaily)
    costs = conn.execute(
        select(calls.agent, total_cost(calls.cost_usd))
        .where(rollup_where(scope, calls))
        .group_by(calls.agent)
    ).all()
    by_agent: dict[str, dict] = {}
    for agent, traces, users, errors, running in runs:
        finished = int(traces) - int(running)
        by_agent[agent or NO_AGENT] = {
            "traces": int(traces),
            "users_active": int(users),
            "error_rate": ratio(int(errors), finished),
            "cost_usd": 0.0,
        }
    for agent, cost in costs:
        entry = by_agent.setdefault(
            agent or NO_AGENT,
            {"traces": 0, "users_active": 0, "error_rate": None, "cost_usd": 0.0},
        )
        entry["cost_usd"] = float(cost)
    ordered = sorted(
        by_agent.items(),
        key=lambda item: (-item[1]["traces"], -cost_key(item[1]["cost_usd"]), item[0]),
    )
    return pd.DataFrame(
        [{"agent": agent, **values} for agent, values in ordered[: max(limit, 0)]],
        columns=["agent", "traces", "users_active", "error_rate", "cost_usd"],
    )
