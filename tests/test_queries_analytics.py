"""Analytics trends (totals and timelines, against the previous period) on a known week.

Expected figures are worked out by hand from tests/analytics_week.py (its table
lists every trace); comments show the arithmetic.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from telemetry.filters import Grouping
from telemetry.queries import (
    TREND_KEYS,
    headline_metrics,
    run_statistics,
    trends,
)
from tests.analytics_week import build_analytics_week, week

S1_SECONDS = 15 * 3600 + 10 * 60  # Mon 09:00 -> Tue 00:10 (t2 ends 1200 s after 23:50)


@pytest.fixture
def ds(engine):
    return build_analytics_week(engine)


def _kpis(engine, filters) -> dict:
    return {kpi.key: (kpi.value, kpi.previous) for kpi in trends(engine, filters).kpis}


def trend_timeline(engine, filters) -> pd.DataFrame:
    return trends(engine, filters).timeline


def test_trend_figures_of_the_week_and_the_week_before(engine, ds):
    got = _kpis(engine, week())
    assert [key for key, _, _ in TREND_KEYS] == list(got)
    assert got["traces"] == (8, 2)
    assert got["users_active"] == (3, 2)  # ana, bob, eve (t8 has no user) / ana, eve
    assert got["completed"] == (5, 1)  # t1 t2 t5 t7 t8 / p1
    assert got["errors"] == (1, 1)  # t3 only: t4 is a timeout, t1's failed tool is not
    assert got["error_rate"] == (1 / 7, 1 / 2)  # t6 is still running: 7 finished
    assert got["timeouts"] == (1, 0)
    assert got["input_tokens"] == (1000 + 500 + 2000 + 300 + 800 + 100 + 400, 100)
    assert got["output_tokens"] == (200 + 100 + 50 + 120 + 10 + 80, 20)
    assert got["cache_read_tokens"] == (400 + 600, 0)


def test_session_time_spans_midnight_and_ignores_running_ends(engine, ds):
    got = _kpis(engine, week())
    # s1 = 54,600 s across midnight, s2 = 30 s, s3 = 45 s (t6 runs, so t5's end is
    # the latest), s4 = 80 s; t4 and t8 have no session. Sorted: 30, 45, 80, 54,600.
    assert got["session_time_median_s"] == ((45 + 80) / 2, 50)
    # p90: rank (4 - 1) * 0.9 = 2.7, between 80 and 54,600.
    assert got["session_time_p90_s"] == (80 + 0.7 * (S1_SECONDS - 80), 50)


def test_session_time_mean_is_only_in_the_help_of_the_median(engine, ds):
    kpis = {kpi.key: kpi for kpi in trends(engine, week()).kpis}
    assert "session_time_mean_s" not in kpis
    notes = {note.label: note.value for note in kpis["session_time_median_s"].notes}
    assert notes["sessions with an end"] == 4
    assert notes["mean (long sessions dominate it)"] == (S1_SECONDS + 30 + 45 + 80) / 4


def test_daily_timeline_counts_each_trace_on_its_start_day(engine, ds):
    frame = trend_timeline(engine, week())
    current = frame[frame["period"] == "current"].set_index("bucket")
    days = pd.date_range("2026-03-02", "2026-03-08", freq="D")
    assert list(current.index) == list(days)
    assert current["traces"].tolist() == [2, 1, 2, 1, 0, 1, 1]
    assert current["users_active"].tolist() == [1, 1, 2, 1, 0, 1, 0]
    assert current["completed"].tolist() == [2, 0, 1, 0, 0, 1, 1]
    assert current["errors"].tolist() == [0, 1, 0, 0, 0, 0, 0]
    assert current["timeouts"].tolist() == [0, 0, 1, 0, 0, 0, 0]
    # Thursday's only trace is running and Friday has none: no rate.
    rates = current["error_rate"].tolist()
    assert rates[:3] == [0.0, 1.0, 0.0] and rates[5:] == [0.0, 0.0]
    assert pd.isna(rates[3]) and pd.isna(rates[4])


def test_daily_tokens_follow_each_llm_call_start(engine, ds):
    frame = trend_timeline(engine, week())
    current = frame[frame["period"] == "current"]
    # t2's call starts Tue 00:05, so Tuesday has 500 (t2) + 2000 (t3).
    assert current["input_tokens"].tolist() == [1000, 2500, 1100, 100, 0, 400, 0]
    assert current["output_tokens"].tolist() == [200, 150, 120, 10, 0, 80, 0]
    assert current["cache_read_tokens"].tolist() == [400, 0, 600, 0, 0, 0, 0]


def test_a_session_keeps_its_whole_time_in_the_bucket_it_started(engine, ds):
    frame = trend_timeline(engine, week())
    current = frame[frame["period"] == "current"]
    assert current["sessions"].tolist() == [1, 1, 1, 0, 0, 1, 0]
    means = current["session_time_mean_s"].tolist()
    assert means[0] == S1_SECONDS and means[1] == 30 and means[2] == 45 and means[5] == 80
    assert all(pd.isna(means[i]) for i in (3, 4, 6))
    assert current["session_time_median_s"].tolist()[:3] == [S1_SECONDS, 30, 45]


def test_previous_period_rows_cover_the_week_before(engine, ds):
    frame = trend_timeline(engine, week())
    previous = frame[frame["period"] == "previous"]
    assert list(previous["bucket"]) == list(pd.date_range("2026-02-23", "2026-03-01"))
    assert previous["traces"].tolist() == [0, 0, 1, 0, 1, 0, 0]
    assert previous["errors"].tolist() == [0, 0, 0, 0, 1, 0, 0]
    assert previous["input_tokens"].tolist() == [0, 0, 100, 0, 0, 0, 0]


def test_weekly_and_monthly_buckets(engine, ds):
    weekly = trend_timeline(engine, week(grouping=Grouping.WEEK))
    assert weekly["period"].tolist() == ["current", "previous"]  # both are whole ISO weeks
    assert weekly["traces"].tolist() == [8, 2]
    assert weekly["users_active"].tolist() == [3, 2]
    monthly = trend_timeline(engine, week(grouping=Grouping.MONTH))
    # The previous period (Feb 23 .. Mar 1) touches February and March.
    assert monthly["period"].tolist() == ["current", "previous", "previous"]
    march, february = pd.Timestamp(2026, 3, 1), pd.Timestamp(2026, 2, 1)
    assert monthly["bucket"].tolist() == [march, february, march]
    assert monthly["traces"].tolist() == [8, 2, 0]


def test_hourly_buckets_put_the_midnight_call_after_midnight(engine, ds):
    frame = trend_timeline(engine, week(grouping=Grouping.HOUR))
    current = frame[frame["period"] == "current"].set_index("bucket")
    assert len(current) == 7 * 24
    assert current.loc[pd.Timestamp(2026, 3, 2, 23), "traces"] == 1  # t2
    assert current.loc[pd.Timestamp(2026, 3, 2, 23), "input_tokens"] == 0
    assert current.loc[pd.Timestamp(2026, 3, 3, 0), "input_tokens"] == 500
    assert current["traces"].sum() == 8


def test_team_filter_keeps_only_that_teams_traces_and_calls(engine, ds):
    got = _kpis(engine, week(teams=("beta",)))
    assert got["traces"] == (2, 1)  # t5 t6 / p2
    assert got["input_tokens"] == (900, 0)
    assert got["session_time_median_s"] == (45, None)


def test_empty_period_gives_zeros_and_no_rates(engine, ds):
    empty = week(start=date(2025, 1, 1), end=date(2025, 1, 7))
    got = _kpis(engine, empty)
    assert got["traces"] == (0, 0)
    assert got["error_rate"] == (None, None)
    assert got["session_time_median_s"] == (None, None)
    assert got["session_time_p90_s"] == (None, None)
    frame = trend_timeline(engine, empty)
    assert len(frame) == 14 and frame["traces"].sum() == 0


def test_trend_figures_agree_with_metrics_json(engine, ds):
    """Where the Analytics page and `metrics --json` overlap, they show the same numbers."""
    for filters in (week(), week(teams=("alpha",)), week(environments=("staging",))):
        metrics = headline_metrics(engine, filters)
        got = {key: value for key, (value, _) in _kpis(engine, filters).items()}
        shared = ("traces", "users_active", "errors", "error_rate", "timeouts")
        tokens = ("input_tokens", "output_tokens", "cache_read_tokens")
        assert {k: got[k] for k in shared + tokens} == {k: metrics[k] for k in shared + tokens}
        assert got["completed"] == metrics["ok"]
        stats = run_statistics(engine, filters)
        assert (stats.completion_rate, stats.timeout_rate) == (
            metrics["completion_rate"],
            metrics["timeout_rate"],
        )
        assert stats.tokens == metrics["input_tokens"] + metrics["output_tokens"]


@pytest.mark.parametrize(
    "grouping", [Grouping.FIVE_MINUTES, Grouping.HOUR, Grouping.WEEK, Grouping.MONTH]
)
def test_trend_totals_are_the_same_whatever_the_grouping(engine, ds, grouping):
    # Hours and 5 minutes read the traces and calls, days/weeks/months the daily rollups.
    got = _kpis(engine, week(grouping=grouping))
    assert got["traces"] == (8, 2)
    assert got["users_active"] == (3, 2)
    assert got["completed"] == (5, 1)
    assert got["errors"] == (1, 1)
    assert got["timeouts"] == (1, 0)
    assert got["input_tokens"] == (1000 + 500 + 2000 + 300 + 800 + 100 + 400, 100)
    assert got["cache_read_tokens"] == (400 + 600, 0)
    assert got["session_time_median_s"] == ((45 + 80) / 2, 50)
    assert got["session_time_p90_s"] == (80 + 0.7 * (S1_SECONDS - 80), 50)
