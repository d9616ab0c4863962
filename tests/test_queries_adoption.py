"""Adoption queries against docs/metrics.md, on the edge-case week (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime

import pandas as pd
import pytest
from sqlalchemy import select

from telemetry.filters import Filters, Grouping
from telemetry.models import User
from telemetry.queries import activity_timeline, adoption, module_usage, resolve_scope
from telemetry.store import UnknownOrganization, data_version
from tests.edge_case_week import FILTER_CASES, build_edge_case_week, week
from tests.factories import Dataset
from tests.metrics_oracle import Oracle


@pytest.fixture
def ds(engine) -> Dataset:
    return build_edge_case_week(engine)


def test_adoption_of_the_week_counted_by_hand(engine, ds):
    users = adoption(engine, week())
    # Not removed and existing by Sunday's end: ana bob cyd eve gus hal ivy kim
    # (dan is removed; fay is created and first traced after the week; kim's
    # directory entry is dated April but she traced in the week).
    assert users.users_total == 8
    # Traced in the week: ana bob dan eve hal kim (dan counts: removed later, traced now).
    assert users.users_active == 6
    # First trace ever in the week: ana dan hal kim (bob and eve traced before).
    assert users.users_new == 4
    # In the total without a trace in the week: cyd (never), gus (previous week), ivy (never).
    assert users.users_inactive == 3
    # First trace by Sunday: ana bob eve gus hal kim = 6 of 8.
    assert users.activation_rate == 0.75
    assert users.active_modules == 3  # ide, chat, cli


def test_adoption_agrees_with_the_definitions_under_every_filter(engine, ds):
    for name, filters in FILTER_CASES.items():
        assert asdict(adoption(engine, filters)) == Oracle(ds, filters).adoption(), name


def test_inactive_users_exclude_active_users_of_other_teams(engine, ds):
    # Team beta: eve and ivy in the directory; eve and bob (ran a beta trace) active.
    users = adoption(engine, week(teams=("beta",)))
    assert (users.users_total, users.users_active, users.users_inactive) == (2, 2, 1)


def test_environment_filter_does_not_shrink_the_user_directory(engine, ds):
    staging = adoption(engine, week(environments=("staging",)))
    assert staging.users_total == 8
    assert staging.users_active == 1  # only ana traced in staging
    assert staging.users_inactive == 7


def test_empty_period_has_no_users_and_no_rate(engine, ds):
    users = adoption(engine, FILTER_CASES["empty period"])
    assert asdict(users) == {
        "users_total": 0,
        "users_active": 0,
        "users_new": 0,
        "users_inactive": 0,
        "activation_rate": None,
        "active_modules": 0,
        "users_activated": 0,
    }


def test_unknown_organization_is_a_helpful_lookup_error(engine, ds):
    with pytest.raises(UnknownOrganization, match=r"'nope' does not exist \(known: default\)"):
        adoption(engine, Filters(start=week().start, end=week().end, org="nope"))


def test_unknown_team_names_match_nothing(engine, ds):
    scope = resolve_scope(engine, week(teams=("alpha", "nope")))
    assert scope.team_ids == (ds.teams["alpha"],)
    assert adoption(engine, week(teams=("nope",))).users_total == 0


def test_other_organizations_never_leak_in(engine, ds):
    other = Dataset(engine, "other")
    other.team("alpha")  # same team name, other organization
    other.user("zed", team="alpha")
    other.trace("t-zed", user="zed", start=datetime(2026, 3, 4, 12))
    for filters in (week(), week(teams=("alpha",))):
        assert asdict(adoption(engine, filters)) == Oracle(ds, filters).adoption()
        mine = adoption(engine, replace(filters, org="other"))
        assert (mine.users_total, mine.users_active, mine.users_new) == (1, 1, 1)


def test_module_usage_counts_traces_and_users_per_module(engine, ds):
    for name, filters in FILTER_CASES.items():
        frame = module_usage(engine, filters)
        assert list(frame.columns) == ["module", "traces", "users_active"], name
        got = {row.module: (row.traces, row.users_active) for row in frame.itertuples()}
        assert got == Oracle(ds, filters).per_module(), name
        assert list(frame["traces"]) == sorted(frame["traces"], reverse=True), name


@pytest.mark.parametrize("grouping", list(Grouping))
def test_activity_timeline_is_zero_filled_per_bucket(engine, ds, grouping):
    for name, base in FILTER_CASES.items():
        filters = Filters(**{**asdict(base), "grouping": grouping})
        frame = activity_timeline(engine, filters)
        expected = Oracle(ds, filters).timeline()
        assert list(frame.columns) == ["bucket", "traces", "users_active"]
        got = [(b.to_pydatetime(), t, u) for b, t, u in frame.itertuples(index=False)]
        assert got == expected, f"{name} by {grouping}"


def test_weekly_timeline_buckets_start_on_monday(engine, ds):
    frame = activity_timeline(engine, week(grouping="week", end=week().end.replace(day=15)))
    assert list(frame["bucket"]) == [pd.Timestamp("2026-03-02"), pd.Timestamp("2026-03-09")]
    assert list(frame["traces"]) == [12, 0]


def test_dataset_factory_derives_traces_and_keeps_users_first_and_last_trace(engine):
    ds = Dataset(engine)
    ds.user("ana", team="alpha")
    version_before_traces = data_version(engine, "default")
    first = ds.trace("t1", user="ana", start=datetime(2026, 3, 3, 23, 50), spans=[
        ds.root(seconds=1200),
        ds.generation(at=900, input_tokens=10, cost_usd=0.5),
    ])  # fmt: skip
    version_after_first = data_version(engine, "default")
    ds.trace("t0", user="ana", start=datetime(2026, 3, 1, 8))
    # 2026-03-03 is day 20515 since 1970-01-01; the call after midnight still sums into the trace.
    assert (first["status"], first["start_day"], first["input_tokens"]) == ("ok", 20515, 10)
    assert [o["start_day"] for o in ds.observations[:2]] == [20515, 20516]
    assert first["cost_usd"] == 0.5
    with engine.connect() as conn:
        row = conn.execute(select(User).where(User.external_id == "ana")).one()
    assert row.first_trace_us == ds.traces[1]["start_us"]  # t0, written second, is earlier
    assert row.last_trace_us == first["start_us"]
    assert row.team_id == ds.teams["alpha"]
    # Every write moves the version forward, so cached results are never reused.
    assert version_before_traces < version_after_first < data_version(engine, "default")
