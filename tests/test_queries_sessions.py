"""The Sessions list and a session's traces: figures, search, pagination, scope, content.

Expected figures are worked out by hand from tests/drilldown_data.py (March 2026):

| session   | traces in March | started           | last end              | cost | errors |
|-----------|-----------------|-------------------|-----------------------|------|--------|
| sess-b2   | bbb3            | 03-16 08:00       | 08:03:20 (200 s)      | 0.30 | 0      |
| sess-b    | bbb1, bbb2      | 03-15 12:00       | 12:10:10 (610 s)      | 0.50 | 0      |
| sess-err  | aaa3            | 03-12 10:00       | 10:00:30 (30 s)       | 0.05 | 1      |
| sess-long | aaa1, aaa2      | 03-10 23:50       | 03-11 00:22 (1,920 s) | 0.30 | 0      |

sess-long also holds aaa0 (February, $1.00), which is outside the period; aaa4 has no session.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from telemetry.queries.sessions import (
    FIRST_MESSAGE_CHARS,
    SessionSearch,
    session_list,
    session_traces,
)
from tests import drilldown_data
from tests.drilldown_data import LONG_MESSAGE, MANAGER_A, MARCH, ROOT_INPUT


@pytest.fixture
def store(engine):
    drilldown_data.build(engine)
    return engine


def keys(page) -> list[str]:
    return page.rows["session"].tolist()


def test_admin_lists_the_sessions_of_the_period_newest_first(store):
    page = session_list(store, MARCH)
    assert keys(page) == ["sess-b2", "sess-b", "sess-err", "sess-long"]
    assert (page.total, page.total_capped, page.pages) == (4, False, 1)


def test_session_figures_cover_its_traces_in_the_period(store):
    rows = session_list(store, MARCH).rows.set_index("session")
    long = rows.loc["sess-long"]
    assert (long["user"], long["team"], long["traces"], long["errors"]) == ("ana", "A", 2, 0)
    assert long["started"] == pd.Timestamp("2026-03-10 23:50")
    assert long["duration_s"] == pytest.approx(32 * 60)  # spans midnight: 23:50 -> 00:22
    assert long["cost_usd"] == pytest.approx(0.10 + 0.20)  # not February's $1.00
    assert rows.loc["sess-b", "duration_s"] == pytest.approx(610)
    assert rows.loc["sess-b", "errors"] == 0  # a timeout is not an error
    assert rows.loc["sess-err", "errors"] == 1
    assert rows["cost_usd"].tolist() == pytest.approx([0.30, 0.50, 0.05, 0.30])


def test_page_two_of_size_two_holds_the_oldest_sessions(store):
    page = session_list(store, MARCH, page=2, page_size=2)
    assert keys(page) == ["sess-err", "sess-long"]
    assert (page.total, page.pages) == (4, 2)


def test_a_session_is_in_the_period_when_one_of_its_traces_is(store):
    february = replace(MARCH, start=MARCH.start.replace(month=2), end=MARCH.start.replace(day=1))
    page = session_list(store, february)
    assert keys(page) == ["sess-long"]
    assert page.rows.loc[0, "traces"] == 1
    assert page.rows.loc[0, "cost_usd"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        (SessionSearch(text="long"), ["sess-long"]),  # part of the session id
        (SessionSearch(text="SESS-B"), ["sess-b2", "sess-b"]),
        (SessionSearch(text="Ben"), ["sess-err"]),  # the user's name
        (SessionSearch(user="ana"), ["sess-long"]),
        (SessionSearch(user="an"), []),  # user ids match exactly
        (SessionSearch(agent="triager"), ["sess-err"]),
        (SessionSearch(agent="helper"), ["sess-long"]),
        (SessionSearch(environment="staging"), ["sess-b2", "sess-b"]),
        (SessionSearch(status="timeout"), ["sess-b"]),
        (SessionSearch(status="ok"), ["sess-b2", "sess-b", "sess-long"]),
        (SessionSearch(has_errors=True), ["sess-err"]),
        (SessionSearch(user="bo", status="timeout"), ["sess-b"]),
    ],
)
def test_search_and_filters(store, search, expected):
    page = session_list(store, MARCH, search)
    assert keys(page) == expected
    assert page.total == len(expected)


def test_filtered_session_keeps_all_its_figures(store):
    # Matching by one trace (the timeout) still shows the session's two traces.
    (row,) = session_list(store, MARCH, SessionSearch(status="timeout")).rows.to_dict("records")
    assert (row["traces"], row["cost_usd"]) == (2, pytest.approx(0.50))


def test_manager_sees_only_their_teams_sessions(store):
    page = session_list(store, MANAGER_A)
    assert keys(page) == ["sess-err", "sess-long"]
    assert session_list(store, MANAGER_A, SessionSearch(text="sess-b")).rows.empty
    assert session_list(store, MANAGER_A, SessionSearch(user="bo")).total == 0


def test_session_traces_in_start_order_with_total_cost(store):
    detail = session_traces(store, MARCH, "sess-long")
    assert detail.rows["trace_id"].tolist() == ["aaa1", "aaa2"]
    assert detail.user == "ana"
    assert detail.total_cost_usd == pytest.approx(0.30)
    assert detail.rows["name"].tolist() == ["support-turn", "support-turn"]
    assert detail.rows["duration_s"].tolist() == pytest.approx([60, 120])
    assert detail.rows["status"].tolist() == ["ok", "ok"]


def test_admin_gets_the_first_user_message_truncated(store):
    detail = session_traces(store, MARCH, "sess-long", include_content=True)
    first, second = detail.rows["first_message"].tolist()
    assert first == LONG_MESSAGE[:FIRST_MESSAGE_CHARS]
    assert len(first) == 120
    assert second == ROOT_INPUT  # no LLM call with content: the root span's input


def test_content_is_absent_without_include_content(store):
    detail = session_traces(store, MARCH, "sess-long", include_content=False)
    assert set(detail.rows["first_message"]) == {""}
    shown = detail.rows.to_csv()
    assert "never arrived" not in shown
    assert ROOT_INPUT not in shown


def test_another_teams_session_returns_nothing_for_a_manager(store):
    assert session_traces(store, MANAGER_A, "sess-b") is None
    assert session_traces(store, MANAGER_A, "sess-b", include_content=True) is None
    assert session_traces(store, MARCH, "sess-b").rows["trace_id"].tolist() == ["bbb1", "bbb2"]


def test_unknown_session_returns_nothing(store):
    assert session_traces(store, MARCH, "no-such-session") is None
