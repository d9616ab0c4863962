"""A manager sees only their own teams, whatever the URL asks for.

Expected figures are worked out by hand from ``build_two_teams`` (tests/app_support.py):
team Avalon in the last 30 days has users ana, arno, ada (3; ada never traced),
active ana + arno (2), new arno only (ana traced 40 days ago), activation 2/3,
runs a1..a4 (4) in sessions s-a1, s-a2 (2), finished 3 of which 1 error (33.3%),
LLM calls 0.25 + unpriced + 0.125 = $0.375 with 2 of 3 priced (67%), tokens
1200 + 600 + 350 = 2,150. Previous 30 days: a0 only (1 run, 110 tokens, $0.05).
"""

from __future__ import annotations

import pytest

from telemetry.demo import DEMO_ORG
from tests.app_support import (
    TEAM_A,
    TEAM_B_NAMES,
    all_text,
    at_noon,
    build_two_teams,
    metric_labels,
    metric_values,
    signed_in_app,
)
from tests.factories import Dataset

AVALON_CARDS = {
    "Total users": "3",
    "Active users": "2",
    "New users": "1",
    "Activation rate": "66.7%",
    "Runs": "4",
    "Sessions": "2",
    "Error rate": "33.3%",
    "Cost": "$0.375",
    "Priced share": "66.7%",
    "Tokens": "2,150",
    "Positive rate": "no ratings",
}


def assert_no_team_b(at) -> None:
    text = all_text(at).lower()
    leaked = [name for name in TEAM_B_NAMES if name in text]
    assert not leaked, f"team B's names reached the manager: {leaked}"


def test_manager_sees_only_own_team_numbers(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = signed_in_app("mia").run()
    assert not at.exception
    assert metric_values(at) == AVALON_CARDS
    assert "Cost · 67% priced" in metric_labels(at)
    assert at.multiselect(key="team").options == [TEAM_A]
    assert at.multiselect(key="env").options == ["production"]


def test_manager_never_receives_other_team_names_or_numbers(app_env, csv_downloads):
    build_two_teams(app_env.engine, app_env.today)
    at = signed_in_app("mia").run()
    assert_no_team_b(at)
    (agents,) = [frame.value for frame in at.dataframe]
    assert agents["agent"].tolist() == ["atlas-agent"]
    assert agents["traces"].tolist() == [4]
    assert csv_downloads == [  # the safe CSV of telemetry/csvsafe.py: CRLF rows
        # Headers are the column titles; 1 error of 3 finished runs, rounded to 1e-4.
        "Agent,Runs,Error rate,Cost (USD),Active users\r\natlas-agent,4,0.3333,0.375,2\r\n"
    ]


@pytest.mark.parametrize(
    "query", [{"team": "Borealis"}, {"team": ["Borealis", "Avalon"]}, {"team": "Nope"}]
)
def test_manager_link_to_another_team_shows_own_team_with_a_notice(app_env, query):
    build_two_teams(app_env.engine, app_env.today)
    at = signed_in_app("mia", query=query).run()
    assert not at.exception
    assert metric_values(at) == AVALON_CARDS
    assert any("outside your access" in warning.value for warning in at.warning)
    assert_no_team_b(at)
    at.run()  # the notice stays while the view is the fallback
    assert any("outside your access" in warning.value for warning in at.warning)


def test_manager_link_to_another_organization_stays_in_own_organization(app_env):
    build_two_teams(app_env.engine, app_env.today)
    other = Dataset(app_env.engine, org="rival")
    other.user("borealis-spy", team="Borealis-Rival")
    other.trace("r1", user="borealis-spy", start=at_noon(app_env.today))
    at = signed_in_app("mia", query={"org": "rival"}).run()
    assert at.selectbox(key="org").options == ["default"]
    assert metric_values(at) == AVALON_CARDS
    assert any("not available to you" in warning.value for warning in at.warning)
    assert_no_team_b(at)


def test_manager_does_not_see_the_demo_organization_without_teams_in_it(app_env):
    build_two_teams(app_env.engine, app_env.today)
    Dataset(app_env.engine, org=DEMO_ORG).team("Borealis-Demo")
    at = signed_in_app("mia").run()
    assert at.selectbox(key="org").options == ["default"]


def test_manager_without_teams_sees_nothing(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = signed_in_app("nobody").run()
    assert not at.exception
    assert any("no teams yet" in warning.value for warning in at.warning)
    assert {label: value for label, value in metric_values(at).items()} == {
        "Total users": "0",
        "Active users": "0",
        "New users": "0",
        "Activation rate": "–",
        "Runs": "0",
        "Sessions": "0",
        "Error rate": "–",
        "Cost": "$0.00",
        "Priced share": "–",
        "Tokens": "0",
    }
    text = all_text(at).lower()
    assert TEAM_A.lower() not in text and "atlas-agent" not in text
    assert_no_team_b(at)
