"""The evaluator against a real store with a fake clock: spans at chosen times, rules evaluated
as of chosen instants, values checked against plain Python over the same spans."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from telemetry.alerts.access import cli_account
from telemetry.alerts.budgets import BudgetSpec, list_budgets, set_budget
from telemetry.alerts.evaluate import evaluate_all
from telemetry.alerts.history import alert_history
from telemetry.alerts.rules import RuleSpec, save_rule
from telemetry.alerts.tables import AlertRule, AlertState
from telemetry.models import SpanStatus, TraceStatus
from telemetry.timeutil import US_PER_SECOND, to_us
from tests.factories import Dataset, generation, root

ADMIN = cli_account("tester")
DAY = datetime(2026, 3, 2)


def at(moment: datetime) -> int:
    return to_us(moment)


@pytest.fixture
def store(engine):
    """Team alpha (ana, al) and beta (bo): 10 alpha runs on 2 March, 6 of them errors;
    4 beta runs on 1 and 2 March, none failed. Every run makes one LLM call."""
    ds = Dataset(engine)
    ds.user("ana", team="alpha")
    ds.user("al", team="alpha")
    ds.user("bo", team="beta")
    for index in range(10):
        failed = index < 6
        ds.trace(
            f"a{index}",
            user="ana" if index % 2 else "al",
            agent="helper",
            start=DAY + timedelta(hours=9, minutes=index),
            spans=[
                root(status=SpanStatus.ERROR if failed else SpanStatus.OK),
                generation(
                    "m1",
                    seconds=1.0 + index,
                    input_tokens=100,
                    output_tokens=10,
                    cost_usd=0.5,
                    status=SpanStatus.ERROR if index == 0 else SpanStatus.OK,
                ),
            ],
        )
    for index in range(4):
        ds.trace(
            f"b{index}",
            user="bo",
            agent="scout",
            start=DAY - timedelta(days=index % 2) + timedelta(hours=15),
            spans=[root(), generation("m2", seconds=3.0, input_tokens=1000, cost_usd=2.0)],
        )
    return ds


def rule(store, **fields) -> int:
    spec = RuleSpec(
        org="default", **{"name": "r", "metric": "error_rate", "window": "7d", **fields}
    )
    return save_rule(store.engine, ADMIN, spec)


def states(engine, rule_id: int) -> dict[str, tuple[str, float | None]]:
    with engine.connect() as conn:
        rows = conn.execute(select(AlertState).where(AlertState.rule_id == rule_id)).all()
    return {row.group_key: (row.state, row.value) for row in rows}


def error_rate(traces, *, team_of=None) -> float:
    finished = [t for t in traces if t["status"] != TraceStatus.RUNNING]
    return sum(t["status"] == TraceStatus.ERROR for t in finished) / len(finished)


def test_error_rate_rule_fires_then_resolves_with_history(store):
    rule_id = rule(store, teams=("alpha",), threshold=0.5, warn_threshold=0.3, no_data="ok")
    alpha = [t for t in store.traces if t["team_id"] == store.teams["alpha"]]
    expected = error_rate(alpha)  # 6 of 10
    first = at(datetime(2026, 3, 3))
    result = evaluate_all(store.engine, first)
    assert (result.rules, result.changes, result.broken) == (1, 1, [])
    assert states(store.engine, rule_id) == {"": ("ALERT", pytest.approx(expected))}
    # A week later the 7-day window holds no run: no data, which this rule takes as OK.
    later = first + 7 * 86_400 * US_PER_SECOND
    assert evaluate_all(store.engine, later).changes == 1
    entries = alert_history(store.engine, ADMIN, "default", rule_id=rule_id)
    assert [(e.previous_state, e.state) for e in entries] == [("ALERT", "OK"), ("OK", "ALERT")]
    fired = entries[1]
    assert fired.value == pytest.approx(expected) and fired.threshold == 0.5
    assert fired.window == "7d" and fired.at_us == first
    assert "status=error" in fired.url and "team=alpha" in fired.url
    assert "resolved after 10080 min" in entries[0].message
    # Evaluating the same instant again changes nothing: each change is stored once.
    assert evaluate_all(store.engine, later).changes == 0


def test_agent_model_and_user_scopes_read_only_their_rows(store):
    calls = store.observations
    llm = [c for c in calls if c["kind"] == "generation"]
    cases = {
        "agent": ({"agent": "scout"}, sum(c["cost_usd"] for c in llm if c["agent"] == "scout")),
        "model": ({"model": "m1"}, sum(c["cost_usd"] for c in llm if c["model"] == "m1")),
        "user": (
            {"user": "ana"},
            sum(c["cost_usd"] for c in llm if c["user_id"] == store.user_id("ana")),
        ),
    }
    ids = {
        name: rule(store, name=name, metric="cost_usd", window="mtd", threshold=1000, **scope)
        for name, (scope, _) in cases.items()
    }
    evaluate_all(store.engine, at(datetime(2026, 3, 3)))
    for name, (_, expected) in cases.items():
        assert states(store.engine, ids[name])[""] == ("OK", pytest.approx(expected)), name


def test_model_scope_error_rate_and_latency_are_of_that_models_calls(store):
    m1 = [c for c in store.observations if c["model"] == "m1"]
    durations = sorted((c["end_us"] - c["start_us"]) / 1000 for c in m1)
    rank = (len(durations) - 1) * 0.95  # numpy's default percentile, by hand
    low = math.floor(rank)
    p95 = durations[low] + (rank - low) * (durations[low + 1] - durations[low])
    errors = rule(store, name="e", model="m1", threshold=0.05)
    latency = rule(store, name="l", model="m1", metric="latency_p95_ms", threshold=1e9)
    mean = rule(store, name="m", agent="helper", metric="latency_avg_ms", threshold=1e9)
    evaluate_all(store.engine, at(datetime(2026, 3, 3)))
    failed = sum(c["status"] == SpanStatus.ERROR for c in m1) / len(m1)
    assert states(store.engine, errors)[""] == ("ALERT", pytest.approx(failed))  # 1 of 10
    assert states(store.engine, latency)[""][1] == pytest.approx(p95)
    assert states(store.engine, mean)[""][1] == pytest.approx(sum(durations) / len(durations))


def test_each_team_gives_one_alert_per_team(store):
    rule_id = rule(store, group_by="team", threshold=0.2)
    evaluate_all(store.engine, at(datetime(2026, 3, 3)))
    found = states(store.engine, rule_id)
    assert found["alpha"] == ("ALERT", pytest.approx(0.6))
    assert found["beta"] == ("OK", 0.0)
    entries = alert_history(store.engine, ADMIN, "default", rule_id=rule_id)
    assert [(e.group, e.state) for e in entries] == [("alpha", "ALERT")]


def test_a_minimum_of_runs_keeps_a_rule_quiet(store):
    quiet = rule(store, name="quiet", teams=("beta",), metric="runs", threshold=1, min_runs=5)
    loud = rule(store, name="loud", teams=("beta",), metric="runs", threshold=1, min_runs=4)
    evaluate_all(store.engine, at(datetime(2026, 3, 3)))
    assert states(store.engine, quiet)[""][0] == "OK"  # 4 runs < 5: quiet
    assert states(store.engine, loud)[""] == ("ALERT", 4)


def test_a_broken_rule_is_marked_and_the_others_still_evaluate(store):
    broken = rule(store, name="broken", threshold=0.1)
    fine = rule(store, name="fine", threshold=0.1)
    with store.engine.begin() as conn:  # damaged behind the checks' back
        conn.execute(update(AlertRule).where(AlertRule.id == broken).values(metric="nonsense"))
    result = evaluate_all(store.engine, at(datetime(2026, 3, 3)))
    assert [rule_id for rule_id, _ in result.broken] == [broken]
    assert "nonsense" in result.broken[0][1]
    assert states(store.engine, fine)[""][0] == "ALERT"
    with store.engine.connect() as conn:
        marked = conn.execute(select(AlertRule.last_error).where(AlertRule.id == broken)).scalar()
    assert "nonsense" in marked


def test_budget_spent_forecast_run_out_and_notices_once(store):
    alpha_cost = sum(
        c["cost_usd"] for c in store.observations if c["team_id"] == store.teams["alpha"]
    )  # all on 2 March: 5.0
    set_budget(store.engine, ADMIN, BudgetSpec("default", "team", "alpha", monthly_usd=20))
    today = date(2026, 3, 2)
    (status,) = list_budgets(store.engine, ADMIN, "default", today)
    rate = alpha_cost / 2  # two elapsed days, today included
    assert status.as_json() | {"id": 0} == {
        "id": 0,
        "scope": "team:alpha",
        "budget_usd": 20,
        "spent_usd": pytest.approx(alpha_cost),
        "remaining_usd": pytest.approx(20 - alpha_cost),
        "forecast_usd": pytest.approx(rate * 31),
        "run_out_date": date(2026, 3, math.ceil(20 / rate)).isoformat(),
        "used_share": pytest.approx(alpha_cost / 20),
        "state": "OK",
        "levels": [50, 80, 100],
        "budget_tokens": None,
        "spent_tokens": None,
        "month": "2026-03",
    }
    evaluate_all(store.engine, at(datetime(2026, 3, 3)))
    evaluate_all(store.engine, at(datetime(2026, 3, 3, 0, 1)))
    notices = alert_history(store.engine, ADMIN, "default")
    assert [entry.message for entry in notices] == [
        "Budget team:alpha: projected to exceed $20.00 on 08 Mar at the current rate "
        "(month-end forecast $77.50)"
    ]


def test_report_module_lists_states_history_and_budgets_in_the_readers_scope(store):
    from telemetry.filters import Filters
    from telemetry.reports.builder import build_report
    from telemetry.reports.model import ReportFormat, ReportRequest

    rule(store, name="alpha errors", teams=("alpha",), threshold=0.5)
    rule(store, name="beta errors", teams=("beta",), threshold=0.5)
    set_budget(store.engine, ADMIN, BudgetSpec("default", "team", "alpha", monthly_usd=20))
    set_budget(store.engine, ADMIN, BudgetSpec("default", "team", "beta", monthly_usd=20))
    evaluate_all(store.engine, at(datetime(2026, 3, 3)))
    items = ("alerts.states", "alerts.history", "alerts.budgets")

    def tables(teams):
        request = ReportRequest(
            filters=Filters(date(2026, 3, 1), date(2026, 3, 31), teams=teams),
            format=ReportFormat.HTML,
            items=items,
            generated_by="someone",
            generated_at_us=at(datetime(2026, 3, 2, 12)),
        )
        report = build_report(store.engine, request)
        assert not report.failed
        return [result.block.frame for result in report.results]

    states_, history_, budgets_ = tables(None)
    assert states_[["name", "state"]].values.tolist() == [
        ["alpha errors", "ALERT"],
        ["beta errors", "OK"],
    ]
    # Both budgets are forecast over $20 (alpha 5/2 x 31, beta 8/2 x 31); the alpha rule fired.
    assert history_["state"].tolist() == ["WARNING", "WARNING", "ALERT"]
    assert history_["message"].str.startswith("Budget team:beta").tolist() == [True, False, False]
    assert budgets_["scope"].tolist() == ["team:alpha", "team:beta"]
    assert budgets_["spent_usd"].tolist() == ["$5.00", "$8.00"]
    states_, history_, budgets_ = tables(("beta",))  # a beta manager's report
    assert states_["name"].tolist() == ["beta errors"]
    assert history_["message"].str.startswith("Budget team:beta").tolist() == [True]
    assert budgets_["scope"].tolist() == ["team:beta"]


def test_sub_day_windows_end_exactly_at_the_evaluation_time(store):
    # alpha's runs start at 09:00 ... 09:09 on 2 March; a0..a5 failed, a6..a9 did not.
    hour = rule(store, name="hour", window="1h", teams=("alpha",), metric="runs", threshold=1e9)
    quarter = rule(store, name="q", window="15m", teams=("alpha",), threshold=0.9, min_runs=1)
    cost = rule(store, name="mtd", window="mtd", teams=("alpha",), metric="cost_usd", threshold=1e9)
    moment = DAY + timedelta(hours=9, minutes=6)  # a0..a5 started before it
    evaluate_all(store.engine, at(moment))
    alpha = [t for t in store.traces if t["team_id"] == store.teams["alpha"]]
    before = [t for t in alpha if t["start_us"] < at(moment)]
    assert states(store.engine, hour)[""][1] == len(before) == 6
    assert states(store.engine, quarter)[""] == ("ALERT", 1.0)  # only the failed six so far
    calls = [c for c in store.observations if c["team_id"] == store.teams["alpha"]]
    spent = sum(c["cost_usd"] for c in calls if c["start_us"] < at(moment))
    assert states(store.engine, cost)[""][1] == pytest.approx(spent)
    later = DAY + timedelta(hours=9, minutes=16)  # [09:01, 09:16): a1..a9, a1..a5 failed
    evaluate_all(store.engine, at(later))
    assert states(store.engine, quarter)[""] == ("OK", pytest.approx(5 / 9))
