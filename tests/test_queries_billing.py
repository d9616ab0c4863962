"""The Billing page's queries against docs/metrics.md ("Tokens" and "Cost"), on both backends.

Expected values are worked out by hand from tests/users_billing_data.py or
computed in plain Python over the factory's rows (tests/metrics_oracle.py).
March's LLM calls: t1 0.10, t2 0.05, t3 0.30 (provided), t4 unpriced (6 March),
t5 0.03, t7 0.04 + 0.001 (embedding), t8 0.01 (no user), t12 0.005; t11's call
(0.2) starts on 1 April and t10's (0.5) on 2 April; g1's (0.02) in February.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from telemetry.accounts import ADMIN, MANAGER, Account
from telemetry.filters import Filters
from telemetry.models import AuditEvent, ModelPrice
from telemetry.price_admin import PriceChangeRefused, set_price_as
from telemetry.pricing import Price
from telemetry.queries import (
    billing_month,
    billing_months,
    billing_period,
    cost_by_user,
    cost_per_day_by_model,
    unpriced_models,
    usage_totals,
)
from telemetry.queries.billing import NO_USER, OTHER_MODELS, average_monthly_cost
from telemetry.queries.users import OTHER_TEAM
from telemetry.timeutil import month_number, to_us
from tests.factories import Dataset
from tests.metrics_oracle import Oracle
from tests.users_billing_data import ALPHA, BETA, MARCH, build_month

COST_TOLERANCE = 1e-9
MARCH_COST = 0.10 + 0.05 + 0.30 + 0.03 + 0.04 + 0.001 + 0.01 + 0.005
FEBRUARY, APRIL, MAY, JUNE = (month_number(date(2026, m, 1)) for m in (2, 4, 5, 6))
MARCH_NUMBER = month_number(date(2026, 3, 1))
FILTER_CASES = {
    "march": MARCH,
    "alpha": replace(MARCH, teams=(ALPHA,)),
    "beta": replace(MARCH, teams=(BETA,)),
    "no team": replace(MARCH, teams=()),
    "15 feb to 2 apr": replace(MARCH, start=date(2026, 2, 15), end=date(2026, 4, 2)),
}


@pytest.fixture
def ds(engine):
    return build_month(engine)


def test_period_figures_of_march_counted_by_hand(engine, ds):
    period = billing_period(engine, MARCH)
    assert period.cost_usd == pytest.approx(MARCH_COST, abs=COST_TOLERANCE)
    assert period.days == 31
    # 31 days at March's rate, carried over an average month of 365.25 / 12 days.
    assert period.average_monthly_cost_usd == pytest.approx(
        MARCH_COST * 30.4375 / 31, abs=COST_TOLERANCE
    )
    assert period.traces == 11  # t1-t9, t11, t12
    # openai/gpt-4o, anthropic/claude-sonnet-4, acme/acme-llm, openai/text-embedding-3-small
    assert period.active_models == 4
    assert (period.calls, period.priced_calls, period.priced_share) == (9, 8, 8 / 9)


def test_average_monthly_cost_does_not_jump_at_month_boundaries(engine, ds):
    # 15 February - 31 March: 14 + 31 = 45 days, two calendar months touched.
    period = billing_period(engine, replace(MARCH, start=date(2026, 2, 15)))
    assert period.days == 45
    assert period.cost_usd == pytest.approx(MARCH_COST + 0.02, abs=COST_TOLERANCE)
    assert period.average_monthly_cost_usd == pytest.approx(
        (MARCH_COST + 0.02) / (45 / 30.4375), abs=COST_TOLERANCE
    )
    # 28 February - 1 April touches three months in 33 days: no division by 3.
    three = billing_period(engine, replace(MARCH, start=date(2026, 2, 28), end=date(2026, 4, 1)))
    cost = MARCH_COST + 0.2  # t11's call on 1 April; February 28th has none
    assert three.days == 33
    assert three.average_monthly_cost_usd == pytest.approx(
        cost / (33 / 30.4375), abs=COST_TOLERANCE
    )
    # A 30-day period costing $257.15 (the case) is $260.90 a month, not $128.57.
    assert round(average_monthly_cost(257.15, 30), 2) == 260.90


def test_average_monthly_cost_of_a_sub_day_window_uses_fractional_days(engine, ds):
    # 6 March 00:00-12:00 holds t4's unpriced call only; 3 March 06:00-18:00 holds t2.
    start = to_us(datetime(2026, 3, 3, 6))
    half_day = Filters.window(start, start + 12 * 3_600_000_000, org=MARCH.org)
    period = billing_period(engine, half_day)
    expected = Oracle(ds, half_day).usage()["cost_usd"]
    assert period.days == 0.5
    assert period.cost_usd == pytest.approx(expected, abs=COST_TOLERANCE)
    assert period.average_monthly_cost_usd == pytest.approx(
        expected / (0.5 / 30.4375), abs=COST_TOLERANCE
    )


def test_period_figures_agree_with_the_definitions_under_every_filter(engine, ds):
    for name, filters in FILTER_CASES.items():
        oracle = Oracle(ds, filters)
        usage = oracle.usage()
        period = billing_period(engine, filters)
        days = (filters.end - filters.start).days + 1
        assert period.cost_usd == pytest.approx(usage["cost_usd"], abs=COST_TOLERANCE), name
        assert period.average_monthly_cost_usd == pytest.approx(
            usage["cost_usd"] * 30.4375 / days, abs=COST_TOLERANCE
        ), name
        assert period.traces == len(oracle.traces), name
        assert period.active_models == len(oracle.by_model()), name
        assert period.priced_share == usage["priced_share"], name


def test_month_end_forecast_of_a_known_month(engine, ds):
    month = billing_month(engine, MARCH, month=MARCH_NUMBER, today=date(2026, 3, 20))
    mtd = 0.10 + 0.05 + 0.30 + 0.03 + 0.04 + 0.001 + 0.01  # calls of 1-20 March
    assert month.in_progress
    assert (month.elapsed_days, month.days_in_month) == (20, 31)
    assert month.cost_usd == pytest.approx(mtd, abs=COST_TOLERANCE)
    assert month.forecast_usd == pytest.approx(mtd / 20 * 31, abs=COST_TOLERANCE)
    assert (month.calls, month.priced_calls) == (8, 7)


def test_elapsed_days_include_today_and_calls_after_it_wait(engine, ds):
    # On 5 March: t1, t2 and t3; t4's call starts just after midnight, on the 6th.
    fifth = billing_month(engine, MARCH, month=MARCH_NUMBER, today=date(2026, 3, 5))
    assert fifth.elapsed_days == 5
    assert fifth.cost_usd == pytest.approx(0.45, abs=COST_TOLERANCE)
    assert fifth.forecast_usd == pytest.approx(0.45 / 5 * 31, abs=COST_TOLERANCE)
    first = billing_month(engine, MARCH, month=MARCH_NUMBER, today=date(2026, 3, 1))
    assert (first.elapsed_days, first.cost_usd, first.forecast_usd) == (1, 0.0, 0.0)


def test_a_call_just_after_midnight_on_the_1st_belongs_to_the_new_month(engine, ds):
    april = billing_month(engine, MARCH, month=APRIL, today=date(2026, 4, 15))
    assert april.cost_usd == pytest.approx(0.2 + 0.5, abs=COST_TOLERANCE)  # t11's and t10's
    assert april.forecast_usd == pytest.approx(0.7 / 15 * 30, abs=COST_TOLERANCE)


def test_a_past_month_is_whole_and_has_no_forecast(engine, ds):
    february = billing_month(engine, MARCH, month=FEBRUARY, today=date(2026, 3, 20))
    assert not february.in_progress
    assert february.cost_usd == pytest.approx(0.02, abs=COST_TOLERANCE)
    assert (february.elapsed_days, february.days_in_month, february.forecast_usd) == (28, 28, None)
    assert (february.first_day, february.last_day) == (date(2026, 2, 1), date(2026, 2, 28))


def test_a_month_after_today_has_nothing_yet(engine, ds):
    may = billing_month(engine, MARCH, month=MAY, today=date(2026, 4, 15))
    assert (may.cost_usd, may.elapsed_days, may.forecast_usd, may.in_progress) == (
        0.0,
        0,
        None,
        False,
    )


def test_billing_month_keeps_the_team_filter_not_the_period(engine, ds):
    beta = billing_month(
        engine,
        replace(MARCH, teams=(BETA,), end=date(2026, 3, 1)),
        month=MARCH_NUMBER,
        today=date(2026, 3, 31),
    )
    assert beta.cost_usd == pytest.approx(0.041, abs=COST_TOLERANCE)  # cyd's t7


def test_months_offered_are_those_with_calls_and_the_current_one(engine, ds):
    assert billing_months(engine, MARCH, today=date(2026, 6, 1)) == [
        JUNE,
        APRIL,
        MARCH_NUMBER,
        FEBRUARY,
    ]
    assert billing_months(engine, MARCH, today=date(2026, 3, 20)) == [APRIL, MARCH_NUMBER, FEBRUARY]
    beta = replace(MARCH, teams=(BETA,))
    assert billing_months(engine, beta, today=date(2026, 6, 1)) == [JUNE, MARCH_NUMBER]


def test_an_organization_without_calls_offers_the_current_month(engine, ds):
    Dataset(engine, org="empty")
    assert billing_months(engine, replace(MARCH, org="empty"), today=date(2026, 3, 9)) == [
        MARCH_NUMBER
    ]


def test_cost_by_user_adds_up_to_the_total(engine, ds):
    users = cost_by_user(engine, MARCH)
    rows = users.rows.set_index("user")
    assert rows.index.tolist() == ["ana", "cyd", "bob", NO_USER]
    assert rows.loc["ana", "cost_usd"] == pytest.approx(0.45, abs=COST_TOLERANCE)
    assert (rows.loc["ana", "calls"], rows.loc["ana", "unpriced_calls"]) == (4, 1)
    assert rows.loc["ana", "priced_share"] == 0.75
    assert rows.loc["cyd", "input_tokens"] == 400 + 1000 + 50
    assert rows.loc[NO_USER, "cost_usd"] == pytest.approx(0.01, abs=COST_TOLERANCE)
    assert rows["cost_usd"].sum() == pytest.approx(MARCH_COST, abs=COST_TOLERANCE)
    assert (users.matched, users.complete) == (4, True)


def test_cost_by_user_agrees_with_the_definitions_under_every_filter(engine, ds):
    for name, filters in FILTER_CASES.items():
        oracle = Oracle(ds, filters)
        by_id = {u["id"]: u["external_id"] for u in ds.users.values()}
        expected: dict[str, float] = {}
        for call in oracle.calls:
            user = by_id.get(call["user_id"], NO_USER)
            expected[user] = expected.get(user, 0.0) + call["cost_usd"]
        rows = cost_by_user(engine, filters).rows
        got = dict(zip(rows["user"], rows["cost_usd"], strict=True))
        assert set(got) == set(expected), name
        for user, cost in expected.items():
            assert got[user] == pytest.approx(cost, abs=COST_TOLERANCE), (name, user)


def test_cost_by_user_is_capped_costliest_first_and_hides_other_team_names(engine, ds):
    capped = cost_by_user(engine, MARCH, limit=2)
    assert capped.rows["user"].tolist() == ["ana", "cyd"]
    assert (capped.matched, capped.complete) == (4, False)
    alpha = cost_by_user(engine, replace(MARCH, teams=(ALPHA,))).rows.set_index("user")
    assert alpha.index.tolist() == ["ana", "bob", NO_USER, "cyd"]
    assert alpha.loc["cyd", "team"] == OTHER_TEAM
    assert alpha.loc["cyd", "cost_usd"] == pytest.approx(0.005, abs=COST_TOLERANCE)


def test_cost_per_day_stacked_by_model_groups_the_smaller_models(engine, ds):
    daily = cost_per_day_by_model(engine, MARCH, top=2)
    cells = {(row.day.day, row.model): row.cost_usd for row in daily.itertuples()}
    # Costliest models: claude-sonnet-4 (0.30) and gpt-4o (0.235); acme-llm and the
    # embedding model are summed as "(other models)".
    expected = {
        (2, "gpt-4o"): 0.15,
        (5, "claude-sonnet-4"): 0.30,
        (6, OTHER_MODELS): 0.0,
        (10, "gpt-4o"): 0.03,
        (12, "gpt-4o"): 0.04,
        (12, OTHER_MODELS): 0.001,
        (15, "gpt-4o"): 0.01,
        (25, "gpt-4o"): 0.005,
    }
    assert set(cells) == set(expected)
    for key, cost in expected.items():
        assert cells[key] == pytest.approx(cost, abs=COST_TOLERANCE), key
    assert daily["day"].is_monotonic_increasing


def test_unpriced_models_with_their_calls(engine, ds):
    unpriced = unpriced_models(engine, MARCH)
    assert unpriced.to_dict("records") == [
        {"provider": "acme", "model": "acme-llm", "unpriced_calls": 1, "calls": 1}
    ]
    assert unpriced_models(engine, replace(MARCH, teams=(BETA,))).empty


ROOT = Account(username="root", name="Root", role=ADMIN)
MIA = Account(username="mia", name="Mia", role=MANAGER, teams=(("default", (ALPHA,)),))


def test_a_manager_cannot_set_a_price_even_by_calling_the_server_function(engine, ds):
    with pytest.raises(PriceChangeRefused, match="only admins can set model prices"):
        set_price_as(engine, MIA, "default", "acme-llm", Price(input=2.0, output=8.0))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ModelPrice)).scalar() == 0
        actions = conn.execute(select(AuditEvent.actor, AuditEvent.action)).all()
    # The data's own 4 events, and the refusal (audited), no price change.
    assert len(actions) == 5 and ("mia", "denied") in actions
    assert not [action for _, action in actions if action.startswith("price.")]
    assert usage_totals(engine, MARCH).priced_share == 8 / 9


def test_an_admin_price_reprices_stored_calls_and_is_audited(engine, ds):
    repriced = set_price_as(
        engine, ROOT, "default", "acme-llm", Price(input=2.0, output=8.0), provider="acme"
    )
    assert repriced == 1
    usage = usage_totals(engine, MARCH)
    # t4's call: 100 input and 10 output tokens at $2 and $8 per million.
    assert usage.cost_usd == pytest.approx(MARCH_COST + (100 * 2 + 10 * 8) / 1e6, abs=1e-12)
    assert usage.priced_share == 1.0
    assert unpriced_models(engine, MARCH).empty
    with engine.connect() as conn:
        actor, action, target = conn.execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.target).order_by(
                AuditEvent.id.desc()
            )
        ).first()
    assert (actor, action, target) == ("root", "price.set", "acme-llm")
