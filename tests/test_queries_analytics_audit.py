"""Audit on the Analytics page: logins, days active per dashboard account, the events table."""

from __future__ import annotations

import json
from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import insert

from telemetry.filters import Filters
from telemetry.logins import record_auth_event
from telemetry.models import AuditEvent
from telemetry.queries import audit_accounts, audit_events
from telemetry.store import ensure_org
from telemetry.timeutil import day_of_us, to_us

WEEK = Filters(start=date(2026, 3, 2), end=date(2026, 3, 8))


def _event(engine, actor: str, action: str, at: datetime, org: str = "default", **details):
    with engine.begin() as conn:
        ts = to_us(at)
        conn.execute(
            insert(AuditEvent).values(
                org_id=ensure_org(conn, org),
                ts_us=ts,
                day=day_of_us(ts),
                actor=actor,
                action=action,
                target=details.pop("target", ""),
                details=json.dumps(details),
            )
        )


@pytest.fixture
def trail(engine):
    """mia logs in Mon and twice Tue (one failed attempt first); root logs in Mon and sets a
    price Wed; one login the week before; one event in another organization."""
    with engine.begin() as conn:
        ensure_org(conn, "default")
    login = lambda who, at: record_auth_event(engine, "login", who, at_us=to_us(at))  # noqa: E731
    login("mia", datetime(2026, 3, 2, 9))
    record_auth_event(
        engine, "login_failed", "mia", at_us=to_us(datetime(2026, 3, 3, 8, 59)), details={"a": 1}
    )
    login("mia", datetime(2026, 3, 3, 9))
    login("mia", datetime(2026, 3, 3, 17))
    login("root", datetime(2026, 3, 2, 10))
    _event(engine, "root", "price.set", datetime(2026, 3, 4, 11), target="gpt-4o", input=2.5)
    login("mia", datetime(2026, 2, 27, 9))
    _event(engine, "spy", "login", datetime(2026, 3, 4, 9), org="rival")


def test_logins_and_days_active_per_account(engine, trail):
    frame = audit_accounts(engine, WEEK)
    assert frame.drop(columns="last_seen").to_dict("records") == [
        {"account": "mia", "logins": 3, "failed_logins": 1, "days_active": 2, "events": 4},
        {"account": "root", "logins": 1, "failed_logins": 0, "days_active": 2, "events": 2},
    ]
    assert frame["last_seen"].tolist() == [
        pd.Timestamp(2026, 3, 3, 17),
        pd.Timestamp(2026, 3, 4, 11),
    ]


def test_a_manager_reads_only_their_own_audit_events(engine, trail):
    mine = audit_accounts(engine, WEEK, actor="mia")
    assert mine["account"].tolist() == ["mia"]
    events = audit_events(engine, WEEK, actor="mia").events
    assert set(events["who"]) == {"mia"} and len(events) == 4


def test_audit_events_newest_first_with_who_what_when_details(engine, trail):
    found = audit_events(engine, WEEK)
    assert found.total == 6 and not found.truncated
    first = found.events.iloc[0]
    assert (first["who"], first["what"], first["target"]) == ("root", "price.set", "gpt-4o")
    assert first["when"] == pd.Timestamp(2026, 3, 4, 11)
    assert json.loads(first["details"]) == {"input": 2.5}
    assert found.events["when"].is_monotonic_decreasing


def test_audit_search_matches_account_action_target_and_details(engine, trail):
    assert audit_events(engine, WEEK, search="GPT-4O").events["what"].tolist() == ["price.set"]
    assert audit_events(engine, WEEK, search="failed").total == 1
    assert audit_events(engine, WEEK, search="ROOT").total == 2
    assert audit_events(engine, WEEK, search='"a": 1').total == 1  # inside details
    assert audit_events(engine, WEEK, search="%").total == 0  # plain text, not a wildcard


def test_audit_events_are_capped_and_say_how_many_matched(engine, trail):
    found = audit_events(engine, WEEK, limit=2)
    assert (len(found.events), found.total, found.truncated) == (2, 6, True)


def test_empty_period_has_no_audit_rows(engine, trail):
    empty = Filters(start=date(2025, 1, 1), end=date(2025, 1, 2))
    assert audit_accounts(engine, empty).empty
    found = audit_events(engine, empty)
    assert found.events.empty and found.total == 0


def test_an_audit_target_that_is_a_user_id_reads_as_the_users_name(engine, trail):
    from tests.factories import Dataset

    Dataset(engine).user("usr_9afb083724", name="Grace Costa")
    _event(engine, "root", "user.viewed", datetime(2026, 3, 5, 10), target="usr_9afb083724")
    rows = audit_events(engine, WEEK).events.set_index("what")
    viewed = rows.loc["user.viewed"]
    assert (viewed["target"], viewed["target_name"]) == ("usr_9afb083724", "Grace Costa")
    assert pd.isna(viewed["details"])  # "{}": nothing to show, a dash on the page
    price = rows.loc["price.set"]
    assert (price["target"], price["target_name"]) == ("gpt-4o", "gpt-4o")  # not a user
