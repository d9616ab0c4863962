"""Every page runs for every role; the admin's Overview, URL filters, empty states, caching.

Figures are worked out by hand from ``build_two_teams`` (tests/app_support.py).
All teams, last 30 days: 6 users, 5 active (ada never traced), 4 new (all but
ana), 10 runs in 8 sessions (s-a1 holds two), 9 finished with 1 error (11.1%),
9 LLM calls of which 8 priced (89%) costing 0.375 + 6 x 1.5 = $9.375 -> "$9.38",
tokens 2,150 + 6 x 2,400 = 16,550.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from telemetry.accounts import ADMIN, MANAGER
from telemetry.demo import DEMO_ORG
from tests.app_support import (
    TEAM_A,
    TEAM_B,
    at_noon,
    build_two_teams,
    metric_values,
    signed_in_app,
)
from tests.factories import Dataset
from ui.navigation import ADMINS, PAGES, page_specs_for


@pytest.mark.parametrize(("username", "role"), [("root", ADMIN), ("mia", MANAGER)])
def test_every_registered_page_runs_for_each_role(app_env, username, role):
    build_two_teams(app_env.engine, app_env.today)
    at = signed_in_app(username).run()
    assert not at.exception
    specs = page_specs_for(role)
    assert specs[0].path == "pages/overview.py"
    for spec in specs:
        at.switch_page(f"../{spec.path}").run()
        assert not at.exception, f"{spec.path} failed for {role}: {at.exception}"


def test_managers_are_never_given_admin_pages(tmp_path):
    for spec in PAGES:
        (tmp_path / spec.path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / spec.path).write_text("")
    manager_pages = {spec.path for spec in page_specs_for(MANAGER, tmp_path)}
    admin_pages = {spec.path for spec in page_specs_for(ADMIN, tmp_path)}
    admin_only = {spec.path for spec in PAGES if spec.roles == ADMINS}
    assert admin_only and not manager_pages & admin_only
    assert admin_pages == {spec.path for spec in PAGES}


def test_pages_not_written_yet_are_not_registered(tmp_path):
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "overview.py").write_text("")
    assert [spec.path for spec in page_specs_for(ADMIN, tmp_path)] == ["pages/overview.py"]


def test_admin_sees_every_team(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = signed_in_app("root").run()
    assert metric_values(at) == {
        "Total users": "6",
        "Active users": "5",
        "New users": "4",
        "Activation rate": "83.3%",
        "Runs": "10",
        "Sessions": "8",
        "Error rate": "11.1%",
        "Cost": "$9.38",
        "Priced share": "88.9%",
        "Tokens": "16,550",
        "Positive rate": "no ratings",
    }
    assert at.multiselect(key="team").options == [TEAM_A, TEAM_B]
    assert at.multiselect(key="env").options == ["borealis-staging", "production"]
    (agents,) = [frame.value for frame in at.dataframe]
    assert agents["agent"].tolist() == ["borealis-bot", "atlas-agent"]


def test_filters_are_read_from_the_url(app_env):
    build_two_teams(app_env.engine, app_env.today)
    # Last 7 days = today and the 6 before: a1-a4 and b0-b3 (b4, b5 are 7 and 8 days old).
    query = {"period": "Last 7 days", "team": TEAM_B, "group": "Week"}
    at = signed_in_app("root", query=query).run()
    assert metric_values(at)["Runs"] == "4"
    assert at.selectbox(key="period").value == "Last 7 days"
    assert at.selectbox(key="group").value == "Week"
    assert at.multiselect(key="team").value == [TEAM_B]
    first, last = app_env.today - timedelta(days=6), app_env.today
    assert f"{first:%d %b %Y} – {last:%d %b %Y} (7 days)" in at.caption[0].value


def test_custom_range_from_the_url(app_env):
    build_two_teams(app_env.engine, app_env.today)
    day = app_env.today - timedelta(days=2)
    at = signed_in_app(
        "root", query={"period": "Custom range", "from": day.isoformat(), "to": day.isoformat()}
    ).run()
    assert metric_values(at)["Runs"] == "2"  # a1 and a2
    assert f"{day:%d %b %Y} (1 day)" in at.caption[0].value


def test_custom_range_given_backwards_is_swapped_with_a_notice(app_env):
    build_two_teams(app_env.engine, app_env.today)
    first, last = app_env.today - timedelta(days=2), app_env.today - timedelta(days=1)
    query = {"period": "Custom range", "from": last.isoformat(), "to": first.isoformat()}
    at = signed_in_app("root", query=query).run()
    assert metric_values(at)["Runs"] == "3"  # a1 and a2 (2 days ago), a3 (yesterday)
    assert any("dates were swapped" in warning.value for warning in at.warning)


def test_demo_organization_is_shown_first_when_default_is_empty_and_says_it_is_demo(app_env):
    demo = Dataset(app_env.engine, org=DEMO_ORG)
    demo.user("demo-user", team="Platform")
    demo.trace("d1", user="demo-user", start=at_noon(app_env.today))
    at = signed_in_app("root").run()
    assert at.selectbox(key="org").value == DEMO_ORG
    assert metric_values(at)["Runs"] == "1"
    (notice,) = [info.value for info in at.info]
    assert "generated demo data" in notice and "python -m telemetry demo --remove" in notice


def test_default_organization_is_shown_first_once_it_has_data(app_env):
    build_two_teams(app_env.engine, app_env.today)
    Dataset(app_env.engine, org=DEMO_ORG).team("Platform")
    at = signed_in_app("root").run()
    assert at.selectbox(key="org").value == "default"


def test_organization_without_telemetry_says_how_to_send_some(app_env):
    at = signed_in_app("root").run()
    assert not at.exception
    assert "has not received any telemetry yet" in at.info[0].value
    assert not at.dataframe


def test_empty_period_says_why_and_what_to_try(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = signed_in_app("root", query={"period": "Today"}).run()
    (message,) = [info.value for info in at.info]
    assert message.startswith("No runs in")
    assert "Try a longer period" in message
    assert not at.dataframe


def test_new_data_shows_at_the_next_run(app_env):
    data = build_two_teams(app_env.engine, app_env.today)
    at = signed_in_app("root").run()
    assert metric_values(at)["Runs"] == "10"
    data.trace("late", user="ana", start=at_noon(app_env.today))
    at.run()
    assert metric_values(at)["Runs"] == "11"


def test_help_explains_filters_and_where_numbers_are_defined(app_env):
    at = signed_in_app("root").run()
    (guide,) = [block for block in at.sidebar.expander if block.label == "How to use"]
    text = " ".join(markdown.value for markdown in guide.markdown)
    assert "whole UTC days" in text and "docs/metrics.md" in text
    assert "Last hour" in text and "same time of day" in text and "new" in text
    assert "python -m telemetry metrics" in text
    assert "Traces" in text and "python -m telemetry report" in text
