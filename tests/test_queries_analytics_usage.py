"""Breakdowns by dimension, peak usage (weekday × hour), generated code and task outcomes.

Expected figures come from tests/analytics_week.py; peak usage is recomputed
here with Python's own calendar (``datetime.weekday()``), independent of the
integer arithmetic the query uses.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pandas as pd
import pytest

from telemetry.filters import Grouping
from telemetry.queries import breakdown, breakdown_timeline, code_and_outcomes, peak_usage
from telemetry.queries.breakdown import OTHER
from tests.analytics_week import build_analytics_week, week

EMPTY = {"start": date(2025, 1, 1), "end": date(2025, 1, 7)}


@pytest.fixture
def ds(engine):
    return build_analytics_week(engine)


def _totals(frame: pd.DataFrame) -> dict[str, int]:
    return {name: int(value) for name, value in frame.groupby("series")["value"].sum().items()}


def test_runs_by_team_keep_the_top_values_and_sum_the_rest(engine, ds):
    frame = breakdown_timeline(engine, week(), dimension="team", measure="runs", top=1)
    assert list(dict.fromkeys(frame["series"])) == ["alpha", OTHER]
    assert _totals(frame) == {"alpha": 5, OTHER: 3}  # beta t5 t6 + t8 without team
    alpha = frame[frame["series"] == "alpha"]["value"].tolist()
    assert alpha == [2, 1, 1, 0, 0, 1, 0]  # t1 t2 | t3 | t4 | - | - | t7 | -


def test_runs_by_user_are_labelled_with_the_user_name(engine, ds):
    frame = breakdown_timeline(engine, week(), dimension="user", measure="runs", top=5)
    # The factory names a user after their id, capitalised ("ana" is Ana).
    assert _totals(frame) == {"Ana": 3, "Bob": 2, "Eve": 2, "(no user)": 1}


def test_errors_by_agent_count_error_traces_only(engine, ds):
    frame = breakdown_timeline(engine, week(), dimension="agent", measure="errors")
    assert _totals(frame) == {"coder": 1}  # t3; t4 timed out, t1's tool failure is not a run error


def test_tokens_by_module_follow_the_calls(engine, ds):
    frame = breakdown_timeline(engine, week(), dimension="module", measure="tokens")
    assert _totals(frame) == {"ide": 4200 + 430, "chat": 900 + 130}


def test_model_and_provider_count_llm_calls(engine, ds):
    runs = breakdown_timeline(engine, week(), dimension="model", measure="runs")
    assert _totals(runs) == {"gpt-4o": 4, "claude-sonnet-4-5": 3}
    errors = breakdown_timeline(engine, week(), dimension="provider", measure="errors")
    assert _totals(errors) == {"anthropic": 1}


def test_tool_breakdown_counts_calls_and_has_no_tokens(engine, ds):
    runs = breakdown_timeline(engine, week(), dimension="tool", measure="runs", top=2)
    assert _totals(runs) == {"kb_lookup": 1, "run_tests": 1, OTHER: 1}  # ties by name
    errors = breakdown_timeline(engine, week(), dimension="tool", measure="errors")
    assert _totals(errors) == {"run_tests": 1}
    assert breakdown_timeline(engine, week(), dimension="tool", measure="tokens").empty


def test_breakdown_respects_the_team_filter_and_empty_periods(engine, ds):
    frame = breakdown_timeline(engine, week(teams=("beta",)), dimension="user", measure="runs")
    assert _totals(frame) == {"Eve": 2}
    assert breakdown_timeline(engine, week(**EMPTY), dimension="team", measure="runs").empty


@pytest.mark.parametrize("grouping", [Grouping.HOUR, Grouping.WEEK, Grouping.MONTH])
def test_breakdown_totals_are_the_same_whatever_the_grouping(engine, ds, grouping):
    # Hours read the traces and calls, days/weeks/months the daily rollups: same figures.
    def totals(dimension: str, measure: str, top: int = 5) -> dict[str, int]:
        filters = week(grouping=grouping)
        return _totals(
            breakdown_timeline(engine, filters, dimension=dimension, measure=measure, top=top)
        )

    assert totals("team", "runs", top=1) == {"alpha": 5, OTHER: 3}
    assert totals("user", "runs") == {"Ana": 3, "Bob": 2, "Eve": 2, "(no user)": 1}
    assert totals("agent", "errors") == {"coder": 1}
    assert totals("module", "tokens") == {"ide": 4200 + 430, "chat": 900 + 130}
    assert totals("model", "runs") == {"gpt-4o": 4, "claude-sonnet-4-5": 3}
    assert totals("provider", "errors") == {"anthropic": 1}
    assert totals("tool", "runs", top=2) == {"kb_lookup": 1, "run_tests": 1, OTHER: 1}
    assert totals("tool", "errors") == {"run_tests": 1}


def test_unknown_breakdown_dimension_is_refused_with_the_choices(engine, ds):
    with pytest.raises(ValueError, match=r"unknown breakdown dimension 'colour'.*team"):
        breakdown_timeline(engine, week(), dimension="colour")


def test_peak_usage_by_utc_weekday_and_hour(engine, ds):
    """Runs, and the tokens of their LLM calls, at the UTC weekday and hour each run started."""
    frame = peak_usage(engine, week())
    assert len(frame) == 7 * 24
    lo, hi = (datetime(2026, 3, d, tzinfo=UTC).timestamp() * 1e6 for d in (2, 9))

    def slot(us: int) -> tuple[int, int]:
        moment = datetime.fromtimestamp(us / 1e6, UTC)
        return moment.weekday(), moment.hour

    runs: Counter = Counter()
    tokens: Counter = Counter()
    for trace in ds.traces:
        if lo <= trace["start_us"] < hi:
            runs[slot(trace["start_us"])] += 1
            calls = [o for o in ds.observations if o["trace_pk"] == trace["id"]]
            tokens[slot(trace["start_us"])] += sum(
                o["input_tokens"] + o["output_tokens"] for o in calls if o["kind"] == "generation"
            )
    got = frame.set_index(["weekday", "hour"])
    assert {k: v for k, v in got["traces"].items() if v} == dict(runs)
    assert {k: v for k, v in got["tokens"].items() if v} == {k: v for k, v in tokens.items() if v}
    assert got.loc[(0, 23), "tokens"] == 600  # t2 started Monday 23:50; its call ran at 00:05
    assert got.loc[(6, 20), "traces"] == 1  # t8, Sunday 20:00


def test_peak_usage_of_an_empty_period_is_all_zero(engine, ds):
    frame = peak_usage(engine, week(**EMPTY))
    assert len(frame) == 168 and not frame["traces"].any() and not frame["tokens"].any()


def test_generated_code_and_outcomes_by_agent_and_team(engine, ds):
    by_agent = code_and_outcomes(engine, week(), by="agent")
    assert by_agent.to_dict("records") == [
        {
            "agent": "coder",
            "traces_with_code": 3,
            "lines_added": 30 + 5 + 12,
            "lines_removed": 10 + 0 + 40,
            "lines_changed": 97,
            "traces_with_outcome": 3,
            "clean": 1,
            "revised": 1,
            "regression": 1,
            "other_outcome": 0,
        }
    ]
    by_team = code_and_outcomes(engine, week(), by="team")
    assert by_team["team"].tolist() == ["alpha"]
    assert by_team.drop(columns="team").equals(by_agent.drop(columns="agent"))


def test_code_and_outcomes_are_empty_when_nobody_reports_them(engine, ds):
    assert code_and_outcomes(engine, week(teams=("beta",))).empty
    assert code_and_outcomes(engine, week(**EMPTY), by="team").empty


def test_users_sharing_a_name_keep_their_ids_and_unnamed_users_show_their_id():
    rows = [(1, "Ana Lima", "usr_1"), (2, "Ana Lima", "usr_2"), (3, "", "usr_3"), (4, "Bo", "b")]
    assert breakdown._user_labels(rows) == {
        1: "Ana Lima (usr_1)",
        2: "Ana Lima (usr_2)",
        3: "usr_3",
        4: "Bo",
    }
