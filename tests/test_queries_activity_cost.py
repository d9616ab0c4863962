"""Run, token and cost queries, the Overview KPIs and ``headline_metrics`` (docs/metrics.md)."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import date

import pandas as pd
import pytest

from telemetry.db import init_store, make_engine
from telemetry.queries import (
    HEADLINE_KEYS,
    KPI_KEYS,
    by_team,
    cost_by_model,
    headline_metrics,
    overview_kpis,
    run_totals,
    top_agents,
    usage_totals,
)
from telemetry.store import UnknownOrganization
from tests.conftest import _fresh_postgres_engine
from tests.edge_case_week import FILTER_CASES, build_edge_case_week, week
from tests.factories import Dataset
from tests.metrics_oracle import Oracle, expected_headline

COST_TOLERANCE = 1e-12  # float sums may differ in the last bits between backends


@pytest.fixture
def ds(engine) -> Dataset:
    return build_edge_case_week(engine)


def _without_cost(values: dict) -> tuple[dict, float]:
    rest = dict(values)
    return rest, rest.pop("cost_usd")


def test_run_totals_of_the_week_counted_by_hand(engine, ds):
    runs = run_totals(engine, week())
    assert runs.traces == 12  # t-early started on the previous Sunday, t-late on this one
    assert runs.sessions == 3  # s-ana (Tuesday and Wednesday), s-bob, s-eve
    assert runs.traces_without_session == 6
    assert (runs.ok, runs.errors, runs.timeouts, runs.running) == (9, 1, 1, 1)
    assert runs.finished == 11
    assert runs.completion_rate == 9 / 11
    assert runs.error_rate == runs.timeout_rate == 1 / 11


def test_run_totals_agree_with_the_definitions_under_every_filter(engine, ds):
    for name, filters in FILTER_CASES.items():
        assert asdict(run_totals(engine, filters)) == Oracle(ds, filters).runs(), name


def test_rates_are_none_when_nothing_finished(engine, ds):
    runs = run_totals(engine, FILTER_CASES["empty period"])
    assert (runs.traces, runs.finished) == (0, 0)
    assert runs.completion_rate is runs.error_rate is runs.timeout_rate is None


def test_generation_after_midnight_counts_on_the_day_it_started(engine, ds):
    tuesday = usage_totals(engine, week(start=date(2026, 3, 3), end=date(2026, 3, 3)))
    wednesday = usage_totals(engine, week(start=date(2026, 3, 4), end=date(2026, 3, 4)))
    # The midnight trace's first call (23:51) is Tuesday's; its second (00:05) Wednesday's,
    # with ana's 10:00 call and dan's call. The root span's repeated tokens never count.
    assert (tuesday.input_tokens, tuesday.output_tokens, tuesday.generations) == (1000, 200, 1)
    assert tuesday.cost_usd == pytest.approx(0.01, abs=COST_TOLERANCE)
    assert wednesday.input_tokens == 2000 + 500 + 100
    assert wednesday.cache_read_tokens == 1500
    assert wednesday.cache_write_tokens == 400
    assert wednesday.reasoning_tokens == 120
    assert wednesday.cost_usd == pytest.approx(0.02 + 0.005 + 0.001, abs=COST_TOLERANCE)
    assert run_totals(engine, week(start=date(2026, 3, 4), end=date(2026, 3, 4))).traces == 2


def test_usage_totals_agree_with_the_definitions_under_every_filter(engine, ds):
    for name, filters in FILTER_CASES.items():
        got, cost = _without_cost(asdict(usage_totals(engine, filters)))
        expected, expected_cost = _without_cost(Oracle(ds, filters).usage())
        assert got == expected, name
        assert cost == pytest.approx(expected_cost, abs=COST_TOLERANCE), name


def test_priced_share_counts_unpriced_calls(engine, ds):
    usage = usage_totals(engine, week())
    assert (usage.generations, usage.priced_generations) == (13, 12)  # house-model is unpriced
    assert usage.priced_share == 12 / 13
    assert usage_totals(engine, FILTER_CASES["empty period"]).priced_share is None


def test_cost_by_model_agrees_with_the_definitions_and_is_sorted_by_cost(engine, ds):
    for name, filters in FILTER_CASES.items():
        frame = cost_by_model(engine, filters)
        expected = Oracle(ds, filters).by_model()
        assert {(r.provider, r.model) for r in frame.itertuples()} == set(expected), name
        for row in frame.to_dict("records"):
            want, want_cost = _without_cost(expected[(row["provider"], row["model"])])
            got, got_cost = _without_cost(row)
            assert {k: got[k] for k in want} == want, name
            assert got_cost == pytest.approx(want_cost, abs=COST_TOLERANCE), name
        costs = [round(c, 9) for c in frame["cost_usd"]]
        assert costs == sorted(costs, reverse=True), name


def test_by_team_agrees_with_the_definitions(engine, ds):
    for name, filters in FILTER_CASES.items():
        frame = by_team(engine, filters)
        expected = Oracle(ds, filters).by_team()
        assert set(frame["team"]) == set(expected), name
        for row in frame.to_dict("records"):
            want, want_cost = _without_cost(expected[row["team"]])
            got, got_cost = _without_cost({k: v for k, v in row.items() if k != "team"})
            assert got == want, f"{name}: {row['team']}"
            assert got_cost == pytest.approx(want_cost, abs=COST_TOLERANCE), name


def test_traces_without_team_show_as_no_team_only_without_team_filter(engine, ds):
    assert "(no team)" in set(by_team(engine, week())["team"])
    assert set(by_team(engine, week(teams=("alpha", "beta")))["team"]) == {"alpha", "beta"}


def test_top_agents_rank_by_traces_with_error_rate_and_cost(engine, ds):
    for name, filters in FILTER_CASES.items():
        frame = top_agents(engine, filters)
        expected = Oracle(ds, filters).per_agent()
        assert set(frame["agent"]) == set(expected), name
        for row in frame.to_dict("records"):
            want = expected[row["agent"]]
            assert (row["traces"], row["users_active"]) == (want["traces"], want["users_active"])
            if want["error_rate"] is None:
                assert pd.isna(row["error_rate"]), name
            else:
                assert row["error_rate"] == want["error_rate"], name
            assert row["cost_usd"] == pytest.approx(want["cost_usd"], abs=COST_TOLERANCE)
    frame = top_agents(engine, week(), limit=2)
    # coder: 9 traces, one error (eve's is support's) of 8 finished; support: 1 error of 2.
    assert list(frame["agent"]) == ["coder", "support"]
    assert list(frame["error_rate"]) == [0.0, 0.5]


def test_overview_kpis_hold_this_and_the_previous_period(engine, ds):
    kpis = overview_kpis(engine, week())
    assert [k.key for k in kpis] == [key for key, _, _ in KPI_KEYS]
    for period, attribute in ((week(), "value"), (week().previous(), "previous")):
        oracle = Oracle(ds, period).scalars()
        oracle["tokens"] = oracle["input_tokens"] + oracle["output_tokens"]
        for kpi in kpis:
            expected = oracle[kpi.key]
            if kpi.key == "cost_usd":
                expected = pytest.approx(expected, abs=COST_TOLERANCE)
            assert getattr(kpi, attribute) == expected, f"{kpi.key} ({attribute})"
    by_key = {k.key: k for k in kpis}
    # Previous week (Feb 23 - Mar 1): t-gus and t-early; gus is the only new user.
    assert (by_key["traces"].previous, by_key["users_new"].previous) == (2, 1)
    assert by_key["activation_rate"].previous == 3 / 6  # bob eve gus of ana bob cyd eve gus hal
    assert by_key["tokens"].previous == 110  # t-early's call runs on Monday, in this week
    assert by_key["users_active"].change == 6 - 2


def test_headline_metrics_agree_with_the_definitions(engine, ds):
    for name, filters in FILTER_CASES.items():
        metrics = headline_metrics(engine, filters)
        assert list(metrics) == list(HEADLINE_KEYS), name
        expected = expected_headline(ds, filters)
        assert {k: metrics[k] for k in expected} == expected, name
    metrics = headline_metrics(engine, week(teams=("beta",), environments=("production",)))
    assert metrics["filters"] == {
        "org": "default",
        "from": "2026-03-02",
        "to": "2026-03-08",
        "days": 7,
        "teams": ["beta"],
        "environments": ["production"],
    }
    # eve's error trace, t-late and bob's beta trace; costs 0.006 + 0.002 (t-late's call: Monday)
    assert metrics["by_team"] == [
        {"team": "beta", "users_active": 2, "traces": 3, "cost_usd": 0.008}
    ]


def test_headline_lists_are_sorted_by_cost_then_name(engine, ds):
    metrics = headline_metrics(engine, week())
    assert [(m["model"], m["cost_usd"]) for m in metrics["by_model"]] == [
        ("gpt-4o", 0.05),  # 0.009 + 0.01 + 0.02 + 0.001 + 0.001 + 0.003 + 0.004 + 0.002
        ("claude-sonnet-4-5", 0.011),  # 0.005 + 0.006 (t-late's call is after Sunday)
        ("mistral-large-latest", 0.002),
        ("text-embedding-3-small", 0.00001),
        ("house-model", 0.0),
    ]
    assert [t["team"] for t in metrics["by_team"]] == ["alpha", "beta", "(no team)"]


def test_sqlite_and_postgresql_give_identical_headline_metrics(sqlite_engine, postgres_admin_url):
    """Same dataset written to both backends side by side; the dicts must be equal.

    The ``engine``-parametrised tests already check each backend against the same
    independent expectations; this one compares the backends to each other
    directly, lists and rounding included, so a difference that both expectations
    would tolerate (e.g. ordering of ties) still shows.
    """
    postgres_engine, drop = _fresh_postgres_engine(postgres_admin_url)
    try:
        init_store(postgres_engine)
        build_edge_case_week(sqlite_engine)
        build_edge_case_week(postgres_engine, reverse=True)
        for name, filters in FILTER_CASES.items():
            on_sqlite = headline_metrics(sqlite_engine, filters)
            on_postgres = headline_metrics(postgres_engine, filters)
            assert on_sqlite == on_postgres, name
    finally:
        drop()


def test_the_same_data_written_in_another_order_gives_the_same_metrics(engine, tmp_path):
    forward = build_edge_case_week(engine)
    other = make_engine(f"sqlite:///{tmp_path / 'reversed.db'}")
    init_store(other)
    build_edge_case_week(other, reverse=True)
    assert forward.traces  # the dataset was written
    for name, filters in FILTER_CASES.items():
        assert headline_metrics(engine, filters) == headline_metrics(other, filters), name
    other.dispose()


def test_unknown_org_fails_every_query(engine, ds):
    filters = replace(week(), org="nope")
    for query in (run_totals, usage_totals, cost_by_model, by_team, top_agents, headline_metrics):
        with pytest.raises(UnknownOrganization):
            query(engine, filters)
