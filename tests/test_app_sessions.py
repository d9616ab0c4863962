"""The Sessions page per role: the list, its filters, one session's traces linking onward.

Data: ``build_two_teams`` (tests/app_support.py), default period = last 30 days.
Sessions: s-a1 (ana: a1 then a2, the error; $0.25), s-a2 (arno: a3, $0.125), and
team B's s-b0..s-b5 (one trace each, $1.50). a4 (running) and a0 (40 days old) have none.
"""

from __future__ import annotations

import re

import pytest

from tests.app_support import TEAM_B_NAMES, all_text, build_two_teams, shown, signed_in_app


def sessions_page(username: str):
    at = signed_in_app(username).run()
    at.switch_page("../pages/sessions.py").run()
    assert not at.exception, at.exception
    return at


def session_table(at):
    (frame,) = [e.value for e in at.dataframe if "session" in e.value.columns]
    return frame


def assert_no_team_b(text: str) -> None:
    leaked = [name for name in TEAM_B_NAMES if name in text.lower()]
    assert not leaked, f"team B's names reached the manager: {leaked}"


def open_session(at, key: str):
    at.selectbox(key="sessions_pick").select(key).run()
    at.button(key="sessions_open_button").click().run()
    assert not at.exception, at.exception
    (frame,) = [e.value for e in at.dataframe if "link" in e.value.columns]
    return frame


def test_admin_lists_both_teams_sessions_newest_first(app_env):
    build_two_teams(app_env.engine, app_env.today)
    frame = session_table(sessions_page("root"))
    assert frame["session"].tolist() == [
        "s-a2",  # yesterday
        "s-a1",  # two days ago
        "s-b0",
        "s-b1",
        "s-b2",
        "s-b3",
        "s-b4",
        "s-b5",
    ]
    rows = frame.set_index("session")
    assert rows.loc["s-a1", "traces"] == 2
    assert rows.loc["s-a1", "errors"] == 1
    assert rows.loc["s-a1", "cost_usd"] == pytest.approx(0.25)
    # a2 ends 6 min in; shown as a duration ("6 minutes"), not a count of seconds
    assert rows.loc["s-a1", "duration_s"].total_seconds() == pytest.approx(5 * 60 + 60)
    assert rows.loc["s-b3", "user"] == "bruno"


def test_manager_lists_only_their_teams_sessions(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = sessions_page("mia")
    assert session_table(at)["session"].tolist() == ["s-a2", "s-a1"]
    assert_no_team_b(all_text(at))


def test_errors_only_filter(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = sessions_page("root")
    at.toggle(key="session_errors").set_value(True).run()
    assert session_table(at)["session"].tolist() == ["s-a1"]


def test_opening_a_session_lists_its_traces_linking_to_the_trace_view(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = sessions_page("root")
    frame = open_session(at, "s-a1")
    ids = [re.search(r"trace=([^&]+)", link).group(1) for link in frame["link"]]
    assert ids == ["a1", "a2"]
    assert frame["status"].tolist() == ["ok", "error"]
    assert "first_message" in frame.columns  # admins may read content
    assert "$0.25" in all_text(at)


def test_manager_session_view_has_no_content_column(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = sessions_page("mia")
    frame = open_session(at, "s-a2")
    assert "first_message" not in frame.columns
    assert frame["name"].tolist() == ["run"]
    assert_no_team_b(all_text(at))


def test_a_session_url_opens_it_at_the_top_naming_its_user(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = signed_in_app("root", query={"session": "s-a1"}).run()
    at.switch_page("../pages/sessions.py").run()
    assert not at.exception, at.exception
    assert shown(at.subheader[0].value) == "Session s-a1"
    frames = [element.value for element in at.dataframe]
    assert "link" in frames[0].columns and "session" in frames[1].columns  # before the list
    (line,) = [c.value for c in at.caption if c.value.startswith("User ")]
    assert line.startswith("User Ana (") and "ana" in line  # the name, the id beside it


def test_opening_a_session_puts_it_in_the_url_and_closing_removes_it(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = sessions_page("root")
    open_session(at, "s-a2")
    assert at.query_params["session"] in ("s-a2", ["s-a2"])
    at.button(key="sessions_close").click().run()
    assert "session" not in at.query_params
    assert not [s for s in at.subheader if s.value.startswith("Session ")]
