"""Login audit events and the failed-login rate limit, both kept in ``audit_event``.

Every login, logout and failed login is an audit event (actor = the username
typed or logged in). The rate limit is computed from those same events, so it
is kept server-side, survives a restart and holds across dashboard replicas
sharing one store: after :data:`MAX_FAILED_LOGINS` wrong passwords for one
username within :data:`FAILURE_WINDOW_US`, counted since that username's last
successful login, further attempts are refused until the oldest of those
failures leaves the window. Refused attempts are audited too (reason
``locked``) but do not extend the lock. Auth events go to the user's first
organization for a manager, else to the default organization.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select

from telemetry.db import DEFAULT_ORG
from telemetry.models import AuditEvent
from telemetry.store import UnknownOrganization, org_id
from telemetry.timeutil import US_PER_SECOND, day_of_us, now_us

LOGIN = "login"
LOGOUT = "logout"
LOGIN_FAILED = "login_failed"
MAX_FAILED_LOGINS = 5
FAILURE_WINDOW_US = 10 * 60 * US_PER_SECOND
# Reasons recorded in a login_failed event's details.
WRONG_PASSWORD = "wrong_password"
UNKNOWN_USER = "unknown_user"
LOCKED = "locked"


@dataclass(frozen=True)
class Lockout:
    """A username refused until ``until_us`` after ``failures`` recent wrong passwords."""

    username: str
    failures: int
    until_us: int

    def seconds_left(self, now: int) -> int:
        return max(1, -(-(self.until_us - now) // US_PER_SECOND))


def record_auth_event(
    engine: Engine,
    action: str,
    actor: str,
    *,
    org: str = DEFAULT_ORG,
    details: Mapping[str, Any] | None = None,
    at_us: int | None = None,
) -> None:
    """Store one login/logout/login_failed event (in ``org``, else the default organization)."""
    at_us = now_us() if at_us is None else at_us
    with engine.begin() as conn:
        try:
            org_pk = org_id(conn, org)
        except UnknownOrganization:
            org_pk = org_id(conn, DEFAULT_ORG)
        conn.execute(
            insert(AuditEvent).values(
                org_id=org_pk,
                ts_us=at_us,
                day=day_of_us(at_us),
                actor=actor[:256],
                action=action,
                target="dashboard",
                details=json.dumps(dict(details or {}), sort_keys=True),
            )
        )


def lockout(engine: Engine, username: str, *, at_us: int | None = None) -> Lockout | None:
    """The lock on ``username`` at ``at_us`` (default now), or ``None`` if it may try."""
    at_us = now_us() if at_us is None else at_us
    with engine.connect() as conn:
        rows = conn.execute(
            select(AuditEvent.ts_us, AuditEvent.action, AuditEvent.details)
            .where(
                AuditEvent.actor == username,
                AuditEvent.action.in_([LOGIN, LOGIN_FAILED]),
                AuditEvent.ts_us > at_us - FAILURE_WINDOW_US,
                AuditEvent.ts_us <= at_us,
            )
            .order_by(AuditEvent.ts_us.desc(), AuditEvent.id.desc())
        ).all()
    failures: list[int] = []
    for ts_us, action, details in rows:
        if action == LOGIN:
            break  # a successful login clears the failures before it
        if _reason(details) != LOCKED:
            failures.append(ts_us)
    if len(failures) < MAX_FAILED_LOGINS:
        return None
    # Refused until the MAX-th most recent failure is older than the window.
    until = failures[MAX_FAILED_LOGINS - 1] + FAILURE_WINDOW_US
    return Lockout(username=username, failures=len(failures), until_us=until)


def _reason(details: str) -> str:
    try:
        return str(json.loads(details or "{}").get("reason", ""))
    except (ValueError, AttributeError):
        return ""
