"""Run statistics, commands, agent, tool and model runs, upstream efficiency, percentiles.

Expected figures come from tests/analytics_week.py by hand; percentiles are
checked against numpy.percentile (its default, linear interpolation) over
durations computed here in plain Python from the rows the factory wrote.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pytest

from telemetry.db import init_store
from telemetry.queries import agent_runs, commands, model_runs, run_statistics, tool_runs
from telemetry.queries.percentiles import percentile
from tests.analytics_week import build_analytics_week, week
from tests.conftest import _fresh_postgres_engine
from tests.factories import Dataset, generation, root

COST = 1e-12


@pytest.fixture
def ds(engine):
    return build_analytics_week(engine)


def _seconds(ds: Dataset, trace_ids: list[str]) -> list[float]:
    rows = {t["trace_id"]: t for t in ds.traces}
    return [(rows[i]["end_us"] - rows[i]["start_us"]) / 1e6 for i in trace_ids]


def test_run_statistics_of_the_week(engine, ds):
    stats = run_statistics(engine, week())
    assert (stats.traces, stats.finished) == (8, 7)
    # Finished durations: 100 + 1200 + 30 + 300 + 45 + 80 + 10 s over 7 runs.
    assert stats.average_duration_ms == pytest.approx(1765 / 7 * 1000)
    assert stats.completion_rate == 5 / 7
    assert stats.timeout_rate == 1 / 7
    assert stats.tool_calls == 3  # search, run_tests (failed), kb_lookup
    assert stats.tool_calls_per_run == 3 / 8
    assert stats.tokens == 5100 + 560
    assert stats.tokens_per_run == 5660 / 8


def test_run_statistics_of_an_empty_period(engine, ds):
    stats = run_statistics(engine, week(start=date(2025, 1, 1), end=date(2025, 1, 1)))
    assert (stats.traces, stats.tool_calls, stats.tokens) == (0, 0, 0)
    assert stats.average_duration_ms is stats.completion_rate is stats.tokens_per_run is None


def test_commands_most_used_first_with_error_rate_and_median(engine, ds):
    frame = commands(engine, week())
    assert frame["command"].tolist() == ["/review", "/fix", "support-turn", "(no name)"]
    assert frame["traces"].tolist() == [3, 2, 2, 1]
    assert frame["finished"].tolist() == [3, 2, 1, 1]  # t6 still runs
    assert frame["errors"].tolist() == [0, 1, 0, 0]  # t4 is a timeout, not an error
    assert frame["error_rate"].tolist() == [0.0, 0.5, 0.0, 0.0]
    medians = {
        "/review": np.percentile(_seconds(ds, ["t1", "t2", "t7"]), 50),  # 100 s
        "/fix": np.percentile(_seconds(ds, ["t3", "t4"]), 50),  # (30 + 300) / 2
        "support-turn": 45.0,
        "(no name)": 10.0,
    }
    for command, median_ms in zip(frame["command"], frame["median_duration_ms"], strict=True):
        assert median_ms == pytest.approx(medians[command] * 1000), command
    assert frame.loc[frame["command"] == "/fix", "median_duration_ms"].item() == 165_000


def test_agent_runs_table(engine, ds):
    frame = agent_runs(engine, week()).set_index("agent")
    assert frame.index.tolist() == ["coder", "support", "(no agent)"]
    coder = frame.loc["coder"]
    durations = _seconds(ds, ["t1", "t2", "t3", "t4", "t7"])  # 100 1200 30 300 80
    assert coder["runs"] == 5
    assert coder["avg_response_ms"] == pytest.approx(np.mean(durations) * 1000)
    assert coder["p95_response_ms"] == pytest.approx(np.percentile(durations, 95) * 1000)
    assert coder["p95_response_ms"] == pytest.approx(1_020_000)  # 300 + 0.8 * (1200 - 300)
    assert coder["success_rate"] == 3 / 5
    assert coder["sessions"] == 3  # s1 s2 s4; t4 has none
    assert coder["tokens"] == (1000 + 500 + 2000 + 300 + 400) + (200 + 100 + 50 + 80)
    assert coder["cost_usd"] == pytest.approx(0.068, abs=COST)
    assert coder["cost_per_conversation"] == pytest.approx(0.068 / 3, abs=COST)
    support = frame.loc["support"]
    assert (support["runs"], support["sessions"], support["tokens"]) == (2, 1, 1030)
    assert (support["avg_response_ms"], support["p95_response_ms"]) == (45_000, 45_000)
    assert support["success_rate"] == 1.0
    assert support["cost_per_conversation"] == pytest.approx(0.004, abs=COST)
    nobody = frame.loc["(no agent)"]
    assert (nobody["runs"], nobody["sessions"], nobody["tokens"]) == (1, 0, 0)
    assert np.isnan(nobody["cost_per_conversation"])


def test_a_tool_failing_inside_an_ok_trace_counts_as_a_tool_error(engine, ds):
    frame = tool_runs(engine, week())
    assert frame[["tool_type", "tool", "runs", "errors"]].values.tolist() == [
        ["code", "run_tests", 1, 1],
        ["function", "search", 1, 0],
        ["mcp", "kb_lookup", 1, 0],
    ]
    assert frame["success_rate"].tolist() == [0.0, 1.0, 1.0]
    assert frame["avg_time_ms"].tolist() == [4000.0, 500.0, 250.0]
    t1 = next(t for t in ds.traces if t["trace_id"] == "t1")
    assert t1["status"] == "ok"  # the run still answered: no trace error


def test_model_runs_and_upstream_efficiency(engine, ds):
    frame = model_runs(engine, week()).set_index("model")
    assert frame.index.tolist() == ["gpt-4o", "claude-sonnet-4-5"]  # by cost: 0.038, 0.034
    gpt = frame.loc["gpt-4o"]
    assert (gpt["provider"], gpt["calls"], gpt["errors"], gpt["error_rate"]) == (
        "openai",
        4,
        0,
        0.0,
    )
    latencies = [2.0, 2.0, 4.0, 2.0]  # t1 t2 t4 t7
    assert gpt["avg_latency_ms"] == 2500
    assert gpt["p50_latency_ms"] == pytest.approx(np.percentile(latencies, 50) * 1000)
    assert gpt["p95_latency_ms"] == pytest.approx(np.percentile(latencies, 95) * 1000)
    assert (gpt["input_tokens"], gpt["output_tokens"], gpt["tokens"]) == (2200, 380, 2580)
    assert gpt["output_tokens_per_second"] == 380 / 10
    assert gpt["cache_hit_ratio"] == 400 / 2200
    assert gpt["cost_usd"] == pytest.approx(0.038, abs=COST)
    claude = frame.loc["claude-sonnet-4-5"]
    assert (claude["calls"], claude["errors"]) == (3, 1)
    assert claude["error_rate"] == 1 / 3
    # t6's call has not ended: no latency, and its 10 output tokens stay out of the rate.
    ended = [3.0, 1.5]
    assert claude["avg_latency_ms"] == 2250
    assert claude["p50_latency_ms"] == pytest.approx(np.percentile(ended, 50) * 1000)
    assert claude["p95_latency_ms"] == pytest.approx(np.percentile(ended, 95) * 1000)
    assert claude["output_tokens"] == 180
    assert claude["output_tokens_per_second"] == pytest.approx((50 + 120) / 4.5)
    assert claude["cache_hit_ratio"] == 600 / 2900


def test_team_filter_applies_to_every_run_table(engine, ds):
    beta = week(teams=("beta",))
    assert agent_runs(engine, beta)["agent"].tolist() == ["support"]
    assert tool_runs(engine, beta)["tool"].tolist() == ["kb_lookup"]
    assert model_runs(engine, beta)["model"].tolist() == ["claude-sonnet-4-5"]
    assert commands(engine, beta)["command"].tolist() == ["support-turn"]


def test_run_tables_are_empty_for_an_empty_period(engine, ds):
    empty = week(start=date(2025, 1, 1), end=date(2025, 1, 7))
    for query in (commands, agent_runs, tool_runs, model_runs):
        assert query(engine, empty).empty, query.__name__


def test_percentiles_of_many_runs_match_numpy(engine):
    """p50/p95/p99 interpolate between ranks exactly as numpy does, on both backends."""
    ds = Dataset(engine)
    durations = [1.5, 7, 2, 19, 3, 3, 11, 5, 13, 8, 17, 4, 20, 6, 9, 10, 12, 14.25, 16, 15, 18]
    for index, seconds in enumerate(durations):
        ds.trace(
            f"bulk-{index}",
            start=datetime(2026, 3, 3, 8, index),
            agent="bulk",
            spans=[root("/bulk", seconds=seconds), generation(seconds=seconds / 10)],
        )
    row = agent_runs(engine, week()).set_index("agent").loc["bulk"]
    assert row["p95_response_ms"] == pytest.approx(np.percentile(durations, 95) * 1000)
    command = commands(engine, week()).set_index("command").loc["/bulk"]
    assert command["median_duration_ms"] == pytest.approx(np.median(durations) * 1000)
    model = model_runs(engine, week()).iloc[0]
    calls = [seconds / 10 for seconds in durations]
    assert model["p50_latency_ms"] == pytest.approx(np.percentile(calls, 50) * 1000)
    assert model["p95_latency_ms"] == pytest.approx(np.percentile(calls, 95) * 1000)


@pytest.mark.parametrize("percent", [0, 25, 50, 90, 95, 99, 100])
@pytest.mark.parametrize("values", [[4.0], [3.0, 1.0], [5, 1, 4, 2, 3], list(range(1, 101))])
def test_percentile_definition_is_numpys_linear_interpolation(values, percent):
    assert percentile(values, percent) == pytest.approx(np.percentile(values, percent))


def test_percentile_of_nothing_is_none():
    assert percentile([], 95) is None


def test_sqlite_and_postgresql_give_identical_percentiles(sqlite_engine, postgres_admin_url):
    postgres_engine, drop = _fresh_postgres_engine(postgres_admin_url)
    try:
        init_store(postgres_engine)
        for store in (sqlite_engine, postgres_engine):
            build_analytics_week(store)
        # Float sums of costs may differ in the last bits between backends; all else may not.
        costs = ["cost_usd", "cost_per_conversation"]
        for query in (commands, agent_runs, tool_runs, model_runs):
            on_sqlite = query(sqlite_engine, week()).drop(columns=costs, errors="ignore")
            on_postgres = query(postgres_engine, week()).drop(columns=costs, errors="ignore")
            # Exact equality (not approx): percentiles interpolate the same stored values.
            assert on_sqlite.equals(on_postgres), query.__name__
    finally:
        drop()
