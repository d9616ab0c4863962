"""Quality numbers against a plain-Python computation over the same traces and scores."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from telemetry.filters import Filters
from telemetry.ingest.scores import ScoreItem
from telemetry.ingest.writer import SpanWriter
from telemetry.queries.metrics import headline_metrics
from telemetry.queries.quality import (
    quality_by,
    quality_totals,
    quality_trend,
    score_means_by,
)
from telemetry.queries.review import review_queue
from telemetry.scores import POSITIVE_LABELS, finish_score
from telemetry.timeutil import to_us
from tests.factories import Dataset, generation, root

PERIOD = Filters(date(2026, 3, 1), date(2026, 3, 7))
# trace id, day of March, agent, user, model, cost, failed
RUNS = [
    ("t1", 2, "coder", "ana", "gpt-4o", 0.10, False),
    ("t2", 2, "coder", "ana", "claude", 0.30, True),
    ("t3", 3, "coder", "bo", "gpt-4o", 0.05, False),
    ("t4", 4, "helper", "bo", "claude", 0.20, False),
    ("t5", 5, "helper", "cy", "gpt-4o", 0.40, False),
    ("t6", 6, "helper", "cy", "gpt-4o", 0.01, True),
    ("old", 20, "coder", "ana", "gpt-4o", 9.00, False),  # February: outside the period
]
# trace, name, value, label, source, minute of the score's time (later wins)
SCORES = [
    ("t1", "user_feedback", None, "up", "feedback", 1),
    ("t1", "user_feedback", None, "down", "feedback", 5),  # t1's latest verdict: negative
    ("t2", "review", 0.0, "", "human", 2),
    ("t3", "user_feedback", None, "down", "feedback", 9),
    ("t3", "review", 1.0, "", "human", 3),  # sent after, but older: t3 stays negative
    ("t4", "user_feedback", None, "up", "feedback", 1),
    ("t4", "relevance", 0.5, "", "llm", 1),
    ("t5", "relevance", 0.9, "on topic", "llm", 1),
    ("t5", "hallucination", None, "no", "llm", 1),
    ("t6", "hallucination", None, "yes", "llm", 1),
    ("old", "user_feedback", None, "up", "feedback", 1),
    ("ghost", "user_feedback", None, "up", "feedback", 1),  # its trace never arrived
]


def _start(trace_id: str) -> datetime:
    day = next(run[1] for run in RUNS if run[0] == trace_id)
    return datetime(2026, 3 if trace_id != "old" else 2, day, 10)


@pytest.fixture
def store(engine):
    ds = Dataset(engine)
    ds.team("alpha")
    ds.team("beta")
    for user, team in (("ana", "alpha"), ("bo", "alpha"), ("cy", "beta")):
        ds.user(user, team=team, created=datetime(2026, 1, 1))
    for trace_id, _day, agent, user, model, cost, failed in RUNS:
        status = {"status": "error", "error_type": "ValueError"} if failed else {}
        ds.trace(
            trace_id,
            start=_start(trace_id),
            user=user,
            agent=agent,
            spans=[root("run", **status), generation(model, cost_usd=cost)],
        )
    items = []
    for i, (trace_id, name, value, label, source, minute) in enumerate(SCORES):
        score = {
            "trace_id": trace_id,
            "span_id": "",
            "session_key": "",
            "name": name,
            "value": value,
            "label": label,
            "comment": "",
            "source": source,
            "author": "test",
            "time_us": to_us(datetime(2026, 3, 8, 12, minute)),
        }
        items.append(ScoreItem(f"score {i}", finish_score(score, f"s{i}")))
    SpanWriter(engine, ds.org_id, source="test").write(scores=items)
    return engine


def _positive(label, value) -> bool:
    return label in POSITIVE_LABELS or (value is not None and value > 0)


def _expected_verdicts() -> dict[str, bool]:
    latest: dict[str, tuple[int, bool]] = {}
    for trace_id, name, value, label, _source, minute in SCORES:
        newer = trace_id not in latest or minute > latest[trace_id][0]
        if name in ("user_feedback", "review") and newer:
            latest[trace_id] = (minute, _positive(label, value))
    return {trace_id: positive for trace_id, (_m, positive) in latest.items()}


def _in_period() -> list[tuple]:
    return [run for run in RUNS if run[0] != "old"]


def test_quality_totals_match_a_plain_computation(store):
    verdicts = _expected_verdicts()
    runs = _in_period()
    rated = [run for run in runs if run[0] in verdicts]
    good = [run for run in rated if verdicts[run[0]]]
    cost = sum(run[5] for run in runs)
    totals = quality_totals(store, PERIOD)
    assert (totals.runs, totals.rated, totals.positive) == (len(runs), len(rated), len(good))
    assert totals.feedback_coverage == pytest.approx(len(rated) / len(runs))
    assert totals.positive_rate == pytest.approx(len(good) / len(rated))
    assert totals.cost_per_good_run == pytest.approx(cost / len(good))
    metrics = headline_metrics(store, PERIOD)
    assert metrics["feedback_coverage"] == pytest.approx(len(rated) / len(runs))
    assert metrics["positive_rate"] == pytest.approx(len(good) / len(rated))
    assert metrics["cost_per_good_run"] == pytest.approx(round(cost / len(good), 6))
    expected_scores = {}
    for trace_id, name, value, label, _source, _minute in SCORES:
        if trace_id in {run[0] for run in runs}:
            entry = expected_scores.setdefault(name, {"count": 0, "values": [], "labels": {}})
            entry["count"] += 1
            if value is not None:
                entry["values"].append(value)
            if label:
                entry["labels"][label] = entry["labels"].get(label, 0) + 1
    by_score = {s["name"]: s for s in metrics["by_score"]}
    assert [s["name"] for s in metrics["by_score"]] == sorted(expected_scores)
    for name, entry in expected_scores.items():
        mean = sum(entry["values"]) / len(entry["values"]) if entry["values"] else None
        assert by_score[name]["count"] == entry["count"]
        assert by_score[name]["labels"] == entry["labels"]
        assert by_score[name]["mean"] == (None if mean is None else pytest.approx(mean))


# A window with partial edge days (the report's "last 24 hours" kind of period): the
# rollups are read as a derived table (telemetry.queries.rollup_scope). t1, t2 (2 March,
# 10:00) and t6 (6 March, 10:00) fall outside it.
WINDOW = Filters.window(to_us(datetime(2026, 3, 2, 11)), to_us(datetime(2026, 3, 6, 9)))
IN_WINDOW = ("t3", "t4", "t5")


@pytest.mark.parametrize("period", ["whole days", "window"])
@pytest.mark.parametrize("dimension", ["agent", "model", "user", "team"])
def test_quality_per_dimension_matches_a_plain_computation(store, dimension, period):
    verdicts = _expected_verdicts()
    column = {"agent": 2, "user": 3, "model": 4, "team": 3}[dimension]
    teams = {"ana": "alpha", "bo": "alpha", "cy": "beta"}
    runs = _in_period() if period == "whole days" else [r for r in RUNS if r[0] in IN_WINDOW]
    expected = {}
    for run in runs:
        key = teams[run[column]] if dimension == "team" else run[column]
        entry = expected.setdefault(key, [0, 0, 0, 0.0])
        entry[0] += 1
        entry[1] += run[0] in verdicts
        entry[2] += verdicts.get(run[0], False)
        entry[3] += run[5]
    frame = quality_by(store, PERIOD if period == "whole days" else WINDOW, dimension)
    got = {
        getattr(row, dimension): [row.runs, row.rated, row.positive, row.cost_usd]
        for row in frame.itertuples()
    }
    assert got.keys() == expected.keys()
    for key, (runs, rated, positive, cost) in expected.items():
        assert got[key][:3] == [runs, rated, positive]
        assert got[key][3] == pytest.approx(cost)
        good = frame[frame[dimension] == key].iloc[0].cost_per_good_run
        if positive:
            assert good == pytest.approx(cost / positive)
        else:
            assert pd.isna(good)


def test_team_filter_and_trend_and_score_means(store):
    verdicts = _expected_verdicts()
    beta = Filters(PERIOD.start, PERIOD.end, teams=("beta",))
    beta_runs = [run for run in _in_period() if run[3] == "cy"]
    totals = quality_totals(store, beta)
    assert totals.runs == len(beta_runs)
    assert totals.rated == sum(run[0] in verdicts for run in beta_runs)
    trend = quality_trend(store, PERIOD)
    per_day = {}
    for run in _in_period():
        per_day[run[1]] = per_day.get(run[1], 0) + 1
    assert list(trend.runs) == [per_day.get(day, 0) for day in range(1, 8)]  # 1 .. 7 March
    rated_per_day = {}
    for run in _in_period():
        rated_per_day[run[1]] = rated_per_day.get(run[1], 0) + (run[0] in verdicts)
    assert list(trend.rated) == [rated_per_day.get(day, 0) for day in range(1, 8)]
    means = score_means_by(store, PERIOD, "agent")
    helper = means[(means.agent == "helper") & (means.name == "relevance")].iloc[0]
    assert helper["mean"] == pytest.approx((0.5 + 0.9) / 2)


def test_review_queue_lists_negative_then_failed_then_a_sample_not_reviewed(store):
    verdicts = _expected_verdicts()
    reviewed = {s[0] for s in SCORES if s[4] == "human"}
    queue = review_queue(store, PERIOD, sample=10, seed=1)
    runs = [run for run in _in_period() if run[0] not in reviewed]
    negative = {run[0] for run in runs if verdicts.get(run[0]) is False}
    failed = {run[0] for run in runs if run[6]} - negative
    rest = {run[0] for run in runs} - negative - failed
    reasons = dict(zip(queue.trace_id, queue.reason, strict=True))
    assert {t for t, r in reasons.items() if r == "negative feedback"} == negative
    assert {t for t, r in reasons.items() if r == "failed"} == failed
    sampled = {t for t, r in reasons.items() if r == "sample"}
    assert sampled and sampled <= rest
    assert list(queue.reason) == sorted(
        queue.reason, key=["negative feedback", "failed", "sample"].index
    )
    assert list(review_queue(store, PERIOD, sample=10, seed=1).trace_id) == list(queue.trace_id)


def test_negative_feedback_rate_and_score_means_are_alert_metrics(store):
    from telemetry.alerts.metrics import Target, check_metric, measure
    from telemetry.timeutil import day_start_us

    verdicts = _expected_verdicts()
    rated = [run[0] for run in _in_period() if run[0] in verdicts]
    negative = [trace for trace in rated if not verdicts[trace]]
    at = day_start_us(date(2026, 3, 7))  # the 7 days before: 28 Feb .. 6 Mar
    target = Target("default")
    found = measure(store, target, "negative_feedback_rate", "7d", at, need_runs=True)
    assert (found.value, found.runs) == (pytest.approx(len(negative) / len(rated)), len(rated))
    relevance = [s[2] for s in SCORES if s[1] == "relevance"]
    found = measure(store, target, "score_mean.relevance", "7d", at, need_runs=True)
    assert (found.value, found.runs) == (pytest.approx(sum(relevance) / len(relevance)), 2)
    assert measure(store, target, "score_mean.tone", "7d", at, need_runs=True).value is None
    assert not check_metric("score_mean.relevance").model_scope
    with pytest.raises(ValueError, match=r"score_mean\.NAME"):
        check_metric("score_mean.")
