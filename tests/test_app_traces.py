"""The Traces page per role: the list, URL-bound search, the ?trace= deep link, incoming links.

Data: ``build_two_teams`` (tests/app_support.py), default period = last 30 days:
team A's a1..a4 (a2 is the only error, a4 is running; a0 is 40 days old) and
team B's b0..b5 (agent borealis-bot, environment borealis-staging).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs

import pytest

from tests.app_support import TEAM_B_NAMES, all_text, build_two_teams, signed_in_app


def open_page(username: str, page: str, query: dict | None = None):
    at = signed_in_app(username).run()
    at.switch_page(f"../{page}")
    if query:
        at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    return at


def listed_ids(at) -> list[str]:
    """The trace ids of the Traces table, read from each row's link."""
    (frame,) = [element.value for element in at.dataframe if "link" in element.value.columns]
    return [re.search(r"trace=([^&]+)", link).group(1) for link in frame["link"]]


def assert_no_team_b(text: str) -> None:
    leaked = [name for name in TEAM_B_NAMES if name in text.lower()]
    assert not leaked, f"team B's names reached the manager: {leaked}"


def test_admin_lists_both_teams_traces_newest_first(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = open_page("root", "pages/traces.py")
    # a3 yesterday, a1/a2 two days ago (a2 five minutes later), then b0..b5 (3-8 days), a4 (5).
    assert listed_ids(at) == ["a3", "a2", "a1", "b0", "b1", "b2", "a4", "b3", "b4", "b5"]
    assert "Page 1 of 1 · 10 traces" in all_text(at)


def test_manager_lists_only_their_teams_traces(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = open_page("mia", "pages/traces.py")
    assert listed_ids(at) == ["a3", "a2", "a1", "a4"]
    assert_no_team_b(all_text(at))


def test_manager_searching_another_teams_trace_id_finds_nothing(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = open_page("mia", "pages/traces.py", {"q": "b0"})
    assert not [element for element in at.dataframe if "link" in element.value.columns]
    assert "No trace matches" in all_text(at)
    assert_no_team_b(all_text(at))


def test_search_fields_come_from_the_url(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = open_page("root", "pages/traces.py", {"agent": "borealis-bot", "user": "bruno"})
    assert listed_ids(at) == ["b2", "b3", "b4"]
    assert at.text_input(key="agent").value == "borealis-bot"


def test_typing_a_search_narrows_the_list(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = open_page("root", "pages/traces.py")
    at.text_input(key="user").input("ana").run()
    assert listed_ids(at) == ["a2", "a1"]


def test_deep_link_to_another_teams_trace_shows_nothing_to_a_manager(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = open_page("mia", "pages/traces.py", {"trace": "b0"})
    text = all_text(at)
    # The trace view's own wording, or the list's fallback while that view is absent.
    (warning,) = [element.value.lower() for element in at.warning]
    assert "b0" in warning
    assert "not in your teams" in warning or "cannot see" in warning
    assert_no_team_b(text)
    assert not at.dataframe or not any("b0" in str(e.value) for e in at.dataframe)


def test_overview_error_link_leads_to_only_the_failing_traces(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = signed_in_app("root").run()
    assert not at.exception, at.exception
    links = [element.proto for element in at.get("page_link")]
    (failing,) = [link for link in links if "failing" in link.label.lower()]
    query = {key: values[0] for key, values in parse_qs(failing.query_string).items()}
    assert query["status"] == "error"
    at = open_page("root", "pages/traces.py", query)
    assert listed_ids(at) == ["a2"]
    assert "ValueError" in all_text(at)  # the list says why it failed


def test_users_table_links_each_user_to_their_traces(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = open_page("root", "pages/users.py")
    (frame,) = [e.value for e in at.dataframe if "traces_link" in e.value.columns]
    links = dict(zip(frame["external_id"], frame["traces_link"], strict=True))
    assert parse_qs(links["ana"].split("?", 1)[1])["user"] == ["ana"]
    at = open_page("root", "pages/traces.py", {"user": "bjorn"})
    assert listed_ids(at) == ["b0", "b1"]


@pytest.mark.parametrize(
    ("section", "param"), [("Runs", "agent=atlas-agent"), ("Models", "model=gpt-4o")]
)
def test_analytics_agents_and_models_link_to_their_traces(app_env, section, param):
    build_two_teams(app_env.engine, app_env.today)
    at = open_page("root", "pages/analytics.py")
    at.session_state["section"] = section
    at.run()
    assert not at.exception, at.exception
    captions = [c.value for c in at.caption if "Traces page" in c.value]
    assert captions, "no link to the Traces page"
    assert any(f"traces?{param}" in c or f"&{param}" in c for c in captions)


def test_back_to_traces_keeps_the_lists_search(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = open_page("root", "pages/traces.py", {"status": "error"})
    assert listed_ids(at) == ["a2"]
    at.button(key="traces_open").click().run()
    assert at.query_params["trace"] in ("a2", ["a2"])
    (back,) = [link.proto for link in at.get("page_link") if link.proto.label == "Back to traces"]
    query = parse_qs(back.query_string)
    assert query["status"] == ["error"]
    assert "trace" not in query
