"""Periods that are not whole days: every query is exact at sub-day boundaries.

Expected values are plain Python over the rows the factory wrote
(tests/window_data.py): a trace counts when its start is in [start, end), an
LLM or tool call when its own start is. Whole-day windows must give exactly
what the day-range path gives.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from telemetry import queries
from telemetry.filters import Filters, Grouping
from telemetry.queries.percentiles import percentile
from telemetry.queries.sessions import session_list
from telemetry.queries.traces import trace_list
from telemetry.timeutil import to_us
from tests.metrics_oracle import Oracle, expected_headline
from tests.window_data import NOW_US, US_PER_HOUR, build_window_store

COST_TOLERANCE = 1e-9
MIDNIGHT_15 = to_us(datetime(2026, 3, 15))
WINDOWS = {
    "last hour": Filters.window(NOW_US - US_PER_HOUR, NOW_US),
    "last 24 hours": Filters.window(NOW_US - 24 * US_PER_HOUR, NOW_US),
    "48 hours (a whole day inside)": Filters.window(NOW_US - 48 * US_PER_HOUR, NOW_US),
    "across midnight": Filters.window(MIDNIGHT_15 - 30 * 60_000_000, MIDNIGHT_15 + 3_600_000_000),
    "today so far": Filters.up_to(date(2026, 3, 15), NOW_US),
    "odd microseconds": Filters.window(to_us(datetime(2026, 3, 13, 10, 0, 0, 500)), NOW_US - 7),
}
CASES = {
    **WINDOWS,
    "24 hours, team alpha": replace(WINDOWS["last 24 hours"], teams=("alpha",)),
    "24 hours, staging": replace(WINDOWS["last 24 hours"], environments=("staging",)),
    "24 hours, no team": replace(WINDOWS["last 24 hours"], teams=()),
}


@pytest.fixture
def ds(engine):
    return build_window_store(engine)


def _traces(ds, filters):
    return Oracle(ds, filters).traces


def _calls(ds, filters, kinds=("generation", "embedding")):
    oracle = Oracle(ds, filters)
    return [
        o
        for o in ds.observations
        if o["kind"] in kinds
        and oracle.lo <= o["start_us"] < oracle.hi
        and (oracle.team_ids is None or o["team_id"] in oracle.team_ids)
        and (filters.environments is None or o["environment"] in filters.environments)
    ]


def test_the_data_really_sits_on_the_edges(ds):
    hour = WINDOWS["last hour"]
    names = {t["trace_id"] for t in _traces(ds, hour)}
    assert {"edge-start", "edge-call-after", "running", "nobody"} <= names
    assert not names & {"edge-end", "edge-before"}
    calls = {o["trace_pk"] for o in _calls(ds, hour)}
    by_name = {t["trace_id"]: t["id"] for t in ds.traces}
    assert by_name["edge-before"] in calls and by_name["edge-call-after"] not in calls


def test_headline_metrics_over_windows_match_the_definitions(engine, ds):
    for name, filters in CASES.items():
        metrics = queries.headline_metrics(engine, filters)
        expected = expected_headline(ds, filters)
        assert {key: metrics[key] for key in expected} == expected, name


def test_overview_blocks_over_windows_match_the_definitions(engine, ds):
    for name, filters in CASES.items():
        oracle = Oracle(ds, filters)
        modules = queries.module_usage(engine, filters)
        got = {row.module: (row.traces, row.users_active) for row in modules.itertuples()}
        assert got == oracle.per_module(), name
        agents = queries.top_agents(engine, filters, limit=100)
        expected = oracle.per_agent()
        assert set(agents["agent"]) == set(expected), name
        for row in agents.to_dict("records"):
            want = expected[row["agent"]]
            assert (row["traces"], row["users_active"]) == (want["traces"], want["users_active"])
            assert row["cost_usd"] == pytest.approx(want["cost_usd"], abs=COST_TOLERANCE), name


@pytest.mark.parametrize("grouping", [Grouping.FIVE_MINUTES, Grouping.HOUR, Grouping.DAY])
def test_activity_timeline_of_windows_is_zero_filled_per_bucket(engine, ds, grouping):
    for name, base in CASES.items():
        filters = replace(base, grouping=grouping)
        frame = queries.activity_timeline(engine, filters)
        got = [(b.to_pydatetime(), t, u) for b, t, u in frame.itertuples(index=False)]
        assert got == Oracle(ds, filters).timeline(), f"{name} by {grouping}"


def test_last_hour_by_five_minutes_has_thirteen_buckets_from_13_35(engine, ds):
    frame = queries.activity_timeline(
        engine, replace(WINDOWS["last hour"], grouping=Grouping.FIVE_MINUTES)
    )
    # 13:37-14:37 touches the 5-minute buckets 13:35, 13:40, ..., 14:35.
    assert frame["bucket"].iloc[0] == pd.Timestamp(2026, 3, 15, 13, 35)
    assert frame["bucket"].iloc[-1] == pd.Timestamp(2026, 3, 15, 14, 35)
    assert len(frame) == 13


def test_kpis_of_a_window_compare_with_the_window_just_before(engine, ds):
    hour = WINDOWS["last hour"]
    kpis = {kpi.key: kpi for kpi in queries.overview_kpis(engine, hour)}
    before = Oracle(ds, hour.previous()).runs()
    assert kpis["traces"].previous == before["traces"]
    assert kpis["traces"].value == len(_traces(ds, hour))
    assert kpis["traces"].change == len(_traces(ds, hour)) - before["traces"]


@pytest.mark.parametrize("grouping", [Grouping.FIVE_MINUTES, Grouping.HOUR, Grouping.DAY])
def test_trends_of_windows_count_runs_and_calls_by_their_own_start(engine, ds, grouping):
    for name, base in CASES.items():
        filters = replace(base, grouping=grouping)
        got = {kpi.key: kpi.value for kpi in queries.trends(engine, filters).kpis}
        runs, usage = Oracle(ds, filters).runs(), Oracle(ds, filters).usage()
        users = {t["user_id"] for t in _traces(ds, filters) if t["user_id"] is not None}
        assert (got["traces"], got["completed"], got["errors"]) == (
            runs["traces"],
            runs["ok"],
            runs["errors"],
        ), name
        assert (got["timeouts"], got["users_active"]) == (runs["timeouts"], len(users)), name
        assert (got["input_tokens"], got["output_tokens"]) == (
            usage["input_tokens"],
            usage["output_tokens"],
        ), name
        assert got["session_time_median_s"] == _session_median(ds, filters), name


def _session_median(ds, filters) -> float | None:
    spans: dict[int, list] = defaultdict(list)
    for trace in _traces(ds, filters):
        if trace["session_id"] is not None:
            spans[trace["session_id"]].append(trace)
    times = []
    for traces in spans.values():
        ends = [t["end_us"] for t in traces if t["end_us"] is not None]
        if ends:
            times.append((max(ends) - min(t["start_us"] for t in traces)) / 1_000_000)
    return statistics.median(times) if times else None


def test_trend_timeline_places_each_call_in_its_own_five_minutes(engine, ds):
    filters = replace(WINDOWS["last 24 hours"], grouping=Grouping.FIVE_MINUTES)
    timeline = queries.trends(engine, filters).timeline
    current = timeline[timeline["period"] == "current"]
    expected: Counter = Counter()
    for call in _calls(ds, filters):
        expected[call["start_us"] // 300_000_000 * 300_000_000] += call["input_tokens"]
    got = {
        to_us(bucket.to_pydatetime()): tokens
        for bucket, tokens in zip(current["bucket"], current["input_tokens"], strict=True)
        if tokens
    }
    assert got == dict(expected)


def test_tool_and_model_runs_of_windows(engine, ds):
    for name, filters in CASES.items():
        tools = queries.tool_runs(engine, filters)
        got = {row.tool: (row.runs, row.errors) for row in tools.itertuples()}
        expected: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for call in _calls(ds, filters, kinds=("tool",)):
            expected[call["tool_name"]][0] += 1
            expected[call["tool_name"]][1] += call["status"] == "error"
        assert got == {tool: tuple(counts) for tool, counts in expected.items()}, name
        models = queries.model_runs(engine, filters)
        durations: dict[str, list[int]] = defaultdict(list)
        for call in _calls(ds, filters):
            durations[call["model"]].append(call["end_us"] - call["start_us"])
        assert {row.model: row.calls for row in models.itertuples()} == {
            model: len(values) for model, values in durations.items()
        }, name
        for row in models.itertuples():
            assert row.p50_latency_ms == percentile(durations[row.model], 50) / 1000, name


def test_run_statistics_and_commands_of_windows(engine, ds):
    for name, filters in CASES.items():
        traces = _traces(ds, filters)
        stats = queries.run_statistics(engine, filters)
        tools = _calls(ds, filters, kinds=("tool",))
        assert (stats.traces, stats.tool_calls) == (len(traces), len(tools)), name
        timed = [t["end_us"] - t["start_us"] for t in traces if t["end_us"] is not None]
        mean = sum(timed) / len(timed) / 1000 if timed else None
        assert stats.average_duration_ms == pytest.approx(mean), name
        commands = queries.commands(engine, filters)
        assert dict(zip(commands["command"], commands["traces"], strict=True)) == dict(
            Counter(t["name"] for t in traces)
        ), name


def test_peak_usage_of_windows_counts_runs_by_their_start_hour(engine, ds):
    for name, filters in CASES.items():
        frame = queries.peak_usage(engine, filters)
        got = {(r.weekday, r.hour): r.traces for r in frame.itertuples() if r.traces}
        expected = Counter(
            (
                (datetime(1970, 1, 1) + timedelta(microseconds=t["start_us"])).weekday(),
                t["start_hour"] % 24,
            )
            for t in _traces(ds, filters)
        )
        assert got == dict(expected), name


def test_breakdown_of_windows_by_team_and_model(engine, ds):
    for grouping in (Grouping.HOUR, Grouping.DAY):
        filters = replace(WINDOWS["48 hours (a whole day inside)"], grouping=grouping)
        frame = queries.breakdown_timeline(engine, filters, dimension="model", measure="tokens")
        expected = Counter()
        for call in _calls(ds, filters):
            expected[call["model"]] += call["input_tokens"] + call["output_tokens"]
        assert frame.groupby("series")["value"].sum().to_dict() == dict(expected), grouping
        runs = queries.breakdown_timeline(engine, filters, dimension="agent", measure="runs")
        by_agent = Counter(t["agent"] or "(no agent)" for t in _traces(ds, filters))
        assert runs.groupby("series")["value"].sum().to_dict() == dict(by_agent), grouping


def test_users_and_billing_tables_of_windows(engine, ds):
    externals = {row["id"]: name for name, row in ds.users.items()}
    for name, filters in CASES.items():
        traces, calls = _traces(ds, filters), _calls(ds, filters)
        table = queries.user_table(engine, filters).rows.set_index("external_id")
        for user_pk, external in externals.items():
            mine = [t for t in traces if t["user_id"] == user_pk]
            cost = sum(c["cost_usd"] for c in calls if c["user_id"] == user_pk)
            if external not in table.index:
                assert not mine and not cost, (name, external)
                continue
            row = table.loc[external]
            assert row["traces"] == len(mine), (name, external)
            assert row["cost_usd"] == pytest.approx(cost, abs=COST_TOLERANCE), (name, external)
            if mine:
                first = min(t["start_us"] for t in mine)
                assert row["first_seen"] == pd.Timestamp(first, unit="us"), (name, external)
        period = queries.billing_period(engine, filters)
        assert period.cost_usd == pytest.approx(sum(c["cost_usd"] for c in calls), abs=1e-9)
        assert (period.traces, period.calls) == (len(traces), len(calls)), name
        users = queries.cost_by_user(engine, filters).rows.set_index("user")
        for user_pk, external in externals.items():
            cost = sum(c["cost_usd"] for c in calls if c["user_id"] == user_pk)
            if cost:
                assert users.loc[external, "cost_usd"] == pytest.approx(cost, abs=1e-9), name


def test_trace_and_session_lists_keep_to_the_window(engine, ds):
    for name, filters in CASES.items():
        traces = _traces(ds, filters)
        page = trace_list(engine, filters, page_size=200)
        assert sorted(page.rows["trace_id"]) == sorted(t["trace_id"] for t in traces), name
        sessions = session_list(engine, filters, page_size=200)
        assert sessions.total == len({t["session_id"] for t in traces if t["session_id"]}), name


# --- whole-day windows: the same as the day-range path --------------------------------

_SAME_QUERIES = (
    (queries.headline_metrics, {}),
    (queries.overview_kpis, {}),
    (queries.trends, {}),
    (queries.module_usage, {}),
    (queries.activity_timeline, {}),
    (queries.top_agents, {}),
    (queries.run_statistics, {}),
    (queries.commands, {}),
    (queries.agent_runs, {}),
    (queries.tool_runs, {}),
    (queries.model_runs, {}),
    (queries.peak_usage, {}),
    (queries.code_and_outcomes, {}),
    (queries.breakdown_timeline, {"dimension": "team"}),
    (queries.users_header, {}),
    (queries.user_table, {}),
    (queries.billing_period, {}),
    (queries.cost_by_model, {}),
    (queries.cost_by_user, {}),
    (queries.cost_per_day_by_model, {}),
)


@pytest.mark.parametrize(
    ("query", "options"), _SAME_QUERIES, ids=lambda q: getattr(q, "__name__", "")
)
def test_whole_day_windows_equal_the_day_range_path(engine, ds, query, options):
    days = Filters(start=date(2026, 3, 13), end=date(2026, 3, 14), teams=("alpha", "beta"))
    window = Filters.window(days.start_us, days.end_us, teams=("alpha", "beta"))
    assert window.whole_days and window.is_window and window != days
    got, expected = query(engine, window, **options), query(engine, days, **options)
    _assert_same(got, expected)


def _assert_same(got, expected) -> None:
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(got, expected)
    elif hasattr(expected, "rows") and isinstance(expected.rows, pd.DataFrame):
        pd.testing.assert_frame_equal(got.rows, expected.rows)
        assert (got.matched, got.limit) == (expected.matched, expected.limit)
    elif hasattr(expected, "timeline"):
        assert got.kpis == expected.kpis
        pd.testing.assert_frame_equal(got.timeline, expected.timeline)
    elif isinstance(expected, dict):
        assert {k: v for k, v in got.items() if k != "filters"} == {
            k: v for k, v in expected.items() if k != "filters"
        }
    else:
        assert got == expected


def test_cost_of_a_sub_day_period_is_per_bucket_of_its_grouping(engine, ds):
    for grouping, size in ((Grouping.FIVE_MINUTES, 300_000_000), (Grouping.HOUR, US_PER_HOUR)):
        filters = replace(WINDOWS["last 24 hours"], grouping=grouping)
        frame = queries.cost_per_day_by_model(engine, filters, top=100)
        got = {
            (to_us(row.day.to_pydatetime()), row.model): row.cost_usd for row in frame.itertuples()
        }
        expected: dict = defaultdict(float)
        for call in _calls(ds, filters):
            expected[(call["start_us"] // size * size, call["model"])] += call["cost_usd"]
        assert got.keys() == expected.keys(), grouping
        for key, cost in expected.items():
            assert got[key] == pytest.approx(cost, abs=COST_TOLERANCE), (grouping, key)
