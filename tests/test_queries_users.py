"""The Users page's queries against docs/metrics.md ("Users page"), on both backends.

Expected values are written by hand from tests/users_billing_data.py, or computed
in plain Python over the rows the factory wrote (``expected_rows``), never with
the code under test.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pandas as pd
import pytest

from telemetry.queries import cost_rollup, user_companies, user_table, users_header
from telemetry.queries.users import AVG, MEDIAN, OTHER_TEAM, SUM
from tests.metrics_oracle import Oracle
from tests.users_billing_data import ALPHA, BETA, MARCH, build_month

COST_TOLERANCE = 1e-9
FILTER_CASES = {
    "march": MARCH,
    "alpha": replace(MARCH, teams=(ALPHA,)),
    "beta": replace(MARCH, teams=(BETA,)),
    "no team": replace(MARCH, teams=()),
    "staging only": replace(MARCH, environments=("staging",)),
    "february": replace(MARCH, start=date(2026, 2, 1), end=date(2026, 2, 28)),
    "5 march": replace(MARCH, start=date(2026, 3, 5), end=date(2026, 3, 5)),
    "a whole year": replace(MARCH, start=date(2025, 6, 1), end=date(2026, 5, 31)),
}


@pytest.fixture
def ds(engine):
    return build_month(engine)


def expected_rows(ds, filters) -> dict[str, dict]:
    """docs/metrics.md "Users page", per listed user, in plain Python over the written rows."""
    oracle = Oracle(ds, filters)
    team_names = {team_id: name for name, team_id in ds.teams.items()}
    listed = {t["user_id"] for t in oracle.traces} | {c["user_id"] for c in oracle.calls}
    listed |= {u["id"] for u in oracle.directory()}
    rows = {}
    for user in ds.users.values():
        if user["id"] not in listed:
            continue
        traces = [t for t in oracle.traces if t["user_id"] == user["id"]]
        calls = [c for c in oracle.calls if c["user_id"] == user["id"]]
        sessions = {t["session_id"] for t in traces if t["session_id"] is not None}
        errored = {t["session_id"] for t in traces if t["session_id"] and t["status"] == "error"}
        team = team_names.get(user["team_id"], "")
        if oracle.team_ids is not None and user["team_id"] not in oracle.team_ids and team:
            team = OTHER_TEAM
        starts = [t["start_us"] for t in traces]
        rows[user["external_id"]] = {
            "team": team,
            "status": user["status"],
            "first_seen": pd.Timestamp(min(starts), unit="us") if starts else None,
            "last_seen": pd.Timestamp(max(starts), unit="us") if starts else None,
            "traces": len(traces),
            "sessions": len(sessions),
            "errored_sessions": len(errored),
            "errored_session_rate": len(errored) / len(sessions) if sessions else None,
            "tokens": sum(c["input_tokens"] + c["output_tokens"] for c in calls),
            "active_days": len({t["start_day"] for t in traces}),
            "cost_usd": sum(c["cost_usd"] for c in calls),
            "calls": len(calls),
            "priced_share": (
                sum(c["cost_source"] != "unpriced" for c in calls) / len(calls) if calls else None
            ),
        }
    return rows


def _shown(table) -> dict[str, dict]:
    shown = {}
    for record in table.rows.to_dict("records"):
        for key in ("first_seen", "last_seen", "errored_session_rate", "priced_share"):
            if pd.isna(record[key]):
                record[key] = None
        shown[record["external_id"]] = record
    return shown


def test_every_user_column_agrees_with_the_definitions_under_every_filter(engine, ds):
    for name, filters in FILTER_CASES.items():
        expected = expected_rows(ds, filters)
        shown = _shown(user_table(engine, filters))
        assert set(shown) == set(expected), name
        for user, values in expected.items():
            got = {key: shown[user][key] for key in values}
            cost = got.pop("cost_usd")
            want = dict(values)
            assert cost == pytest.approx(want.pop("cost_usd"), abs=COST_TOLERANCE), (name, user)
            assert got == want, (name, user)


def test_ana_in_march_counted_by_hand(engine, ds):
    (ana,) = [r for r in user_table(engine, MARCH).rows.to_dict("records") if r["name"] == "Ana"]
    # t1, t2 (s1, t2 errors), t3 (s2), t4 (no session), t11 (31 March, its call is April's).
    assert (ana["traces"], ana["sessions"], ana["errored_sessions"]) == (5, 2, 1)
    assert ana["errored_session_rate"] == 0.5
    assert ana["tokens"] == 1200 + 600 + 2300 + 110
    assert ana["cost_usd"] == pytest.approx(0.10 + 0.05 + 0.30, abs=COST_TOLERANCE)
    assert ana["priced_share"] == 3 / 4  # the acme-llm call has no price
    assert ana["active_days"] == 3  # 2, 5 and 31 March
    assert ana["first_seen"] == pd.Timestamp(datetime(2026, 3, 2, 10))
    assert ana["last_seen"] == pd.Timestamp(datetime(2026, 3, 31, 23, 59, 50))
    assert (ana["email"], ana["company"], ana["team"], ana["status"]) == (
        "ana@acme.io",
        "Acme",
        ALPHA,
        "active",
    )


def test_users_listed_are_the_active_and_the_directory_of_the_period(engine, ds):
    table = user_table(engine, MARCH)
    # eve is removed and never traced; fay was created in April, after the period.
    assert table.rows["external_id"].tolist() == ["ana", "cyd", "bob", "dee", "gus"]
    assert (table.matched, table.complete) == (5, True)


def test_costliest_users_are_shown_first_when_capped(engine, ds):
    table = user_table(engine, MARCH, limit=2)
    assert table.rows["external_id"].tolist() == ["ana", "cyd"]
    assert (table.matched, table.complete) == (5, False)


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("ACME.IO", ["ana", "cyd"]),  # email, any case
        ("beta corp", ["bob"]),  # company
        ("dee dee", ["dee"]),  # name
        ("gu", ["gus"]),  # id
        ("zeta", ["dee", "gus"]),
        ("%", []),  # LIKE wildcards are searched for literally
        ("_", []),
        ("  ana  ", ["ana"]),
    ],
)
def test_search_matches_id_name_email_and_company(engine, ds, search, found):
    assert user_table(engine, MARCH, search=search).rows["external_id"].tolist() == found


def test_company_status_and_inactive_filters(engine, ds):
    def ids(**options):
        return user_table(engine, MARCH, **options).rows["external_id"].tolist()

    assert ids(companies=("Acme",)) == ["ana", "cyd"]
    assert ids(companies=("Acme", "Zeta")) == ["ana", "cyd", "dee", "gus"]
    assert ids(statuses=("suspended",)) == ["bob"]
    assert ids(inactive_only=True) == ["dee", "gus"]
    assert ids(inactive_only=True, search="gus@") == ["gus"]
    assert user_table(engine, MARCH, inactive_only=True).matched == 2


def test_companies_offered_are_those_of_the_listed_users(engine, ds):
    assert user_companies(engine, MARCH) == ["Acme", "Beta Corp", "Zeta"]
    assert user_companies(engine, replace(MARCH, teams=(BETA,))) == ["Acme"]


def test_manager_of_alpha_sees_a_beta_user_only_through_alpha_telemetry(engine, ds):
    rows = user_table(engine, replace(MARCH, teams=(ALPHA,))).rows.set_index("external_id")
    assert rows.index.tolist() == ["ana", "bob", "cyd", "dee", "gus"]
    # cyd (team beta) is listed for t12, recorded under alpha; beta's name never shows.
    assert rows.loc["cyd", "team"] == OTHER_TEAM
    assert (rows.loc["cyd", "traces"], rows.loc["cyd", "cost_usd"]) == (1, 0.005)
    assert BETA not in rows["team"].tolist()


def test_daily_activity_sparkline_has_one_point_per_day(engine, ds):
    rows = user_table(engine, MARCH).rows.set_index("external_id")
    ana = [0] * 31
    ana[1], ana[4], ana[30] = 2, 2, 1  # 2 March: t1 t2; 5 March: t3 t4; 31 March: t11
    assert rows.loc["ana", "activity"] == ana
    cyd = [0] * 31
    cyd[11], cyd[19], cyd[24] = 1, 1, 1
    assert rows.loc["cyd", "activity"] == cyd
    assert rows.loc["dee", "activity"] == [0] * 31


def test_sparkline_of_a_long_period_has_one_point_per_iso_week(engine, ds):
    filters = replace(MARCH, start=date(2025, 12, 29), end=date(2026, 4, 5))  # Monday..Sunday
    rows = user_table(engine, filters).rows.set_index("external_id")
    weeks = [0] * 14
    weeks[9] = 4  # week of 2 March: t1, t2, t3, t4
    weeks[13] = 2  # week of 30 March: t11 (31 March) and t10 (2 April)
    assert rows.loc["ana", "activity"] == weeks
    assert sum(rows.loc["gus", "activity"]) == 1  # g1, 20 February


def test_header_counted_by_hand(engine, ds):
    header = users_header(engine, MARCH)
    # March traces: t1-t9, t11, t12 (11); t8 carries no user; ana, bob, cyd are active,
    # all with their first trace ever in March (gus's is in February).
    assert (header.traces, header.traces_with_user) == (11, 10)
    assert (header.users_active, header.users_new) == (3, 3)
    assert header.user_share == 10 / 11
    assert header.traces_per_user == 10 / 3
    february = users_header(engine, FILTER_CASES["february"])
    assert (february.users_active, february.users_new, february.traces) == (1, 1, 1)


def test_header_agrees_with_the_definitions_under_every_filter(engine, ds):
    for name, filters in FILTER_CASES.items():
        oracle = Oracle(ds, filters)
        with_user = [t for t in oracle.traces if t["user_id"] is not None]
        users = {t["user_id"] for t in with_user}
        header = users_header(engine, filters)
        assert header.traces == len(oracle.traces), name
        assert header.traces_with_user == len(with_user), name
        assert header.users_active == len(users), name
        assert header.users_new == oracle.adoption()["users_new"], name
        assert header.traces_per_user == (len(with_user) / len(users) if users else None), name


def test_header_rates_are_none_without_traces(engine, ds):
    header = users_header(engine, FILTER_CASES["no team"])
    assert (header.traces, header.user_share, header.traces_per_user) == (0, None, None)


KNOWN_COSTS = [0.0, 0.03, 0.45, 0.041]


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        (SUM, 0.0 + 0.03 + 0.45 + 0.041),
        (AVG, (0.0 + 0.03 + 0.45 + 0.041) / 4),
        (MEDIAN, (0.03 + 0.041) / 2),  # even count: mean of the two middle values
    ],
)
def test_cost_rollups_on_a_known_set(how, expected):
    assert cost_rollup(KNOWN_COSTS, how) == pytest.approx(expected, abs=1e-15)


def test_cost_rollups_of_an_odd_count_and_of_nothing():
    assert cost_rollup([5.0, 1.0, 3.0], MEDIAN) == 3.0
    assert cost_rollup([5.0, 1.0, 3.0], AVG) == 3.0
    assert cost_rollup([], SUM) == 0.0
    assert cost_rollup([], AVG) is None
    assert cost_rollup([], MEDIAN) is None
    with pytest.raises(ValueError, match="unknown cost roll-up 'MAX'"):
        cost_rollup([1.0], "MAX")


def test_rollups_of_the_table_cost_column(engine, ds):
    costs = user_table(engine, MARCH).rows["cost_usd"].tolist()
    # ana 0.45, cyd 0.046, bob 0.03, dee 0, gus 0
    assert cost_rollup(costs, SUM) == pytest.approx(0.526, abs=COST_TOLERANCE)
    assert cost_rollup(costs, AVG) == pytest.approx(0.526 / 5, abs=COST_TOLERANCE)
    assert cost_rollup(costs, MEDIAN) == pytest.approx(0.03, abs=COST_TOLERANCE)
