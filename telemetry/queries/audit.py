"""Audit (Analytics page): dashboard logins, days active per account, the audit events table.

Audit events belong to an organization, or (``org_id`` NULL: logins, accounts) to
the dashboard itself and then show in every organization; they have no team or environment, so the
team and environment filters do not apply to them; the period does (by the
event's UTC day). Who may read which events is decided by the caller through
``actor``: ``None`` = every account's events (admins), a username = only that
account's own events (managers: other teams' people and actions never reach them).

- ``logins``: ``login`` events; ``failed_logins``: ``login_failed`` events.
- ``days_active`` (per dashboard account): distinct UTC days with at least one
  audit event of that account in the period. End users' active days (days with
  a trace) are a Users page figure, not this one.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import ColumnElement, Engine, and_, func, or_, select, true

from telemetry.filters import Filters
from telemetry.logins import LOGIN, LOGIN_FAILED
from telemetry.models import AuditEvent, User
from telemetry.queries.scope import count_if, resolve_scope
from telemetry.timeutil import from_us

FAILED_LOGIN_ACTIONS = (LOGIN_FAILED,)
DEFAULT_EVENT_LIMIT = 500
ACCOUNT_COLUMNS = ["account", "logins", "failed_logins", "days_active", "events", "last_seen"]
EVENT_COLUMNS = ["when", "who", "what", "target", "target_name", "details"]


def _where(org_pk: int, filters: Filters, actor: str | None) -> ColumnElement[bool]:
    conditions = [
        # The organization's events and those about the dashboard itself (logins, accounts).
        or_(AuditEvent.org_id == org_pk, AuditEvent.org_id.is_(None)),
        AuditEvent.day >= filters.start_day,
        AuditEvent.day <= filters.end_day,
    ]
    if not filters.whole_days:  # a window: its instants, not its whole days
        conditions += [AuditEvent.ts_us >= filters.start_us, AuditEvent.ts_us < filters.end_us]
    if actor is not None:
        conditions.append(AuditEvent.actor == actor)
    return and_(*conditions)


def audit_accounts(engine: Engine, filters: Filters, *, actor: str | None = None) -> pd.DataFrame:
    """Per dashboard account: ``DataFrame[ACCOUNT_COLUMNS]``, most logins first.

    ``events`` = all its audit events in the period, ``last_seen`` = the time
    (naive UTC) of the latest one. ``actor`` restricts to one account.
    """
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        rows = conn.execute(
            select(
                AuditEvent.actor,
                count_if(AuditEvent.action == LOGIN),
                count_if(AuditEvent.action.in_(FAILED_LOGIN_ACTIONS)),
                func.count(func.distinct(AuditEvent.day)),
                func.count(),
                func.max(AuditEvent.ts_us),
            )
            .where(_where(scope.org_id, filters, actor))
            .group_by(AuditEvent.actor)
        ).all()
    records = [
        (who, int(logins), int(failed), int(days), int(events), _naive(last))
        for who, logins, failed, days, events, last in rows
    ]
    records.sort(key=lambda r: (-r[1], -r[4], r[0]))
    return pd.DataFrame(records, columns=ACCOUNT_COLUMNS)


@dataclass(frozen=True)
class AuditEvents:
    """The newest ``len(events)`` of ``total`` matching audit events."""

    events: pd.DataFrame
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.events)


def audit_events(
    engine: Engine,
    filters: Filters,
    *,
    actor: str | None = None,
    search: str = "",
    limit: int = DEFAULT_EVENT_LIMIT,
) -> AuditEvents:
    """The period's audit events, newest first: ``DataFrame[EVENT_COLUMNS]`` and the match count.

    ``search`` keeps events whose account, action, target or details contain
    it (case-insensitive, plain text: ``%`` and ``_`` match themselves).
    ``when`` is naive UTC; ``target_name`` is the name of the end user whose id the
    target is (the target itself otherwise); ``details`` the stored JSON text, ``None``
    when empty. At most ``limit`` rows.
    """
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        where = and_(_where(scope.org_id, filters, actor), _matches(search))
        total = conn.execute(select(func.count()).select_from(AuditEvent).where(where)).scalar()
        rows = conn.execute(
            select(
                AuditEvent.ts_us,
                AuditEvent.actor,
                AuditEvent.action,
                AuditEvent.target,
                func.coalesce(func.nullif(User.name, ""), AuditEvent.target),
                AuditEvent.details,
            )
            .select_from(AuditEvent)
            .outerjoin(
                User, and_(User.org_id == scope.org_id, User.external_id == AuditEvent.target)
            )
            .where(where)
            .order_by(AuditEvent.ts_us.desc(), AuditEvent.id.desc())
            .limit(max(limit, 0))
        ).all()
    records = [
        (_naive(ts), who, what, target, name, None if details in ("", "{}") else details)
        for ts, who, what, target, name, details in rows
    ]
    return AuditEvents(events=pd.DataFrame(records, columns=EVENT_COLUMNS), total=int(total))


def _matches(search: str) -> ColumnElement[bool]:
    text = search.strip().lower()
    if not text:
        return true()
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    columns = (AuditEvent.actor, AuditEvent.action, AuditEvent.target, AuditEvent.details)
    return or_(*(func.lower(column).like(pattern, escape="\\") for column in columns))


def _naive(ts_us: int | None) -> pd.Timestamp | None:
    return None if ts_us is None else pd.Timestamp(from_us(int(ts_us)).replace(tzinfo=None))
