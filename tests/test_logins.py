"""Wrong-password throttling and login audit events (SQLite and PostgreSQL), on a test clock."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from telemetry import login_throttle as throttle
from telemetry import logins
from telemetry.db import make_engine
from telemetry.logins import LOGIN, LOGIN_FAILED
from telemetry.models import AuditEvent
from telemetry.timeutil import US_PER_SECOND

SECOND = US_PER_SECOND
T0 = 1_800_000_000 * SECOND  # an arbitrary fixed moment
ATTACKER = "203.0.113.9"
OWNER = "198.51.100.7"


def expected_wait_s(failures: int) -> int:
    """The documented schedule: 3 free, then 1 s doubling, at most 5 minutes."""
    return 0 if failures < 3 else min(300, 2 ** (failures - 3))


def fail_when_allowed(engine, name: str, address: str, now: int) -> int:
    """Wait as long as the throttle asks, then fail once; return the new time."""
    refusal = throttle.check_attempt(engine, name, address, at_us=now)
    if refusal is not None:
        now += refusal.wait_us
        assert throttle.check_attempt(engine, name, address, at_us=now) is None
    throttle.record_failure(engine, name, address, at_us=now)
    return now


def test_waits_grow_with_each_failure_and_are_capped(engine):
    now = T0
    for failures in range(1, 16):
        now = fail_when_allowed(engine, "mia", ATTACKER, now)
        refusal = throttle.check_attempt(engine, "mia", ATTACKER, at_us=now)
        wait = expected_wait_s(failures)
        if wait == 0:
            assert refusal is None, failures
            continue
        assert refusal is not None, failures
        assert refusal.wait_us == wait * SECOND, failures
        # One microsecond before the wait is over: still refused; at its end: allowed.
        assert throttle.check_attempt(engine, "mia", ATTACKER, at_us=now + wait * SECOND - 1)
    assert expected_wait_s(15) == 300


def test_turned_away_attempts_do_not_extend_the_wait(engine):
    now = T0
    for _ in range(5):
        now = fail_when_allowed(engine, "mia", ATTACKER, now)
    first = throttle.check_attempt(engine, "mia", ATTACKER, at_us=now)
    assert first is not None and first.wait_us == 4 * SECOND
    for step in range(1, 4):  # hammering during the wait changes nothing
        refusal = throttle.check_attempt(engine, "mia", ATTACKER, at_us=now + step * SECOND)
        assert refusal is not None and refusal.wait_us == (4 - step) * SECOND
    assert throttle.check_attempt(engine, "mia", ATTACKER, at_us=now + 4 * SECOND) is None


def test_the_rightful_users_address_is_not_held_back_by_someone_hammering_the_name(engine):
    now = T0
    for _ in range(40):
        now = fail_when_allowed(engine, "admin", ATTACKER, now)
    assert throttle.check_attempt(engine, "admin", ATTACKER, at_us=now) is not None
    assert throttle.check_attempt(engine, "admin", OWNER, at_us=now) is None
    throttle.record_success(engine, "admin", OWNER)
    assert throttle.check_attempt(engine, "admin", OWNER, at_us=now) is None


def test_an_address_failing_on_many_names_is_slowed_on_every_name(engine):
    now = T0
    for index in range(5):
        throttle.record_failure(engine, f"user{index}", ATTACKER, at_us=now)
    refusal = throttle.check_attempt(engine, "someone-else", ATTACKER, at_us=now)
    assert refusal is not None and refusal.because == throttle.ADDRESS
    assert refusal.wait_us == expected_wait_s(5) * SECOND


def test_spread_out_guessing_slows_each_address_after_its_first_failure_on_the_name(engine):
    now = T0
    for index in range(10):
        throttle.record_failure(engine, "admin", f"203.0.113.{index}", at_us=now)
    # A new address gets its one try; after failing it waits as the name's 11 failures ask.
    assert throttle.check_attempt(engine, "admin", "192.0.2.50", at_us=now) is None
    throttle.record_failure(engine, "admin", "192.0.2.50", at_us=now)
    refusal = throttle.check_attempt(engine, "admin", "192.0.2.50", at_us=now)
    assert refusal is not None and refusal.because == throttle.NAME
    assert refusal.wait_us == expected_wait_s(11) * SECOND


def test_parallel_attempts_cannot_share_one_slot(engine):
    now = T0
    for _ in range(4):
        now = fail_when_allowed(engine, "mia", ATTACKER, now)
    now += expected_wait_s(4) * SECOND  # the wait is over: exactly one attempt may go
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(
            pool.map(lambda _: throttle.check_attempt(engine, "mia", ATTACKER, at_us=now), range(6))
        )
    assert sum(answer is None for answer in answers) == 1


def test_failures_are_forgotten_a_day_after_the_last_one(engine):
    now = T0
    for _ in range(6):
        now = fail_when_allowed(engine, "mia", ATTACKER, now)
    later = now + throttle.FORGET_AFTER_US + 1
    assert throttle.check_attempt(engine, "mia", ATTACKER, at_us=later) is None
    throttle.record_failure(engine, "mia", ATTACKER, at_us=later)  # counts from 1 again
    assert throttle.check_attempt(engine, "mia", ATTACKER, at_us=later) is None


def test_unlock_name_and_unlock_address(engine):
    now = T0
    for _ in range(6):
        now = fail_when_allowed(engine, "mia", ATTACKER, now)
    assert throttle.unlock_name(engine, "mia") == 2  # the name, and the name from ATTACKER
    refusal = throttle.check_attempt(engine, "mia", ATTACKER, at_us=now)
    assert refusal is not None and refusal.because == throttle.ADDRESS
    assert throttle.unlock_address(engine, ATTACKER) == 1
    assert throttle.check_attempt(engine, "mia", ATTACKER, at_us=now) is None


def test_the_throttle_holds_across_replicas_and_restarts(engine):
    now = T0
    for _ in range(6):
        now = fail_when_allowed(engine, "mia", ATTACKER, now)
    other = make_engine(engine.url.render_as_string(hide_password=False))  # another server
    try:
        refusal = throttle.check_attempt(other, "mia", ATTACKER, at_us=now)
        assert refusal is not None and refusal.wait_us == expected_wait_s(6) * SECOND
    finally:
        other.dispose()


def test_auth_events_are_dashboard_events_without_an_organization(engine):
    logins.record_auth_event(engine, LOGIN, "mia", at_us=T0)
    logins.record_auth_event(engine, "logout", "mia", at_us=T0 + SECOND)
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                AuditEvent.org_id,
                AuditEvent.org_slug,
                AuditEvent.actor,
                AuditEvent.action,
                AuditEvent.day,
                AuditEvent.seq,
            ).order_by(AuditEvent.id)
        ).all()
    day = T0 // (86_400 * US_PER_SECOND)
    assert [tuple(row) for row in rows] == [
        (None, "", "mia", "login", day, 1),
        (None, "", "mia", "logout", day, 2),
    ]


def test_failed_login_details_say_why_and_from_where(engine):
    details = {"reason": logins.UNKNOWN_USER, "address": ATTACKER}
    logins.record_auth_event(engine, LOGIN_FAILED, "ghost", details=details, at_us=T0)
    with engine.connect() as conn:
        stored = conn.execute(select(AuditEvent.details)).scalar()
    assert json.loads(stored) == {"reason": "unknown_user", "address": ATTACKER}
