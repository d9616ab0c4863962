"""Login audit events, kept in the audit trail (telemetry.audit) as dashboard events.

Every login, logout and failed login is an audit event: actor = the user name
typed or logged in, details = the client address and, for a failure, why
(wrong password, unknown user, or turned away by telemetry.login_throttle).
They are about the dashboard itself, not an organization (``org_id`` NULL):
admins see them whichever organization they look at, a manager only their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine

from telemetry.audit import record_audit

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
    details: Mapping[str, Any] | None = None,
    at_us: int | None = None,
) -> None:
    """Store one login/logout/login_failed event of the dashboard."""
    with engine.begin() as conn:
        record_audit(
            conn,
            None,
            action,
            actor=actor or "(empty)",
            target="dashboard",
            details=details,
            at_us=at_us,
        )
