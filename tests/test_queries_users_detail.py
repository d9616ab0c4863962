"""A user's detail (the Users page dialog): lifetime figures, breakdowns, sessions, audit events.

Expected values are worked out by hand from tests/users_billing_data.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pandas as pd
import pytest

from telemetry.queries import user_audit_events, user_detail, user_sessions
from telemetry.queries.users import OTHER_TEAM
from telemetry.timeutil import to_us
from tests.users_billing_data import ALPHA, BETA, MARCH, build_month

COST_TOLERANCE = 1e-9


@pytest.fixture
def ds(engine):
    return build_month(engine)


def test_lifetime_figures_of_ana_counted_by_hand(engine, ds):
    detail = user_detail(engine, MARCH, user_pk=ds.user_id("ana"))
    life = detail.lifetime
    # All time: t1, t2, t3, t4, t11 in March and t10 in April.
    assert (life.traces, life.sessions, life.errored_sessions) == (6, 2, 1)
    assert life.errored_session_rate == 0.5
    assert life.tokens == 1200 + 600 + 2300 + 110 + 11 + 120
    assert life.cost_usd == pytest.approx(0.10 + 0.05 + 0.30 + 0.2 + 0.5, abs=COST_TOLERANCE)
    assert (life.calls, life.priced_share) == (6, 5 / 6)
    # Root spans of 60, 20, 30, 120, 60 and 15 seconds.
    assert life.avg_duration_ms == pytest.approx((60 + 20 + 30 + 120 + 60 + 15) / 6 * 1000)
    assert life.active_days == 4  # 2, 5, 31 March and 2 April
    assert life.first_seen_us == to_us(datetime(2026, 3, 2, 10))
    assert life.last_seen_us == to_us(datetime(2026, 4, 2, 9))
    profile = detail.profile
    assert (profile.external_id, profile.email, profile.company, profile.team) == (
        "ana",
        "ana@acme.io",
        "Acme",
        ALPHA,
    )


def test_running_traces_have_no_duration_in_the_average(engine, ds):
    life = user_detail(engine, MARCH, user_pk=ds.user_id("cyd")).lifetime
    # t7 (40 s) and t12 (8 s) ended; t9 is still running.
    assert life.traces == 3
    assert life.avg_duration_ms == pytest.approx(24_000)


def test_thirty_day_activity_ends_on_the_periods_last_day(engine, ds):
    activity = user_detail(engine, MARCH, user_pk=ds.user_id("ana")).activity
    assert activity["day"].tolist()[0] == pd.Timestamp(2026, 3, 2)
    assert activity["day"].tolist()[-1] == pd.Timestamp(2026, 3, 31)
    expected = [0] * 30
    expected[0], expected[3], expected[29] = 2, 2, 1  # 2 March, 5 March, 31 March
    assert activity["traces"].tolist() == expected


def test_breakdowns_by_model_provider_and_tool(engine, ds):
    detail = user_detail(engine, MARCH, user_pk=ds.user_id("ana"))
    models = detail.by_model.set_index("model")
    assert models.index.tolist() == ["gpt-4o", "claude-sonnet-4", "acme-llm"]  # by cost
    assert models.loc["gpt-4o", "calls"] == 4  # t1, t2, t11, t10
    assert models.loc["gpt-4o", "input_tokens"] == 1000 + 500 + 10 + 100
    assert models.loc["gpt-4o", "output_tokens"] == 200 + 100 + 1 + 20
    assert models.loc["gpt-4o", "cost_usd"] == pytest.approx(0.85, abs=COST_TOLERANCE)
    assert models.loc["acme-llm", "unpriced_calls"] == 1
    providers = detail.by_provider.set_index("provider")
    assert providers.index.tolist() == ["openai", "anthropic", "acme"]
    assert providers.loc["anthropic", "tokens"] == 2300
    tools = detail.by_tool.to_dict("records")
    assert tools == [{"tool": "search", "calls": 2, "errors": 1, "error_rate": 0.5}]


def test_lifetime_keeps_the_team_filter(engine, ds):
    detail = user_detail(engine, replace(MARCH, teams=(ALPHA,)), user_pk=ds.user_id("cyd"))
    assert detail.profile.team == OTHER_TEAM  # cyd is in beta; seen through t12 only
    assert (detail.lifetime.traces, detail.lifetime.calls) == (1, 1)
    assert detail.lifetime.cost_usd == pytest.approx(0.005, abs=COST_TOLERANCE)


def test_a_user_outside_the_scope_has_no_detail(engine, ds):
    beta = replace(MARCH, teams=(BETA,))
    assert user_detail(engine, beta, user_pk=ds.user_id("ana")) is None
    assert user_detail(engine, beta, user_pk=ds.user_id("dee")) is None
    assert user_sessions(engine, beta, user_pk=ds.user_id("ana")) is None
    assert user_audit_events(engine, beta, user_pk=ds.user_id("ana")) is None
    assert user_detail(engine, replace(MARCH, teams=()), user_pk=ds.user_id("ana")) is None
    assert user_detail(engine, MARCH, user_pk=10_000) is None


def test_a_directory_user_without_telemetry_has_an_empty_detail(engine, ds):
    detail = user_detail(engine, replace(MARCH, teams=(ALPHA,)), user_pk=ds.user_id("dee"))
    assert detail.profile.name == "Dee Dee"
    assert (detail.lifetime.traces, detail.lifetime.cost_usd) == (0, 0.0)
    assert detail.lifetime.avg_duration_ms is None
    assert detail.by_model.empty and detail.by_tool.empty
    assert detail.activity["traces"].sum() == 0


def test_sessions_newest_first_and_the_errored_toggle(engine, ds):
    sessions = user_sessions(engine, MARCH, user_pk=ds.user_id("ana"))
    rows = sessions.rows.to_dict("records")
    assert [row["session"] for row in rows] == ["s2", "s1"]
    s1 = rows[1]
    assert (s1["traces"], s1["errors"], s1["tokens"]) == (2, 1, 1200 + 600)
    assert s1["started"] == pd.Timestamp(datetime(2026, 3, 2, 10))
    assert s1["ended"] == pd.Timestamp(datetime(2026, 3, 2, 11, 0, 20))  # t2 ends after 20 s
    assert s1["duration_s"] == 3620
    assert s1["cost_usd"] == pytest.approx(0.15, abs=COST_TOLERANCE)
    assert sessions.matched == 2
    assert sessions.traces_without_session == 3  # t4, t11, t10
    errored = user_sessions(engine, MARCH, user_pk=ds.user_id("ana"), errored_only=True)
    assert errored.rows["session"].tolist() == ["s1"]
    assert errored.matched == 1


def test_sessions_are_capped_newest_first(engine, ds):
    capped = user_sessions(engine, MARCH, user_pk=ds.user_id("ana"), limit=1)
    assert capped.rows["session"].tolist() == ["s2"]
    assert capped.matched == 2


def test_audit_events_by_or_about_the_user_by_id_or_email(engine, ds):
    events = user_audit_events(engine, MARCH, user_pk=ds.user_id("ana"))
    assert events[["actor", "action", "target"]].values.tolist() == [
        ["admin", "user.update", "ana"],  # about ana
        ["ana@acme.io", "login", ""],  # by ana, under her email
        ["ana", "export", "Users"],  # by ana, under her id
    ]
    assert events["time"].tolist()[0] == pd.Timestamp(datetime(2026, 3, 6, 9))
    bob = user_audit_events(engine, MARCH, user_pk=ds.user_id("bob"))
    assert bob["action"].tolist() == ["login"]
    # dee has no email: an empty email must not match events without a target.
    assert user_audit_events(engine, MARCH, user_pk=ds.user_id("dee")).empty
