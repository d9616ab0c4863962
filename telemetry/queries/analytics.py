"""Analytics trends (docs/metrics.md, "Activity and quality"): per time bucket and for the whole
period, each beside the previous period of equal length.

What each figure counts:

- ``traces``, ``completed`` (status ``ok``), ``finished`` (not ``running``),
  ``errors``, ``timeouts``, ``users_active`` (distinct users): the traces started
  in the period (bucket), see :func:`~telemetry.queries.scope.trace_where`.
  ``error_rate`` = errors ÷ finished (``None`` when nothing finished).
- ``input_tokens`` (cached ones included), ``output_tokens``,
  ``cache_read_tokens``: the LLM calls started in the period (bucket), by their
  own start, as on the Overview and Billing pages.
- Session time: per session (non-empty session id), latest end − earliest start
  of its traces started in the period; sessions whose traces are all still
  running have no end and are left out. Shown as the median and the p90
  (:mod:`telemetry.queries.percentiles`) in seconds; the mean is computed too,
  for the help text only: a few long-lived sessions dominate it. In a timeline, a session
  belongs to the bucket of its earliest trace in the period and keeps its whole
  time there, so a session spanning midnight is never cut in two.

Where they are read: with day, week or month buckets, from the daily rollups
(``trace_daily``, ``llm_daily``, ``session_daily``; :mod:`telemetry.rollups`, and
:mod:`telemetry.queries.rollup_scope` for periods with partial days), whose keys
hold the user and the session, so distinct counts stay exact. Hour and 5-minute
buckets are finer than a rollup day: then the traces and LLM calls themselves are
read.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, Engine, func, select

from telemetry.filters import Filters
from telemetry.models import LlmDaily, Observation, SessionDaily, Trace, TraceDaily, TraceStatus
from telemetry.queries.buckets import bucket_numbers, bucket_start
from telemetry.queries.daily import day_bucket, total, total_if
from telemetry.queries.kpis import DIVIDED_BY, UNIT_COUNT, UNIT_RATIO, Kpi, Term
from telemetry.queries.observations import observation_bucket
from telemetry.queries.percentiles import P50, P90, interpolate
from telemetry.queries.rollup_scope import daily_grouping, rollup_rows, rollup_where
from telemetry.queries.scope import (
    Scope,
    count_if,
    llm_call_where,
    ratio,
    resolve_scope,
    trace_bucket,
    trace_where,
)
from telemetry.timeutil import US_PER_SECOND

UNIT_SECONDS = "seconds"
CURRENT = "current"
PREVIOUS = "previous"

# (key, label, unit) of the trend figures, in display order.
TREND_KEYS = (
    ("traces", "Runs", UNIT_COUNT),
    ("users_active", "Active users", UNIT_COUNT),
    ("completed", "Completed tasks", UNIT_COUNT),
    ("errors", "Errors", UNIT_COUNT),
    ("error_rate", "Error rate", UNIT_RATIO),
    ("timeouts", "Timeouts", UNIT_COUNT),
    ("input_tokens", "Input tokens", UNIT_COUNT),
    ("output_tokens", "Output tokens", UNIT_COUNT),
    ("cache_read_tokens", "Cached input tokens", UNIT_COUNT),
    ("session_time_median_s", "Session time (median)", UNIT_SECONDS),
    ("session_time_p90_s", "Session time (p90)", UNIT_SECONDS),
)
TREND_COLUMNS = [
    "period",
    "bucket",
    "traces",
    "users_active",
    "completed",
    "finished",
    "errors",
    "error_rate",
    "timeouts",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "sessions",
    "session_time_mean_s",
    "session_time_median_s",
    "session_time_p90_s",
]
_TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens")
# The order of the per-status counts of _trace_figures.
_STATUSES = (TraceStatus.OK, TraceStatus.RUNNING, TraceStatus.ERROR, TraceStatus.TIMEOUT)
_SESSION_TIMES = ("session_time_mean_s", "session_time_median_s", "session_time_p90_s")
_MEASURED = ("error_rate", *_SESSION_TIMES)


@dataclass(frozen=True)
class Trends:
    """The trend figures of a period: totals beside the previous period's, and per bucket.

    ``kpis``: one :class:`~telemetry.queries.kpis.Kpi` per :data:`TREND_KEYS`
    entry (``unit`` is ``count``, ``ratio`` or ``seconds``). ``timeline``:
    ``DataFrame[TREND_COLUMNS]`` with one row per bucket of ``filters.grouping``
    that each period touches; ``period`` is ``"current"`` or ``"previous"``,
    ``bucket`` the naive UTC start of the bucket; counts are zero-filled, rates
    and session times NaN where there is nothing to measure; oldest first,
    current period first.
    """

    kpis: list[Kpi]
    timeline: pd.DataFrame


def trends(engine: Engine, filters: Filters) -> Trends:
    """The :class:`Trends` of ``filters`` and of ``filters.previous()`` (see the module doc)."""
    with engine.connect() as conn:
        current, current_rows = _period(conn, resolve_scope(conn, filters), CURRENT)
        previous, previous_rows = _period(conn, resolve_scope(conn, filters.previous()), PREVIOUS)
    new = not any(previous[key] for key in ("traces", *_TOKENS))
    kpis = [
        Kpi(
            key=key,
            label=label,
            value=current[key],
            previous=previous[key],
            unit=unit,
            terms=_terms(key, current),
            previous_terms=_terms(key, previous),
            operator=DIVIDED_BY if key == "error_rate" else "",
            new=new,
            notes=_notes(key, current),
        )
        for key, label, unit in TREND_KEYS
    ]
    timeline = pd.DataFrame(current_rows + previous_rows, columns=TREND_COLUMNS)
    # Missing rates and times are NaN, so both periods' columns share one float dtype.
    return Trends(kpis=kpis, timeline=timeline.astype({column: float for column in _MEASURED}))


# What each single-term trend figure counts (the card's help says it with the number).
_MEANINGS = {
    "traces": "runs (traces) started in the period",
    "users_active": "distinct users with a run",
    "completed": "runs with status ok",
    "errors": "runs with status error",
    "timeouts": "runs that timed out",
    "input_tokens": "input tokens of the period's LLM calls (cached included)",
    "output_tokens": "output tokens of the period's LLM calls",
    "cache_read_tokens": "input tokens read from a cache",
    "session_time_median_s": "median over sessions of latest end − earliest start",
    "session_time_p90_s": "90th percentile over sessions of latest end − earliest start",
}


def _terms(key: str, values: dict) -> tuple[Term, ...]:
    if key == "error_rate":
        return (
            Term("runs with status error", values["errors"]),
            Term("finished runs", values["finished"]),
        )
    unit = UNIT_SECONDS if key.startswith("session_time") else UNIT_COUNT
    return (Term(_MEANINGS[key], values[key], unit),)


def _notes(key: str, values: dict) -> tuple[Term, ...]:
    """Beside a session time: how many sessions it is taken over, and their mean."""
    if not key.startswith("session_time"):
        return ()
    return (
        Term("sessions with an end", values["timed_sessions"]),
        Term("mean (long sessions dominate it)", values["session_time_mean_s"], UNIT_SECONDS),
    )


def _period(conn: Connection, scope: Scope, label: str) -> tuple[dict, list[dict]]:
    """The period's totals and its per-bucket rows."""
    grouping = scope.filters.grouping
    traces = _trace_figures(conn, scope)
    tokens = _token_figures(conn, scope)
    sessions = _session_times(conn, scope)
    rows = []
    for number in bucket_numbers(scope.filters):
        values = {**_EMPTY, **traces.get(number, {}), **tokens.get(number, {})}
        values.update(_session_figures(sessions.get(number, [])))
        rows.append({"period": label, "bucket": bucket_start(grouping, number), **values})
    totals = {key: sum(row[key] for row in rows) for key in _ADDITIVE}
    totals["error_rate"] = ratio(totals["errors"], totals["finished"])
    # The user is a key of trace_daily: its distinct values are the period's users.
    daily = rollup_rows(scope, TraceDaily)
    totals["users_active"] = conn.execute(
        select(func.count(func.distinct(daily.user_id))).where(rollup_where(scope, daily))
    ).scalar_one()
    every_session = [value for values in sessions.values() for value in values]
    totals.update(_session_figures(every_session))
    return totals, rows


def _trace_figures(conn: Connection, scope: Scope) -> dict[int, dict]:
    """Per bucket: runs, distinct users, and runs per status."""
    if daily_grouping(scope):
        rows = rollup_rows(scope, TraceDaily)
        bucket = day_bucket(rows.day, scope.filters.grouping, scope.filters)
        query = select(
            bucket.label("bucket"),
            total(rows.traces),
            func.count(func.distinct(rows.user_id)),
            *(total_if(rows.status == str(status), rows.traces) for status in _STATUSES),
        ).where(rollup_where(scope, rows))
    else:
        query = select(
            trace_bucket(scope.filters.grouping).label("bucket"),
            func.count(),
            func.count(func.distinct(Trace.user_id)),
            *(count_if(Trace.status == str(status)) for status in _STATUSES),
        ).where(trace_where(scope))
    rows = conn.execute(query.group_by("bucket")).all()
    found = {}
    for number, traces, users, ok, running, errors, timeouts in rows:
        finished = int(traces) - int(running)
        found[int(number)] = {
            "traces": int(traces),
            "users_active": int(users),
            "completed": int(ok),
            "finished": finished,
            "errors": int(errors),
            "error_rate": ratio(int(errors), finished),
            "timeouts": int(timeouts),
        }
    return found


def _token_figures(conn: Connection, scope: Scope) -> dict[int, dict]:
    """Per bucket of each LLM call's own start: input, output and cache-read tokens."""
    if daily_grouping(scope):
        calls = rollup_rows(scope, LlmDaily)
        bucket = day_bucket(calls.day, scope.filters.grouping, scope.filters)
        sums = [total(getattr(calls, name)) for name in _TOKENS]
        query = select(bucket.label("bucket"), *sums).where(rollup_where(scope, calls))
    else:
        bucket = observation_bucket(scope.filters.grouping)
        sums = [total(getattr(Observation, name)) for name in _TOKENS]
        query = select(bucket.label("bucket"), *sums).where(llm_call_where(scope))
    rows = conn.execute(query.group_by("bucket")).all()
    return {
        int(row[0]): {name: int(value) for name, value in zip(_TOKENS, row[1:], strict=True)}
        for row in rows
    }


def _session_times(conn: Connection, scope: Scope) -> dict[int, list]:
    """Per bucket of a session's earliest run: each session's time in microseconds.

    The SQL aggregates the runs of each session (one row per session); a
    session whose runs all still run has ``None`` (no end yet). Day buckets read
    ``session_daily`` (one row per session, day and agent): the min and max over a
    session's rows are those over its traces, and buckets grow with the day.
    """
    if daily_grouping(scope):
        rows = rollup_rows(scope, SessionDaily)
        bucket = day_bucket(rows.day, scope.filters.grouping, scope.filters)
        time_us = func.max(rows.last_end_us) - func.min(rows.first_start_us)
        query = (
            select(func.min(bucket), time_us)
            .where(rollup_where(scope, rows))
            .group_by(rows.session_id)
        )
    else:
        bucket = trace_bucket(scope.filters.grouping)
        query = (
            select(func.min(bucket), func.max(Trace.end_us) - func.min(Trace.start_us))
            .where(trace_where(scope), Trace.session_id.is_not(None))
            .group_by(Trace.session_id)
        )
    found: dict[int, list] = {}
    for number, session_us in conn.execute(query):
        found.setdefault(int(number), []).append(session_us)
    return found


def _session_figures(times_us: list) -> dict:
    """Session count, and mean, median and p90 time (seconds) of those that have one."""
    timed = sorted(int(value) for value in times_us if value is not None)
    median, p90 = (interpolate(timed, len(timed), percent) for percent in (P50, P90))
    return {
        "sessions": len(times_us),
        "timed_sessions": len(timed),
        "session_time_mean_s": sum(timed) / len(timed) / US_PER_SECOND if timed else None,
        "session_time_median_s": None if median is None else median / US_PER_SECOND,
        "session_time_p90_s": None if p90 is None else p90 / US_PER_SECOND,
    }


_EMPTY = {
    "traces": 0,
    "users_active": 0,
    "completed": 0,
    "finished": 0,
    "errors": 0,
    "error_rate": None,
    "timeouts": 0,
    "input_tokens": 0,
    "output_tokens": 0,
    "cache_read_tokens": 0,
    "sessions": 0,
    "timed_sessions": 0,
    "session_time_mean_s": None,
    "session_time_median_s": None,
    "session_time_p90_s": None,
}
# Per-bucket counts that add up to the period's total (distinct users do not).
_ADDITIVE = ("traces", "completed", "finished", "errors", "timeouts", *_TOKENS)
