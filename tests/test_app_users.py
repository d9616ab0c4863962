"""The Users page as an admin and as a manager: header, table, roll-ups, search, detail, CSV.

Figures are worked out by hand from ``build_two_teams`` (tests/app_support.py),
last 30 days: users bruno (b2-b4, $4.50), bjorn (b0-b1, $3.00), bianca (b5, $1.50),
ana (a1 + a2 in s-a1, a2 errors and its call is unpriced, $0.25), arno (a3 in s-a2 and
the running a4, $0.125), ada (never traced). 10 traces, all with a user; 5 users, 4 new.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.app_support import (
    TEAM_A,
    TEAM_B_NAMES,
    all_text,
    at_noon,
    build_two_teams,
    metric_values,
    signed_in_app,
)
from tests.factories import generation, root
from ui.periods import CUSTOM
from ui.users_view import narrow_period, selected_days


def as_text(data: bytes | str) -> str:
    return data.decode("utf-8-sig") if isinstance(data, bytes) else data


def users_page(username: str, query: dict | None = None):
    at = signed_in_app(username, query=query).run()
    at.switch_page("../pages/users.py").run()
    assert not at.exception, at.exception
    return at


def table(at):
    (frame,) = [element.value for element in at.dataframe]
    return frame


def test_admin_sees_the_header_of_the_period(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = users_page("root")
    values = metric_values(at)
    assert values["Unique users"] == "5"
    assert values["New users"] == "4"  # all but ana, whose first trace is 40 days old
    assert values["Traces with a user id"] == "100.0%"
    assert values["Traces per user"] == "2.0"


def test_admin_table_lists_every_user_costliest_first(app_env):
    build_two_teams(app_env.engine, app_env.today)
    rows = table(users_page("root")).set_index("external_id")
    assert rows.index.tolist() == ["bruno", "bjorn", "bianca", "ana", "arno", "ada"]
    assert rows["cost_usd"].tolist() == [4.5, 3.0, 1.5, 0.25, 0.125, 0.0]
    assert rows.loc["ana", "traces"] == 2
    assert (rows.loc["ana", "errored_sessions"], rows.loc["ana", "errored_session_rate"]) == (
        1,
        1.0,
    )
    assert rows.loc["ana", "priced_share"] == 0.5
    assert rows.loc["arno", "sessions"] == 1  # a4 has no session
    assert rows.loc["bruno", "tokens"] == 3 * 2400
    assert len(rows.loc["ana", "activity"]) == 30  # one point per day of the period
    assert sum(rows.loc["ana", "activity"]) == 2


@pytest.mark.parametrize(
    ("rollup", "shown"),
    [
        ("SUM", "$9.38"),  # 4.5 + 3 + 1.5 + 0.25 + 0.125 + 0
        ("AVG", "$1.56"),  # 9.375 / 6
        ("MEDIAN", "$0.875"),  # (1.5 + 0.25) / 2
    ],
)
def test_cost_rollup_switches_between_sum_avg_and_median(app_env, rollup, shown):
    build_two_teams(app_env.engine, app_env.today)
    at = users_page("root")
    at.segmented_control(key="users_rollup").set_value(rollup).run()
    assert metric_values(at)["Cost"] == shown
    assert f"Cost · {rollup} over 6 users shown" in [metric.label for metric in at.metric]


def test_search_by_email_then_open_the_users_detail(app_env):
    ds = build_two_teams(app_env.engine, app_env.today)
    ds.user("zoe", team=TEAM_A, email="zoe@example.org", company="Zed & Co")
    ds.trace(
        "z1",
        user="zoe",
        session="s-z",
        start=at_noon(app_env.today - timedelta(days=1)),
        spans=[
            root(seconds=90),
            generation("claude-sonnet-4", "anthropic", input_tokens=700, cost_usd=0.07),
        ],
    )
    at = users_page("root")
    at.text_input(key="users_search").input("ZOE@example").run()
    assert table(at)["external_id"].tolist() == ["zoe"]
    at.button(key="users_detail_open").click().run()
    assert not at.exception
    values = metric_values(at)
    assert values["Traces"] == "1"
    assert values["Sessions"] == "1"
    assert values["Errored sessions"] == "0 (0.0%)"
    assert values["Cost"] == "$0.07"
    assert values["Tokens (input + output)"] == "700"
    assert values["Avg trace duration"] == "90.0 s"
    assert values["Active days"] == "1"
    models = [frame.value for frame in at.dataframe if "model" in frame.value.columns]
    assert models[0]["model"].tolist() == ["claude-sonnet-4"]


def test_inactive_only_lists_users_without_a_trace(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = users_page("root")
    at.toggle(key="users_inactive").set_value(True).run()
    assert table(at)["external_id"].tolist() == ["ada"]


def test_manager_sees_only_own_team_users_and_costs(app_env, csv_downloads):
    build_two_teams(app_env.engine, app_env.today)
    at = users_page("mia")
    rows = table(at)
    assert rows["external_id"].tolist() == ["ana", "arno", "ada"]
    assert metric_values(at)["Cost"] == "$0.375"
    assert metric_values(at)["Unique users"] == "2"
    at.button(key="users_detail_open").click().run()  # ana's detail
    assert metric_values(at)["Traces"] == "3"  # a0 (40 days ago), a1, a2: all time
    text = all_text(at) + " ".join(as_text(data) for data in csv_downloads)
    leaked = [name for name in TEAM_B_NAMES if name in text.lower()]
    assert not leaked, f"team B's names reached the manager: {leaked}"


def test_audit_events_in_the_detail_are_for_admins_only(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = users_page("mia")
    at.button(key="users_detail_open").click().run()
    assert "Audit events are shown to admins only." in [c.value for c in at.caption]
    admin = users_page("root")
    admin.button(key="users_detail_open").click().run()
    assert "Audit events are shown to admins only." not in [c.value for c in admin.caption]


def test_users_csv_is_what_is_shown_with_formulas_neutralised(app_env, csv_downloads):
    ds = build_two_teams(app_env.engine, app_env.today)
    ds.user(
        "mallory",
        team=TEAM_A,
        name='=HYPERLINK("http://evil.example","x")',
        email="@SUM(A1:A9)",
        company="+cmd|' /C calc'!A0",
    )
    ds.trace("m1", user="mallory", start=at_noon(app_env.today))
    users_page("root")
    text = as_text(csv_downloads[-1])
    lines = text.splitlines()
    # Headers are the table's column titles; the raw user id is the last column.
    assert lines[0].startswith("User,Team,Traces,Cost (USD),Errored sessions,")
    assert lines[0].endswith(",Email,First seen,Last seen,User id")
    (mallory,) = [line for line in lines if line.endswith(",mallory")]
    assert "'=HYPERLINK" in mallory and "'@SUM" in mallory and "'+cmd" in mallory
    assert len(lines) == 1 + 7  # header + the 7 users shown


def test_a_search_without_match_says_so(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = users_page("root")
    at.text_input(key="users_search").input("nobody-has-this").run()
    assert not at.dataframe
    assert any(info.value.startswith("No user matches") for info in at.info)


def test_manager_without_teams_sees_no_user(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = users_page("nobody")
    assert metric_values(at)["Unique users"] == "0"
    assert not at.dataframe
    assert any(info.value.startswith("No users in") for info in at.info)


def test_dragged_days_become_the_custom_period_of_every_page(app_env):
    build_two_teams(app_env.engine, app_env.today)
    day = app_env.today - timedelta(days=2)
    state: dict = {}
    narrow_period(state, day, day)
    assert state == {"period": CUSTOM, "from": day, "to": day}
    at = users_page("root")
    assert metric_values(at)["Unique users"] == "5"
    for key, value in state.items():  # what the chart's selection callback does between runs
        at.session_state[key] = value
    at.run()
    assert metric_values(at)["Unique users"] == "1"  # only ana traced on that day (a1, a2)
    assert at.selectbox(key="period").value == CUSTOM
    assert f"{day:%d %b %Y} (1 day)" in at.caption[0].value
    assert at.query_params["from"] == day.isoformat()  # the link carries the new period
    at.switch_page("../pages/billing.py").run()
    assert metric_values(at)["Total traces"] == "2"


FIRST, LAST = date(2026, 3, 1), date(2026, 3, 31)


def _ms(day: date, hour: int = 12) -> int:
    return (day - date(1970, 1, 1)).days * 86_400_000 + hour * 3_600_000


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([_ms(date(2026, 3, 3)), _ms(date(2026, 3, 7))], (date(2026, 3, 3), date(2026, 3, 7))),
        ([_ms(date(2026, 3, 7)), _ms(date(2026, 3, 3))], (date(2026, 3, 3), date(2026, 3, 7))),
        (
            ["2026-03-10T05:00:00.000Z", "2026-03-12T23:00:00.000Z"],
            (date(2026, 3, 10), date(2026, 3, 12)),
        ),
        ([_ms(date(2026, 2, 20)), _ms(date(2026, 3, 2))], (FIRST, date(2026, 3, 2))),  # clamped
        ([_ms(date(2026, 4, 2)), _ms(date(2026, 4, 9))], None),  # outside the period
    ],
)
def test_a_brushed_interval_becomes_whole_utc_days(values, expected):
    selection = {"days": {"utcyearmonthdate_bucket": values}}
    assert selected_days(selection, FIRST, LAST) == expected


def test_no_brush_means_no_new_period():
    assert selected_days({}, FIRST, LAST) is None
    assert selected_days({"days": {}}, FIRST, LAST) is None
