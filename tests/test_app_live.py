"""The Live runs page per role: running traces of the last 24 hours in a self-refreshing
fragment, each linking to its trace; a manager sees only their teams' runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import streamlit as st

from tests.app_support import TEAM_A, TEAM_B, TEAM_B_NAMES, all_text, signed_in_app
from tests.factories import Dataset, generation, root, tool
from ui.live_view import EMPTY, REFRESH_SECONDS


@pytest.fixture
def running(app_env) -> Dataset:
    """A running run per team (started minutes ago), a finished one, an abandoned one."""
    ds = Dataset(app_env.engine)
    ds.user("ana", team=TEAM_A)
    ds.user("bjorn", team=TEAM_B)
    now = datetime.now(UTC).replace(tzinfo=None)
    steps = [
        root("refund-turn", seconds=None),
        generation(at=1, input_tokens=400, output_tokens=100),
        tool("search", at=3),
        tool("lookup", at=4),
    ]
    ds.trace(
        "a-live", user="ana", agent="atlas-agent", start=now - timedelta(minutes=3), spans=steps
    )
    ds.trace("a-done", user="ana", start=now - timedelta(minutes=5), spans=[root(seconds=20)])
    ds.trace("a-lost", user="ana", start=now - timedelta(hours=30), spans=[root(seconds=None)])
    ds.trace(
        "b-live",
        user="bjorn",
        agent="borealis-bot",
        start=now - timedelta(minutes=1),
        spans=[root("borealis-run", seconds=None)],
    )
    return ds


def live_page(username: str):
    at = signed_in_app(username).run()
    at.switch_page("../pages/live.py").run()
    assert not at.exception, at.exception
    return at


def live_table(at):
    (table,) = [element.value for element in at.dataframe]
    return table


def test_admin_sees_every_running_run_newest_first_with_figures_so_far(running):
    table = live_table(live_page("root"))
    assert [link.split("trace=")[1] for link in table["run"]] == ["b-live", "a-live"]
    row = table.iloc[1]
    # The user's directory name (the factory names "ana" Ana), the id in its own column.
    assert (row["agent"], row["user_label"], row["user"]) == ("atlas-agent", "Ana", "ana")
    assert row["team"] == TEAM_A
    assert (row["tool_calls"], row["generations"], row["tokens"]) == (2, 1, 500)
    # Started three minutes before the page ran, plus however long the test took to get there.
    assert 180 <= row["elapsed_s"].total_seconds() < 300


def test_manager_sees_only_their_teams_runs(running):
    at = live_page("mia")
    table = live_table(at)
    assert table["run"].str.contains("trace=a-live").tolist() == [True]
    text = all_text(at).lower()
    assert not [name for name in TEAM_B_NAMES if name in text]
    assert "b-live" not in text


@pytest.fixture
def fragments(monkeypatch) -> list:
    """The ``run_every`` of every fragment the page declares."""
    declared: list = []
    original = st.fragment

    def recording(func=None, *, run_every=None, **kwargs):
        declared.append(run_every)
        return original(func, run_every=run_every, **kwargs)

    monkeypatch.setattr(st, "fragment", recording)
    return declared


def test_the_table_refreshes_itself_in_a_fragment_that_can_be_paused(running, fragments):
    at = live_page("root")
    assert fragments[-1] == REFRESH_SECONDS
    assert len(live_table(at)) == 2
    at.toggle(key="live_paused").set_value(True).run()
    assert not at.exception
    assert fragments[-1] is None
    assert len(live_table(at)) == 2


def test_a_run_links_to_its_trace_keeping_the_filters(running):
    at = signed_in_app("root", query={"period": "Last 7 days", "team": TEAM_A}).run()
    at.switch_page("../pages/live.py").run()
    links = live_table(at)["run"].tolist()
    assert links == ["traces?trace=a-live&period=Last+7+days&team=" + TEAM_A]


def test_no_run_in_progress_says_how_runs_appear(app_env):
    at = live_page("root")
    assert EMPTY in [info.value for info in at.info]
    assert not at.dataframe
