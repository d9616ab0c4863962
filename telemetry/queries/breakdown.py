"""Trend charts split by a dimension (team, user, agent, module, model, provider, tool).

The ``top`` values with the largest total over the period each get a series;
the rest are summed into ``"(other)"``. What is counted depends on where the
dimension lives:

- team, user, agent, module (trace context): ``runs`` = traces, ``errors`` =
  traces with status ``error``, by the trace's value; ``tokens`` = input +
  output tokens of LLM calls, by the call's own value (copied from its trace).
- model, provider: ``runs`` = LLM calls, ``errors`` = LLM calls with status
  ERROR, ``tokens`` = their input + output tokens.
- tool: ``runs`` = tool calls, ``errors`` = tool calls with status ERROR; tools
  have no tokens (the frame is empty).

Traces by their start, observations by their own start (docs/metrics.md, "Time and periods").
With day, week or month buckets every figure is read from the daily rollups
(``trace_daily``, ``llm_daily``, ``tool_daily``), whose keys hold each dimension;
hour and 5-minute buckets read the traces and observations themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import ColumnElement, Connection, Engine, case, func, select

from telemetry.filters import Filters
from telemetry.models import (
    LlmDaily,
    Observation,
    SpanStatus,
    Team,
    ToolDaily,
    Trace,
    TraceDaily,
    TraceStatus,
    User,
)
from telemetry.queries.activity import NO_AGENT
from telemetry.queries.adoption import NO_MODULE
from telemetry.queries.buckets import bucket_numbers, bucket_start
from telemetry.queries.daily import day_bucket, total, total_if
from telemetry.queries.observations import observation_bucket, tool_call_where
from telemetry.queries.rollup_scope import daily_grouping, rollup_rows, rollup_where
from telemetry.queries.scope import (
    NO_TEAM,
    Scope,
    count_if,
    llm_call_where,
    resolve_scope,
    trace_bucket,
    trace_where,
)

DIMENSIONS = ("team", "user", "agent", "module", "model", "provider", "tool")
MEASURES = ("runs", "tokens", "errors")
OTHER = "(other)"
BREAKDOWN_COLUMNS = ["bucket", "series", "value"]
_TRACE_COLUMNS = {"team": "team_id", "user": "user_id", "agent": "agent", "module": "module"}
_MISSING = {
    "team": NO_TEAM,
    "user": "(no user)",
    "agent": NO_AGENT,
    "module": NO_MODULE,
    "model": "(no model)",
    "provider": "(no provider)",
    "tool": "(no tool name)",
}


@dataclass(frozen=True)
class _Source:
    where: ColumnElement[bool]
    column: ColumnElement
    value: ColumnElement
    bucket: ColumnElement[int]


def breakdown_timeline(
    engine: Engine, filters: Filters, *, dimension: str, measure: str = "runs", top: int = 5
) -> pd.DataFrame:
    """``measure`` per bucket and per value of ``dimension``: ``DataFrame[bucket, series, value]``.

    One row per bucket of the period and per series (the ``top`` values by
    total, largest first, then ``"(other)"`` when more values exist), zero-filled.
    Empty when nothing was measured. Raises ``ValueError`` naming the accepted
    values for an unknown dimension or measure.
    """
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown breakdown dimension {dimension!r}; use one of {DIMENSIONS}")
    if measure not in MEASURES:
        raise ValueError(f"unknown breakdown measure {measure!r}; use one of {MEASURES}")
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        source = _source(scope, dimension, measure)
        if source is None:
            return pd.DataFrame(columns=BREAKDOWN_COLUMNS)
        totals = conn.execute(
            select(source.column, source.value).where(source.where).group_by(source.column)
        ).all()
        ranked = sorted(
            ((key, int(value)) for key, value in totals if value),
            key=lambda item: (-item[1], str(item[0])),
        )
        if not ranked:
            return pd.DataFrame(columns=BREAKDOWN_COLUMNS)
        chosen = [key for key, _ in ranked[: max(top, 1)]]
        labels = _labels(conn, scope, dimension, chosen)
        rows = conn.execute(
            select(source.bucket.label("bucket"), _slot(source.column, chosen), source.value)
            .where(source.where)
            .group_by("bucket", "slot")
        ).all()
    series = labels + ([OTHER] if len(ranked) > len(chosen) else [])
    found = {(int(bucket), int(slot)): int(value) for bucket, slot, value in rows}
    grouping = filters.grouping
    records = [
        (bucket_start(grouping, number), name, found.get((number, -1 if name == OTHER else i), 0))
        for number in bucket_numbers(filters)
        for i, name in enumerate(series)
    ]
    return pd.DataFrame(records, columns=BREAKDOWN_COLUMNS)


def _slot(column: ColumnElement, chosen: list) -> ColumnElement[int]:
    """0..n-1 for the chosen values (NULL included when chosen), -1 for the others."""
    whens = [
        (column.is_(None) if key is None else column == key, index)
        for index, key in enumerate(chosen)
    ]
    return case(*whens, else_=-1).label("slot")


def _source(scope: Scope, dimension: str, measure: str) -> _Source | None:
    if dimension == "tool" and measure == "tokens":
        return None
    if daily_grouping(scope):
        return _daily_source(scope, dimension, measure)
    grouping = scope.filters.grouping
    tokens = func.coalesce(func.sum(Observation.input_tokens + Observation.output_tokens), 0)
    if dimension in _TRACE_COLUMNS and measure != "tokens":
        value = (
            func.count() if measure == "runs" else count_if(Trace.status == str(TraceStatus.ERROR))
        )
        column = getattr(Trace, _TRACE_COLUMNS[dimension])
        return _Source(trace_where(scope), column, value, trace_bucket(grouping))
    if dimension == "tool":
        where, column = tool_call_where(scope), Observation.tool_name
    elif dimension in _TRACE_COLUMNS:
        where, column = llm_call_where(scope), getattr(Observation, _TRACE_COLUMNS[dimension])
    else:
        where, column = llm_call_where(scope), getattr(Observation, dimension)
    value = {
        "runs": func.count(),
        "errors": count_if(Observation.status == str(SpanStatus.ERROR)),
        "tokens": tokens,
    }[measure]
    return _Source(where, column, value, observation_bucket(grouping))


def _daily_source(scope: Scope, dimension: str, measure: str) -> _Source:
    """The same figures from the rollup holding the dimension as a key."""
    if dimension in _TRACE_COLUMNS and measure != "tokens":
        rows = rollup_rows(scope, TraceDaily)
        column = getattr(rows, _TRACE_COLUMNS[dimension])
        errors = total_if(rows.status == str(TraceStatus.ERROR), rows.traces)
        value = total(rows.traces) if measure == "runs" else errors
    else:
        rows = rollup_rows(scope, ToolDaily if dimension == "tool" else LlmDaily)
        name = "tool_name" if dimension == "tool" else _TRACE_COLUMNS.get(dimension, dimension)
        column = getattr(rows, name)
        if measure == "tokens":
            value = total(rows.input_tokens + rows.output_tokens)
        else:
            value = total(rows.calls if measure == "runs" else rows.errors)
    bucket = day_bucket(rows.day, scope.filters.grouping, scope.filters)
    return _Source(rollup_where(scope, rows), column, value, bucket)


def _labels(conn: Connection, scope: Scope, dimension: str, keys: list) -> list[str]:
    """Readable series names: team names, and user names (their id where the directory has
    no name, or beside it when two chosen users share a name) instead of row ids."""
    missing = _MISSING[dimension]
    if dimension == "team":
        names = dict(
            conn.execute(select(Team.id, Team.name).where(Team.org_id == scope.org_id)).all()
        )
    elif dimension == "user":
        ids = [key for key in keys if key is not None]
        names = _user_labels(
            conn.execute(select(User.id, User.name, User.external_id).where(User.id.in_(ids)))
        )
    else:
        names = {}
    return [missing if key in (None, "") else str(names.get(key, key)) for key in keys]


def _user_labels(rows) -> dict[int, str]:
    """User row id -> name, or id where unnamed; "Name (id)" where two share a name."""
    found = [(pk, (name or "").strip(), external_id) for pk, name, external_id in rows]
    counts: dict[str, int] = {}
    for _, name, _ in found:
        counts[name] = counts.get(name, 0) + 1
    return {
        pk: external_id if not name else f"{name} ({external_id})" if counts[name] > 1 else name
        for pk, name, external_id in found
    }
