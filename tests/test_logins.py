"""Failed-login rate limit and login audit events, kept in audit_event (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

from sqlalchemy import select

from telemetry import logins
from telemetry.logins import LOCKED, LOGIN, LOGIN_FAILED, WRONG_PASSWORD
from telemetry.models import AuditEvent, Organization
from telemetry.store import ensure_org
from telemetry.timeutil import US_PER_SECOND

MINUTE = 60 * US_PER_SECOND
T0 = 1_800_000_000 * US_PER_SECOND  # an arbitrary fixed moment


def fail(engine, username: str, minute: float, reason: str = WRONG_PASSWORD) -> None:
    logins.record_auth_event(
        engine, LOGIN_FAILED, username, details={"reason": reason}, at_us=T0 + int(minute * MINUTE)
    )


def test_four_failures_do_not_lock_five_do(engine):
    for minute in range(4):
        fail(engine, "mia", minute)
    assert logins.lockout(engine, "mia", at_us=T0 + 4 * MINUTE) is None
    fail(engine, "mia", 4)
    lock = logins.lockout(engine, "mia", at_us=T0 + 5 * MINUTE)
    assert lock is not None and lock.failures == 5
    # Locked until the first of those five is ten minutes old.
    assert lock.until_us == T0 + 10 * MINUTE
    assert lock.seconds_left(T0 + 5 * MINUTE) == 5 * 60


def test_lock_ends_when_the_oldest_failure_leaves_the_window(engine):
    for minute in range(5):
        fail(engine, "mia", minute)
    assert logins.lockout(engine, "mia", at_us=T0 + 10 * MINUTE - 1) is not None
    assert logins.lockout(engine, "mia", at_us=T0 + 10 * MINUTE) is None


def test_refused_attempts_during_a_lock_do_not_extend_it(engine):
    for minute in range(5):
        fail(engine, "mia", minute)
    for minute in (6, 7, 8, 9):
        fail(engine, "mia", minute, reason=LOCKED)
    assert logins.lockout(engine, "mia", at_us=T0 + 10 * MINUTE) is None


def test_a_successful_login_clears_earlier_failures(engine):
    for minute in range(4):
        fail(engine, "mia", minute)
    logins.record_auth_event(engine, LOGIN, "mia", at_us=T0 + 4 * MINUTE)
    fail(engine, "mia", 5)
    assert logins.lockout(engine, "mia", at_us=T0 + 6 * MINUTE) is None


def test_failures_of_one_username_do_not_lock_another(engine):
    for minute in range(5):
        fail(engine, "mia", minute)
    assert logins.lockout(engine, "root", at_us=T0 + 5 * MINUTE) is None


def test_auth_events_go_to_the_named_organization_else_the_default_one(engine):
    with engine.begin() as conn:
        acme = ensure_org(conn, "acme")
    logins.record_auth_event(engine, LOGIN, "mia", org="acme", at_us=T0)
    logins.record_auth_event(engine, "logout", "mia", org="gone", at_us=T0 + MINUTE)
    with engine.connect() as conn:
        default = conn.execute(select(Organization.id).where(Organization.slug == "default"))
        default_id = default.scalar()
        rows = conn.execute(
            select(AuditEvent.org_id, AuditEvent.actor, AuditEvent.action, AuditEvent.day).order_by(
                AuditEvent.id
            )
        ).all()
    day = T0 // (86_400 * US_PER_SECOND)
    assert [tuple(row) for row in rows] == [
        (acme, "mia", "login", day),
        (default_id, "mia", "logout", day),
    ]


def test_failed_login_details_say_why(engine):
    fail(engine, "ghost", 0, reason=logins.UNKNOWN_USER)
    with engine.connect() as conn:
        details = conn.execute(select(AuditEvent.details)).scalar()
    assert json.loads(details) == {"reason": "unknown_user"}
