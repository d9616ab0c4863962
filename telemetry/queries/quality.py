"""Quality numbers (docs/metrics.md, "Quality"): feedback coverage, positive rate, cost per run.

A trace's verdict is its latest verdict score. It is kept on the trace row
(``trace.verdict``: 1 positive, 0 negative, NULL none) as scores arrive
(:mod:`telemetry.ingest.scores`), under a partial index of the rated runs only,
so rated and positive counts read a minority of rows. Runs and cost come from
the daily rollups like every other page; scores carry their trace's row id and
start day. Measured in ``bench/bench_quality.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, Engine, and_, func, select

from telemetry.filters import Filters
from telemetry.models import LlmDaily, Observation, Score, Team, Trace, TraceDaily, User
from telemetry.queries.activity import NO_AGENT, activity_timeline, trace_count_in
from telemetry.queries.buckets import bucket_start
from telemetry.queries.costs import usage_totals_in
from telemetry.queries.daily import total
from telemetry.queries.rollup_scope import rollup_rows, rollup_where
from telemetry.queries.scope import (
    NO_TEAM,
    Scope,
    count_if,
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
NO_USER = "(no user)"
NO_MODEL = "(no model)"


@dataclass(frozen=True)
class QualityTotals:
    """The period's quality headline: verdicts over runs, and cost per good run."""

    runs: int
    rated: int  # traces with a verdict
    positive: int  # traces whose latest verdict is positive
    cost_usd: float  # the period's cost (LLM calls started in it)
    feedback_coverage: float | None
    positive_rate: float | None
    negative_rate: float | None  # traces whose latest verdict is negative / rated
    cost_per_run: float | None
    cost_per_good_run: float | None


def _rated_where(scope: Scope):
    """Rated traces of the scope (the partial index ix_trace_org_day_verdict)."""
    return and_(trace_where(scope), Trace.verdict.is_not(None))


def quality_totals(engine: Engine, filters: Filters) -> QualityTotals:
    with engine.connect() as conn:
        return quality_totals_in(conn, resolve_scope(conn, filters))


def quality_totals_in(conn: Connection, scope: Scope) -> QualityTotals:
    rated, positive = conn.execute(
        select(func.count(), count_if(Trace.verdict == 1)).where(_rated_where(scope))
    ).one()
    rated, positive = int(rated), int(positive)
    runs = trace_count_in(conn, scope)
    cost = usage_totals_in(conn, scope).cost_usd
    return QualityTotals(
        runs=runs,
        rated=rated,
        positive=positive,
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
    Model: ``runs`` are the model's LLM calls (runs are not counted per model, so no
    coverage); rated and positive are the period's rated runs with a call of the
    model; cost = the cost of the model's calls, so cost per good run is its spend
    ÷ the good runs it took part in.
    """
    if dimension not in QUALITY_DIMENSIONS:
        raise ValueError(f"dimension must be one of {', '.join(QUALITY_DIMENSIONS)}")
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        if dimension == "model":
            runs, verdicts = _model_calls(conn, scope), _model_verdicts(conn, scope)
        else:
            runs = _dimension_runs(conn, scope, dimension)
            verdicts = _dimension_verdicts(conn, scope, dimension)
    rows = [(key, count, *verdicts.get(key, (0, 0)), cost) for key, (count, cost) in runs.items()]
    frame = pd.DataFrame(rows, columns=[dimension, "runs", "rated", "positive", "cost_usd"])
    return _with_rates(frame, dimension, coverage=dimension != "model")


def _label(dimension: str, rows):
    """The shown value of ``dimension`` on ``rows`` (traces or a trace rollup), and joins."""
    if dimension == "team":
        return func.coalesce(Team.name, NO_TEAM), [(Team, Team.id == rows.team_id)]
    if dimension == "user":
        return func.coalesce(User.external_id, NO_USER), [(User, User.id == rows.user_id)]
    return func.coalesce(func.nullif(rows.agent, ""), NO_AGENT), []


def _dimension_runs(conn: Connection, scope: Scope, dimension: str) -> dict[str, tuple]:
    rows = rollup_rows(scope, TraceDaily)
    label, joins = _label(dimension, rows)
    query = select(label, total(rows.traces), func.coalesce(func.sum(rows.cost_usd), 0.0))
    query = query.select_from(rows)
    for table, condition in joins:
        query = query.outerjoin(table, condition)
    found = conn.execute(query.where(rollup_where(scope, rows)).group_by(label)).all()
    return {key: (int(runs), float(cost)) for key, runs, cost in found if runs}


def _dimension_verdicts(conn: Connection, scope: Scope, dimension: str) -> dict[str, tuple]:
    label, joins = _label(dimension, Trace)
    query = select(label, func.count(), count_if(Trace.verdict == 1)).select_from(Trace)
    for table, condition in joins:
        query = query.outerjoin(table, condition)
    found = conn.execute(query.where(_rated_where(scope)).group_by(label)).all()
    return {key: (int(rated), int(positive)) for key, rated, positive in found}


def _model_calls(conn: Connection, scope: Scope) -> dict[str, tuple]:
    rows = rollup_rows(scope, LlmDaily)
    label = func.coalesce(func.nullif(rows.model, ""), NO_MODEL)
    query = (
        select(label, total(rows.calls), func.coalesce(func.sum(rows.cost_usd), 0.0))
        .select_from(rows)
        .where(rollup_where(scope, rows))
        .group_by(label)
    )
    return {key: (int(calls), float(cost)) for key, calls, cost in conn.execute(query) if calls}


def _model_verdicts(conn: Connection, scope: Scope) -> dict[str, tuple]:
    label = func.coalesce(func.nullif(Observation.model, ""), NO_MODEL)
    llm = Observation.kind.in_(("generation", "embedding"))
    per_trace = (
        select(label.label("model"), Trace.id.label("trace"), Trace.verdict.label("verdict"))
        .select_from(Trace)
        .join(Observation, and_(Observation.trace_pk == Trace.id, llm))
        .where(_rated_where(scope))
        .distinct()
        .subquery()
    )
    query = select(per_trace.c.model, func.count(), count_if(per_trace.c.verdict == 1)).group_by(
        per_trace.c.model
    )
    return {key: (int(rated), int(positive)) for key, rated, positive in conn.execute(query)}


def _with_rates(frame: pd.DataFrame, dimension: str, *, coverage: bool) -> pd.DataFrame:
    frame = frame.astype({"runs": int, "rated": int, "positive": int, "cost_usd": float})
    pairs = zip(frame.rated, frame.runs, strict=True)
    frame["feedback_coverage"] = [ratio(r, n) if coverage else None for r, n in pairs]
    frame["positive_rate"] = [ratio(p, r) for p, r in zip(frame.positive, frame.rated, strict=True)]
    frame["cost_per_run"] = [
        ratio(c, n) if coverage else None for c, n in zip(frame.cost_usd, frame.runs, strict=True)
    ]
    frame["cost_per_good_run"] = [
        ratio(c, p) for c, p in zip(frame.cost_usd, frame.positive, strict=True)
    ]
    frame = frame.sort_values(["runs", dimension], ascending=[False, True], kind="stable")
    return frame[[dimension, *QUALITY_COLUMNS]].reset_index(drop=True)


def score_summary(engine: Engine, filters: Filters) -> list[dict]:
    with engine.connect() as conn:
        return score_summary_in(conn, resolve_scope(conn, filters))


def _scores_in(scope: Scope, *columns):
    """A select of ``columns`` over the scores of the scope's traces.

    Scores carry their trace's start day: with no team, environment or subject filter
    and whole days, that day alone selects them (no trace row read); otherwise the
    trace row is joined for the exact conditions.
    """
    query = select(*columns).select_from(Score)
    in_days = and_(
        Score.org_id == scope.org_id,
        Score.trace_day >= scope.start_day,
        Score.trace_day <= scope.end_day,
    )
    plain = (
        scope.whole_days
        and scope.team_ids is None
        and scope.environments is None
        and not scope.subject
    )
    if plain:
        return query.where(in_days)
    return query.join(Trace, Trace.id == Score.trace_pk).where(in_days, trace_where(scope))


def score_summary_in(conn: Connection, scope: Scope) -> list[dict]:
    """Per score name (``by_score``): count, mean of the numeric values, label counts.

    Every score of a trace in the scope counts (not only the latest); by name.
    """
    totals = conn.execute(
        _scores_in(scope, Score.name, func.count(), func.avg(Score.value))
        .group_by(Score.name)
        .order_by(Score.name)
    ).all()
    labels: dict[str, dict[str, int]] = {}
    for name, label, count in conn.execute(
        _scores_in(scope, Score.name, Score.label, func.count())
        .where(Score.label != "")
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
        label, joins = _label(dimension, Trace)
        query = (
            select(label, Score.name, func.count(), func.avg(Score.value))
            .select_from(Score)
            .join(Trace, Trace.id == Score.trace_pk)
        )
        for table, condition in joins:
            query = query.outerjoin(table, condition)
        in_days = and_(
            Score.org_id == scope.org_id,
            Score.trace_day >= scope.start_day,
            Score.trace_day <= scope.end_day,
        )
        rows = conn.execute(
            query.where(in_days, trace_where(scope), Score.value.is_not(None)).group_by(
                label, Score.name
            )
        ).all()
    frame = pd.DataFrame(rows, columns=[dimension, "name", "count", "mean"])
    return frame.sort_values([dimension, "name"], kind="stable").reset_index(drop=True)


TREND_COLUMNS = ["bucket", "runs", "rated", "positive", "feedback_coverage", "positive_rate"]


def quality_trend(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Runs, rated runs and positive rate per time bucket of the chosen grouping."""
    runs = activity_timeline(engine, filters)
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        bucket = trace_bucket(filters.grouping, filters)
        rows = conn.execute(
            select(bucket, func.count(), count_if(Trace.verdict == 1))
            .where(_rated_where(scope))
            .group_by(bucket)
        ).all()
    rated = {bucket_start(filters.grouping, number): (r, p) for number, r, p in rows}
    data = []
    for moment, count in zip(runs.bucket, runs.traces, strict=True):
        r, p = rated.get(moment, (0, 0))
        data.append((moment, int(count), int(r), int(p), ratio(r, count), ratio(p, r)))
    return pd.DataFrame(data, columns=TREND_COLUMNS)
