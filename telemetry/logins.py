"""Login audit events, kept in ``audit_event``.

Every login, logout and failed login is an audit event: actor = the user name
typed or logged in, details = the client address and, for a failure, why
(wrong password, unknown user, or turned away by telemetry.login_throttle).
Auth events go to the user's first organization for a manager, else to the
default organization.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, insert

from telemetry.db import DEFAULT_ORG
from telemetry.models import AuditEvent
from telemetry.store import UnknownOrganization, org_id
from telemetry.timeutil import day_of_us, now_us

LOGIN = "login"
LOGOUT = "logout"
LOGIN_FAILED = "login_failed"
# Reasons recorded in a login_failed event's details.
WRONG_PASSWORD = "wrong_password"
UNKNOWN_USER = "unknown_user"
THROTTLED = "throttled"


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
