"""One user's detail (the Users page dialog): profile, lifetime figures and breakdowns.

Their sessions and audit events are in :mod:`telemetry.queries.user_history`.
"Lifetime" means all the user's stored telemetry, under the same organization,
team and environment filters as the page (a manager's lifetime of a user is
what that user did in the manager's teams). A user the scope cannot see (not
in a selected team and without telemetry there) has no detail: ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Connection, Engine, and_, case, exists, func, or_, select

from telemetry.filters import Filters
from telemetry.models import (
    CostSource,
    Observation,
    SpanStatus,
    Team,
    Trace,
    TraceStatus,
    User,
)
from telemetry.queries.observations import tool_call_where
from telemetry.queries.scope import (
    Scope,
    count_if,
    llm_call_where,
    ratio,
    resolve_scope,
    team_conditions,
    trace_where,
)
from telemetry.queries.users import scoped_team_name
from telemetry.timeutil import day_number, day_of_number

LIFETIME_START = date(1970, 1, 1)
LIFETIME_END = date(9999, 12, 31)
ACTIVITY_DAYS = 30
NO_MODEL = "(no model)"
NO_PROVIDER = "(no provider)"


@dataclass(frozen=True)
class UserProfile:
    user_pk: int
    external_id: str
    name: str
    email: str
    company: str
    team: str
    status: str


@dataclass(frozen=True)
class UserLifetime:
    """The user's lifetime figures, with the same definitions as the Users table's columns.

    ``avg_duration_ms`` = mean duration of the finished traces (running ones have
    none), ``None`` without one. ``first_seen_us`` / ``last_seen_us`` = earliest
    and latest trace start.
    """

    traces: int
    sessions: int
    errored_sessions: int
    errored_session_rate: float | None
    tokens: int
    cost_usd: float
    calls: int
    priced_share: float | None
    avg_duration_ms: float | None
    active_days: int
    first_seen_us: int | None
    last_seen_us: int | None


@dataclass(frozen=True)
class UserDetail:
    """A user's profile, lifetime figures and breakdowns.

    ``activity``: ``DataFrame[day, traces]``, the :data:`ACTIVITY_DAYS` UTC days
    ending on the period's last day, zero-filled. ``by_model``: ``[provider,
    model, calls, input_tokens, output_tokens, cost_usd, unpriced_calls]``;
    ``by_provider``: ``[provider, calls, tokens, cost_usd, unpriced_calls]``;
    ``by_tool``: ``[tool, calls, errors, error_rate]`` (tool calls whose status is
    ERROR); each most used first (by cost, then calls).
    """

    profile: UserProfile
    lifetime: UserLifetime
    activity: pd.DataFrame
    by_model: pd.DataFrame
    by_provider: pd.DataFrame
    by_tool: pd.DataFrame


def lifetime_scope(scope: Scope) -> Scope:
    """``scope`` with its period widened to all time (same organization, teams, environments)."""
    return replace(scope, filters=scope.filters.with_period(LIFETIME_START, LIFETIME_END))


def user_detail(engine: Engine, filters: Filters, *, user_pk: int) -> UserDetail | None:
    """The :class:`UserDetail` of user ``user_pk``, or ``None`` when the scope cannot see them."""
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        profile = visible_user(conn, scope, user_pk)
        if profile is None:
            return None
        lifetime = lifetime_scope(scope)
        models = _by_model(conn, lifetime, user_pk)
        return UserDetail(
            profile=profile,
            lifetime=_lifetime(conn, lifetime, user_pk, models),
            activity=_activity(conn, scope, user_pk),
            by_model=models,
            by_provider=_by_provider(models),
            by_tool=_by_tool(conn, lifetime, user_pk),
        )


def visible_user(conn: Connection, scope: Scope, user_pk: int) -> UserProfile | None:
    """The user's profile if the scope may see them: in a selected team, or with telemetry there."""
    lifetime = lifetime_scope(scope)
    traced = exists().where(trace_where(lifetime), Trace.user_id == User.id)
    called = exists().where(llm_call_where(lifetime), Observation.user_id == User.id)
    teams = team_conditions(scope, User.team_id)
    in_team = and_(*teams) if teams else User.org_id == scope.org_id
    row = conn.execute(
        select(
            User.id,
            User.external_id,
            User.name,
            User.email,
            User.company,
            User.status,
            scoped_team_name(scope).label("team"),
        )
        .outerjoin(Team, Team.id == User.team_id)
        .where(User.id == user_pk, User.org_id == scope.org_id, or_(in_team, traced, called))
    ).first()
    if row is None:
        return None
    return UserProfile(
        user_pk=row.id,
        external_id=row.external_id,
        name=row.name,
        email=row.email,
        company=row.company,
        team=row.team or "",
        status=row.status,
    )


def _lifetime(conn: Connection, scope: Scope, user_pk: int, models: pd.DataFrame) -> UserLifetime:
    is_error = Trace.status == str(TraceStatus.ERROR)
    runs = conn.execute(
        select(
            func.count(),
            func.count(func.distinct(Trace.session_id)),
            func.count(func.distinct(case((is_error, Trace.session_id)))),
            func.avg(Trace.duration_ms),
            func.count(func.distinct(Trace.start_day)),
            func.min(Trace.start_us),
            func.max(Trace.start_us),
        ).where(trace_where(scope), Trace.user_id == user_pk)
    ).one()
    # The LLM-call totals are the sums of the per-model rows (one SQL GROUP BY, not two).
    calls, unpriced = int(models["calls"].sum()), int(models["unpriced_calls"].sum())
    sessions, errored = int(runs[1]), int(runs[2])
    return UserLifetime(
        traces=int(runs[0]),
        sessions=sessions,
        errored_sessions=errored,
        errored_session_rate=ratio(errored, sessions),
        tokens=int(models["input_tokens"].sum() + models["output_tokens"].sum()),
        cost_usd=float(models["cost_usd"].sum()),
        calls=calls,
        priced_share=ratio(calls - unpriced, calls),
        avg_duration_ms=None if runs[3] is None else float(runs[3]),
        active_days=int(runs[4]),
        first_seen_us=None if runs[5] is None else int(runs[5]),
        last_seen_us=None if runs[6] is None else int(runs[6]),
    )


def _activity(conn: Connection, scope: Scope, user_pk: int) -> pd.DataFrame:
    last = scope.filters.end
    first = last - timedelta(days=ACTIVITY_DAYS - 1)
    window = replace(scope, filters=scope.filters.with_period(first, last))
    found = dict(
        conn.execute(
            select(Trace.start_day, func.count())
            .where(trace_where(window), Trace.user_id == user_pk)
            .group_by(Trace.start_day)
        ).all()
    )
    days = range(day_number(first), day_number(last) + 1)
    return pd.DataFrame(
        {
            "day": pd.to_datetime([day_of_number(n) for n in days]),
            "traces": [int(found.get(n, 0)) for n in days],
        }
    )


def _unpriced():
    return count_if(Observation.cost_source == str(CostSource.UNPRICED))


def _by_model(conn: Connection, scope: Scope, user_pk: int) -> pd.DataFrame:
    rows = conn.execute(
        select(
            Observation.provider,
            Observation.model,
            func.count(),
            func.coalesce(func.sum(Observation.input_tokens), 0),
            func.coalesce(func.sum(Observation.output_tokens), 0),
            func.coalesce(func.sum(Observation.cost_usd), 0.0),
            _unpriced(),
        )
        .where(llm_call_where(scope), Observation.user_id == user_pk)
        .group_by(Observation.provider, Observation.model)
    ).all()
    records = [
        (p or NO_PROVIDER, m or NO_MODEL, int(c), int(i), int(o), float(cost), int(u))
        for p, m, c, i, o, cost, u in rows
    ]
    records.sort(key=lambda r: (-round(r[5], 9), -r[2], r[0], r[1]))
    columns = ["provider", "model", "calls", "input_tokens", "output_tokens", "cost_usd"]
    return pd.DataFrame(records, columns=[*columns, "unpriced_calls"])


def _by_provider(models: pd.DataFrame) -> pd.DataFrame:
    """The per-model rows summed per provider (a handful of rows)."""
    frame = models.assign(tokens=models["input_tokens"] + models["output_tokens"])
    columns = ["calls", "tokens", "cost_usd", "unpriced_calls"]
    grouped = frame.groupby("provider", as_index=False, sort=False)[columns].sum()
    grouped["order"] = grouped["cost_usd"].round(9)
    grouped = grouped.sort_values(
        ["order", "calls", "provider"], ascending=[False, False, True], kind="stable"
    )
    return grouped[["provider", *columns]].reset_index(drop=True)


def _by_tool(conn: Connection, scope: Scope, user_pk: int) -> pd.DataFrame:
    rows = conn.execute(
        select(
            Observation.tool_name,
            func.count(),
            count_if(Observation.status == str(SpanStatus.ERROR)),
        )
        .where(tool_call_where(scope), Observation.user_id == user_pk)
        .group_by(Observation.tool_name)
    ).all()
    records = [
        (name or "(unnamed tool)", int(calls), int(errors), ratio(int(errors), int(calls)))
        for name, calls, errors in rows
    ]
    records.sort(key=lambda r: (-r[1], r[0]))
    return pd.DataFrame(records, columns=["tool", "calls", "errors", "error_rate"])
