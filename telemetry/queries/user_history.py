"""A user's sessions and audit events: the lists of the Users page's detail dialog.

Same scope rules as :mod:`telemetry.queries.users_detail`: the user's whole
stored history under the page's organization, team and environment filters,
and nothing at all (``None``) for a user the scope cannot see.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine, and_, func, or_, select

from telemetry.filters import Filters
from telemetry.models import AuditEvent, Session, Trace, TraceStatus
from telemetry.queries.scope import count_if, resolve_scope, trace_where
from telemetry.queries.users_detail import lifetime_scope, visible_user
from telemetry.timeutil import from_us

SESSION_LIMIT = 200
AUDIT_LIMIT = 200


@dataclass(frozen=True)
class UserSessions:
    """The user's lifetime sessions, newest first, at most ``limit`` of ``matched``.

    ``rows``: ``DataFrame[session, started, ended, traces, errors, duration_s,
    tokens, cost_usd]``; ``started`` / ``ended`` = earliest trace start / latest
    trace end (naive UTC); ``errors`` = traces with status ``error``;
    ``duration_s`` = ended − started (the session time of docs/metrics.md);
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
