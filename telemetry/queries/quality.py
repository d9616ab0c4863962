"""Quality numbers (docs/metrics.md, "Quality"): feedback coverage, positive rate, cost per run.

A trace's verdict is its latest verdict score, kept per trace id in
``trace_quality`` as scores arrive (:mod:`telemetry.ingest.scores`), so every
figure here joins at most one row per trace. Traces are those of the scope (by
their start); scores count when their trace is in the scope. Read from the base
rows with their indexes (no rollup): measured in ``bench/bench_quality.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, Engine, and_, case, func, select

from telemetry.filters import Filters
from telemetry.models import Observation, Score, Team, Trace, TraceQuality, User
from telemetry.queries.activity import NO_AGENT
from telemetry.queries.buckets import bucket_start
from telemetry.queries.costs import usage_totals_in
from telemetry.queries.scope import (
    NO_TEAM,
    Scope,
    count_if,
    llm_call_where,
    ratio,
    resolve_scope,
    trace_bucket,
    trace_where,
)

QUALITY_DIMENSIONS = ("agent", "model", "team", "user")
QUALITY_COLUMNS = [
    "runs",
    "rated",
    "positive",
    "feedback_coverage",
    "positive_rate",
    "cost_usd",
    "cost_per_run",
    "cost_per_good_run",
]
_QUALITY_JOIN = and_(TraceQuality.org_id == Trace.org_id, TraceQuality.trace_id == Trace.trace_id)
_SCORE_JOIN = and_(Trace.org_id == Score.org_id, Trace.trace_id == Score.trace_id)


@dataclass(frozen=True)
class QualityTotals:
    """The period's quality headline: verdicts over runs, and cost per good run."""

    runs: int
    rated: int  # traces with a verdict
    positive: int  # traces whose latest verdict is positive
    reviewed: int  # traces a person scored in the dashboard
    cost_usd: float  # the period's cost (LLM calls started in it)
    feedback_coverage: float | None
    positive_rate: float | None
    negative_rate: float | None  # traces whose latest verdict is negative / rated
    cost_per_run: float | None
    cost_per_good_run: float | None


def quality_totals(engine: Engine, filters: Filters) -> QualityTotals:
    with engine.connect() as conn:
        return quality_totals_in(conn, resolve_scope(conn, filters))


def quality_totals_in(conn: Connection, scope: Scope) -> QualityTotals:
    row = conn.execute(
        select(
            func.count(),
            func.count(TraceQuality.positive),
            count_if(TraceQuality.positive == 1),
            count_if(TraceQuality.reviewed == 1),
        )
        .select_from(Trace)
        .outerjoin(TraceQuality, _QUALITY_JOIN)
        .where(trace_where(scope))
    ).one()
    runs, rated, positive, reviewed = (int(value) for value in row)
    cost = usage_totals_in(conn, scope).cost_usd
    return QualityTotals(
        runs=runs,
        rated=rated,
        positive=positive,
        reviewed=reviewed,
        cost_usd=cost,
        feedback_coverage=ratio(rated, runs),
        positive_rate=ratio(positive, rated),
        negative_rate=ratio(rated - positive, rated),
        cost_per_run=ratio(cost, runs),
        cost_per_good_run=ratio(cost, positive),
    )


def quality_by(engine: Engine, filters: Filters, dimension: str) -> pd.DataFrame:
    """Quality per agent, model, team or user, most runs first (columns: QUALITY_COLUMNS).

    Agent, team, user: the runs of each (trace context), cost = their traces' cost.
    Model: the runs with at least one call of the model in the period, cost = the
    cost of those calls (so the model's cost per good run is its own spend).
    """
    if dimension not in QUALITY_DIMENSIONS:
        raise ValueError(f"dimension must be one of {', '.join(QUALITY_DIMENSIONS)}")
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        if dimension == "model":
            rows = _by_model(conn, scope)
        else:
            rows = _by_trace_dimension(conn, scope, dimension)
    frame = pd.DataFrame(rows, columns=[dimension, "runs", "rated", "positive", "cost_usd"])
    return _with_rates(frame, dimension)


def _by_trace_dimension(conn: Connection, scope: Scope, dimension: str) -> list[tuple]:
    label, joins = _dimension_label(dimension)
    query = (
        select(
            label,
            func.count(),
            func.count(TraceQuality.positive),
            count_if(TraceQuality.positive == 1),
            func.coalesce(func.sum(Trace.cost_usd), 0.0),
        )
        .select_from(Trace)
        .outerjoin(TraceQuality, _QUALITY_JOIN)
    )
    for table, condition in joins:
        query = query.outerjoin(table, condition)
    return conn.execute(query.where(trace_where(scope)).group_by(label)).all()


def _dimension_label(dimension: str):
    if dimension == "team":
        return func.coalesce(Team.name, NO_TEAM), [(Team, Team.id == Trace.team_id)]
    if dimension == "user":
        return func.coalesce(User.external_id, "(no user)"), [(User, User.id == Trace.user_id)]
    return func.coalesce(func.nullif(Trace.agent, ""), NO_AGENT), []


def _by_model(conn: Connection, scope: Scope) -> list[tuple]:
    positive = TraceQuality.positive == 1
    query = (
        select(
            func.coalesce(func.nullif(Observation.model, ""), "(no model)"),
            func.count(Observation.trace_pk.distinct()),
            func.count(func.distinct(_when(TraceQuality.positive.is_not(None)))),
            func.count(func.distinct(_when(positive))),
            func.coalesce(func.sum(Observation.cost_usd), 0.0),
        )
        .select_from(Observation)
        .join(Trace, Trace.id == Observation.trace_pk)
        .outerjoin(TraceQuality, _QUALITY_JOIN)
        .where(llm_call_where(scope))
        .group_by(Observation.model)
    )
    return conn.execute(query).all()


def _when(condition):
    """The call's trace when ``condition`` holds (counted distinct: runs, not calls)."""
    return case((condition, Observation.trace_pk), else_=None)


def _with_rates(frame: pd.DataFrame, dimension: str) -> pd.DataFrame:
    frame = frame.astype({"runs": int, "rated": int, "positive": int, "cost_usd": float})
    frame["feedback_coverage"] = [ratio(r, n) for r, n in zip(frame.rated, frame.runs, strict=True)]
    frame["positive_rate"] = [ratio(p, r) for p, r in zip(frame.positive, frame.rated, strict=True)]
    frame["cost_per_run"] = [ratio(c, n) for c, n in zip(frame.cost_usd, frame.runs, strict=True)]
    frame["cost_per_good_run"] = [
        ratio(c, p) for c, p in zip(frame.cost_usd, frame.positive, strict=True)
    ]
    frame = frame.sort_values(["runs", dimension], ascending=[False, True], kind="stable")
    return frame[[dimension, *QUALITY_COLUMNS]].reset_index(drop=True)


SCORE_COLUMNS = ["name", "count", "mean", "labels"]


def score_summary(engine: Engine, filters: Filters) -> list[dict]:
    with engine.connect() as conn:
        return score_summary_in(conn, resolve_scope(conn, filters))


def score_summary_in(conn: Connection, scope: Scope) -> list[dict]:
    """Per score name (``by_score``): count, mean of the numeric values, label counts.

    Every score of a trace in the scope counts (not only the latest); by name.
    """
    base = select(Score.name).select_from(Score).join(Trace, _SCORE_JOIN)
    where = trace_where(scope)
    totals = conn.execute(
        base.add_columns(func.count(), func.avg(Score.value))
        .where(where)
        .group_by(Score.name)
        .order_by(Score.name)
    ).all()
    labels: dict[str, dict[str, int]] = {}
    for name, label, count in conn.execute(
        base.add_columns(Score.label, func.count())
        .where(where, Score.label != "")
        .group_by(Score.name, Score.label)
        .order_by(Score.name, Score.label)
    ):
        labels.setdefault(name, {})[label] = int(count)
    return [
        {
            "name": name,
            "count": int(count),
            "mean": None if mean is None else float(mean),
            "labels": labels.get(name, {}),
        }
        for name, count, mean in totals
    ]


def score_means_by(engine: Engine, filters: Filters, dimension: str) -> pd.DataFrame:
    """Mean value and count of each numeric score per agent, team or user (long form)."""
    if dimension not in ("agent", "team", "user"):
        raise ValueError("score averages are kept per agent, team or user")
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        label, joins = _dimension_label(dimension)
        query = select(label, Score.name, func.count(), func.avg(Score.value)).select_from(Score)
        query = query.join(Trace, _SCORE_JOIN)
        for table, condition in joins:
            query = query.outerjoin(table, condition)
        rows = conn.execute(
            query.where(trace_where(scope), Score.value.is_not(None)).group_by(label, Score.name)
        ).all()
    frame = pd.DataFrame(rows, columns=[dimension, "name", "count", "mean"])
    return frame.sort_values([dimension, "name"], kind="stable").reset_index(drop=True)


TREND_COLUMNS = ["bucket", "runs", "rated", "positive", "feedback_coverage", "positive_rate"]


def quality_trend(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Runs, rated runs and positive rate per time bucket of the chosen grouping."""
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        bucket = trace_bucket(filters.grouping, filters)
        rows = conn.execute(
            select(
                bucket,
                func.count(),
                func.count(TraceQuality.positive),
                count_if(TraceQuality.positive == 1),
            )
            .select_from(Trace)
            .outerjoin(TraceQuality, _QUALITY_JOIN)
            .where(trace_where(scope))
            .group_by(bucket)
            .order_by(bucket)
        ).all()
    data = [
        (bucket_start(filters.grouping, number), int(n), int(r), int(p), ratio(r, n), ratio(p, r))
        for number, n, r, p in rows
    ]
    return pd.DataFrame(data, columns=TREND_COLUMNS)
