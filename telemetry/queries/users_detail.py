"""One user's detail (the Users page dialog): lifetime figures, breakdowns, sessions, audit events.

"Lifetime" means all the user's stored telemetry, under the same organization,
team and environment filters as the page (a manager's lifetime of a user is
what that user did in the manager's teams). A user the scope cannot see (not
in a selected team and without telemetry there) has no detail: ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Connection, Engine, and_, case, exists, false, func, or_, select

from telemetry.filters import Filters
from telemetry.models import (
    AuditEvent,
    CostSource,
    Observation,
    ObservationKind,
    Session,
    SpanStatus,
    Team,
    Trace,
    TraceStatus,
    User,
)
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
from telemetry.timeutil import day_number, day_of_number, from_us

LIFETIME_START = date(1970, 1, 1)
LIFETIME_END = date(9999, 12, 31)
ACTIVITY_DAYS = 30
SESSION_LIMIT = 200
AUDIT_LIMIT = 200
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
        return UserDetail(
            profile=profile,
            lifetime=_lifetime(conn, lifetime, user_pk),
            activity=_activity(conn, scope, user_pk),
            by_model=_by_model(conn, lifetime, user_pk),
            by_provider=_by_provider(conn, lifetime, user_pk),
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


def _lifetime(conn: Connection, scope: Scope, user_pk: int) -> UserLifetime:
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
    calls = conn.execute(
        select(
            func.count(),
            count_if(Observation.cost_source != str(CostSource.UNPRICED)),
            func.coalesce(func.sum(Observation.input_tokens + Observation.output_tokens), 0),
            func.coalesce(func.sum(Observation.cost_usd), 0.0),
        ).where(llm_call_where(scope), Observation.user_id == user_pk)
    ).one()
    sessions, errored = int(runs[1]), int(runs[2])
    return UserLifetime(
        traces=int(runs[0]),
        sessions=sessions,
        errored_sessions=errored,
        errored_session_rate=ratio(errored, sessions),
        tokens=int(calls[2]),
        cost_usd=float(calls[3]),
        calls=int(calls[0]),
        priced_share=ratio(int(calls[1]), int(calls[0])),
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


def _by_provider(conn: Connection, scope: Scope, user_pk: int) -> pd.DataFrame:
    rows = conn.execute(
        select(
            Observation.provider,
            func.count(),
            func.coalesce(func.sum(Observation.input_tokens + Observation.output_tokens), 0),
            func.coalesce(func.sum(Observation.cost_usd), 0.0),
            _unpriced(),
        )
        .where(llm_call_where(scope), Observation.user_id == user_pk)
        .group_by(Observation.provider)
    ).all()
    records = [(p or NO_PROVIDER, int(c), int(t), float(cost), int(u)) for p, c, t, cost, u in rows]
    records.sort(key=lambda r: (-round(r[3], 9), -r[1], r[0]))
    return pd.DataFrame(
        records, columns=["provider", "calls", "tokens", "cost_usd", "unpriced_calls"]
    )


def tool_call_where(scope: Scope):
    """Tool calls of the scope: tool observations started in the period, teams, environments."""
    conditions = [
        Observation.org_id == scope.org_id,
        Observation.start_day >= scope.start_day,
        Observation.start_day <= scope.end_day,
        Observation.kind == str(ObservationKind.TOOL),
        *team_conditions(scope, Observation.team_id),
    ]
    if scope.environments is not None:
        environments = scope.environments
        conditions.append(Observation.environment.in_(environments) if environments else false())
    return and_(*conditions)


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


@dataclass(frozen=True)
class UserSessions:
    """The user's lifetime sessions, newest first, at most ``limit`` of ``matched``.

    ``rows``: ``DataFrame[session, started, ended, traces, errors, duration_s,
    tokens, cost_usd]``; ``started`` / ``ended`` = earliest trace start / latest
    trace end (naive UTC); ``errors`` = traces with status ``error``;
    ``duration_s`` = ended − started (the session time of METRICS.md);
    ``tokens`` and ``cost_usd`` sum the traces' own figures.
    ``traces_without_session`` counts the user's traces that have no session.
    """

    rows: pd.DataFrame
    matched: int
    limit: int
    traces_without_session: int


SESSION_COLUMNS = [
    "session",
    "started",
    "ended",
    "traces",
    "errors",
    "duration_s",
    "tokens",
    "cost_usd",
]


def user_sessions(
    engine: Engine,
    filters: Filters,
    *,
    user_pk: int,
    errored_only: bool = False,
    limit: int = SESSION_LIMIT,
) -> UserSessions | None:
    """The user's sessions (only those with an ``error`` trace when ``errored_only``)."""
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        if visible_user(conn, scope, user_pk) is None:
            return None
        lifetime = lifetime_scope(scope)
        mine = and_(trace_where(lifetime), Trace.user_id == user_pk)
        errors = count_if(Trace.status == str(TraceStatus.ERROR))
        grouped = (
            select(
                Trace.session_id.label("session_pk"),
                func.min(Trace.start_us).label("started"),
                func.max(Trace.end_us).label("ended"),
                func.count().label("traces"),
                errors.label("errors"),
                func.coalesce(func.sum(Trace.input_tokens + Trace.output_tokens), 0).label("tok"),
                func.coalesce(func.sum(Trace.cost_usd), 0.0).label("cost"),
            )
            .where(mine, Trace.session_id.is_not(None))
            .group_by(Trace.session_id)
        )
        if errored_only:
            grouped = grouped.having(errors > 0)
        grouped = grouped.subquery("sessions")
        matched = conn.execute(select(func.count()).select_from(grouped)).scalar_one()
        rows = conn.execute(
            select(Session.session_key, grouped)
            .join(Session, Session.id == grouped.c.session_pk)
            .order_by(grouped.c.started.desc(), Session.session_key)
            .limit(max(limit, 0))
        ).all()
        without = conn.execute(
            select(func.count()).where(mine, Trace.session_id.is_(None))
        ).scalar_one()
    return UserSessions(
        rows=_session_frame(rows),
        matched=int(matched),
        limit=limit,
        traces_without_session=int(without),
    )


def _session_frame(rows: list) -> pd.DataFrame:
    records = [
        (
            row.session_key,
            pd.Timestamp(int(row.started), unit="us"),
            None if row.ended is None else pd.Timestamp(int(row.ended), unit="us"),
            int(row.traces),
            int(row.errors),
            None if row.ended is None else (int(row.ended) - int(row.started)) / 1_000_000,
            int(row.tok),
            float(row.cost),
        )
        for row in rows
    ]
    frame = pd.DataFrame(records, columns=SESSION_COLUMNS)
    frame["ended"] = pd.to_datetime(frame["ended"])
    return frame


AUDIT_COLUMNS = ["time", "actor", "action", "target", "details"]


def user_audit_events(
    engine: Engine, filters: Filters, *, user_pk: int, limit: int = AUDIT_LIMIT
) -> pd.DataFrame | None:
    """The organization's audit events by or about the user, newest first, at most ``limit``.

    An event matches when its ``actor`` or its ``target`` equals the user's
    external id or (non-empty) email: audit events name people by the identity
    they act under, and an admin's change to a user (invite, removal) names the
    user as target. Lifetime like the rest of the detail; audit events carry no
    team or environment, so those filters do not narrow them (the user must be
    visible to the scope, else ``None``).
    """
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        profile = visible_user(conn, scope, user_pk)
        if profile is None:
            return None
        names = [profile.external_id] + ([profile.email] if profile.email else [])
        rows = conn.execute(
            select(
                AuditEvent.ts_us,
                AuditEvent.actor,
                AuditEvent.action,
                AuditEvent.target,
                AuditEvent.details,
            )
            .where(
                AuditEvent.org_id == scope.org_id,
                or_(AuditEvent.actor.in_(names), AuditEvent.target.in_(names)),
            )
            .order_by(AuditEvent.ts_us.desc(), AuditEvent.id.desc())
            .limit(max(limit, 0))
        ).all()
    records = [
        (from_us(int(ts)).replace(tzinfo=None), actor, action, target, details)
        for ts, actor, action, target, details in rows
    ]
    frame = pd.DataFrame(records, columns=AUDIT_COLUMNS)
    frame["time"] = pd.to_datetime(frame["time"])
    return frame
