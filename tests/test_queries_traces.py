"""The Traces list: scope, search by each field, sort, SQL pagination and the failing step.

Expected rows are worked out by hand from tests/drilldown_data.py (March 2026).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from telemetry.queries.traces import COUNT_CAP, TraceSearch, trace_list
from tests import drilldown_data
from tests.drilldown_data import MANAGER_A, MARCH


@pytest.fixture
def store(engine):
    drilldown_data.build(engine)
    return engine


def ids(page) -> list[str]:
    return page.rows["trace_id"].tolist()


def test_admin_lists_every_trace_of_the_period_newest_first(store):
    page = trace_list(store, MARCH)
    # aaa0 started in February: not in the period.
    assert ids(page) == ["bbb3", "bbb2", "bbb1", "aaa4", "aaa3", "aaa2", "aaa1"]
    assert (page.total, page.total_capped, page.pages) == (7, False, 1)


def test_row_figures_of_a_trace(store):
    rows = trace_list(store, MARCH).rows.set_index("trace_id")
    row = rows.loc["aaa2"]
    assert row["name"] == "support-turn"
    assert (row["user"], row["team"], row["agent"], row["status"]) == ("ana", "A", "helper", "ok")
    assert row["started"] == pd.Timestamp("2026-03-11 00:20:00")
    assert row["duration_s"] == pytest.approx(120.0)
    assert row["cost_usd"] == pytest.approx(0.20)
    assert pd.isna(rows.loc["aaa4", "duration_s"])  # still running


def test_list_says_which_step_failed_and_why(store):
    rows = trace_list(store, MARCH).rows.set_index("trace_id")
    # A tool failed inside an OK trace: the trace stays ok, the row still says why.
    assert rows.loc["aaa2", "status"] == "ok"
    assert rows.loc["aaa2", "failed_step"] == "execute_tool lookup"
    assert rows.loc["aaa2", "error"] == "HTTPError: 502 from upstream"
    assert rows.loc["aaa3", "failed_step"] == "triage"
    assert rows.loc["aaa3", "error"] == "ValueError: bad input"
    assert rows.loc["bbb2", "error"] == "timeout"
    assert rows.loc["aaa1", "error"] == ""


def test_page_two_of_size_two_holds_the_next_traces(store):
    page = trace_list(store, MARCH, page=2, page_size=2)
    assert ids(page) == ["bbb1", "aaa4"]
    assert (page.total, page.pages) == (7, 4)
    last = trace_list(store, MARCH, page=4, page_size=2)
    assert ids(last) == ["aaa1"]


def test_sort_by_cost_descending_pages_through_the_costliest(store):
    # Costs: bbb1 .50, bbb3 .30, aaa2 .20, aaa1 .10, aaa3 .05, aaa4 .01, bbb2 0.
    first = trace_list(store, MARCH, sort="cost", descending=True, page=1, page_size=2)
    second = trace_list(store, MARCH, sort="cost", descending=True, page=2, page_size=2)
    assert ids(first) == ["bbb1", "bbb3"]
    assert ids(second) == ["aaa2", "aaa1"]
    cheapest = trace_list(store, MARCH, sort="cost", descending=False, page_size=3)
    assert ids(cheapest) == ["bbb2", "aaa4", "aaa3"]


def test_sort_by_duration_descending_breaks_ties_by_start_and_puts_running_last(store):
    # bbb3 200 s, aaa2 120, bbb1 60 and aaa1 60 (bbb1 started later), aaa3 30, bbb2 10, aaa4 -.
    page = trace_list(store, MARCH, sort="duration", descending=True, page=2, page_size=2)
    assert ids(page) == ["bbb1", "aaa1"]
    everything = trace_list(store, MARCH, sort="duration", descending=False)
    assert ids(everything) == ["bbb2", "aaa3", "aaa1", "bbb1", "aaa2", "bbb3", "aaa4"]


def test_unknown_sort_is_refused_with_the_allowed_ones(store):
    with pytest.raises(ValueError, match="start, duration, cost"):
        trace_list(store, MARCH, sort="name; DROP TABLE trace")


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        (TraceSearch(text="bbb"), ["bbb3", "bbb2", "bbb1"]),  # id prefix
        (TraceSearch(text="aaa3"), ["aaa3"]),
        (TraceSearch(text="TURN"), ["aaa2", "aaa1"]),  # part of the name, any case
        (TraceSearch(text="bb1"), []),  # an id matches by its start only
        (TraceSearch(user="ben"), ["aaa4", "aaa3"]),
        (TraceSearch(user="be"), []),  # user ids match exactly
        (TraceSearch(status="error"), ["aaa3"]),
        (TraceSearch(status="timeout"), ["bbb2"]),
        (TraceSearch(status="running"), ["aaa4"]),
        (TraceSearch(agent="triager"), ["aaa3"]),
        (TraceSearch(model="gpt-4o"), ["bbb1", "aaa4", "aaa1"]),  # not gpt-4o-mini
        (TraceSearch(model="claude-sonnet-4-5"), ["aaa2"]),
        (TraceSearch(tool="lookup"), ["aaa2"]),
        (TraceSearch(tool="search"), ["bbb1", "aaa1"]),
        (TraceSearch(model="gpt-4o", tool="search"), ["bbb1", "aaa1"]),
        (TraceSearch(user="ana", status="error"), []),
    ],
)
def test_search_by_each_field(store, search, expected):
    page = trace_list(store, MARCH, search)
    assert ids(page) == expected
    assert page.total == len(expected)


def test_unknown_status_is_refused():
    with pytest.raises(ValueError, match="ok, error, timeout, running"):
        TraceSearch(status="failed")


def test_manager_sees_only_their_teams_traces(store):
    page = trace_list(store, MANAGER_A)
    assert ids(page) == ["aaa4", "aaa3", "aaa2", "aaa1"]
    assert set(page.rows["team"]) == {"A"}


@pytest.mark.parametrize(
    "search",
    [
        TraceSearch(text="bbb1"),
        TraceSearch(user="bo"),
        TraceSearch(agent="bot"),
        TraceSearch(model="mistral-large"),
        TraceSearch(status="timeout"),
    ],
)
def test_manager_never_finds_another_teams_trace_even_by_its_id(store, search):
    page = trace_list(store, MANAGER_A, search)
    assert page.rows.empty
    assert page.total == 0


def test_environment_filter_applies(store):
    page = trace_list(store, replace(MARCH, environments=("staging",)))
    assert ids(page) == ["bbb3", "bbb2", "bbb1"]


def test_count_is_capped_beyond_the_cap(store, monkeypatch):
    from telemetry.queries import traces

    monkeypatch.setattr(traces, "COUNT_CAP", 5)
    page = trace_list(store, MARCH, page_size=2)
    assert (page.total, page.total_capped, page.total_text) == (5, True, "5+")
    assert COUNT_CAP == 100_000
