"""A trace's row is derived from its spans as docs/metrics.md "Entities" says."""

from __future__ import annotations

import itertools

import pytest

from telemetry.derive import is_timeout, summarize_trace

HOUR_US = 3_600_000_000
# 2026-03-02 23:30:00 UTC, a Monday, as epoch microseconds (computed by hand:
# 20514 days since 1970-01-01, plus 23.5 hours).
LATE_EVENING = 20514 * 24 * HOUR_US + 23 * HOUR_US + HOUR_US // 2


def span(span_id, parent="", *, start=0, end=1_000_000, **fields):
    return {
        "span_id": span_id,
        "parent_span_id": parent,
        "name": fields.pop("name", span_id),
        "start_us": LATE_EVENING + start,
        "end_us": None if end is None else LATE_EVENING + end,
        "status": fields.pop("status", "unset"),
        "kind": fields.pop("kind", "span"),
        **fields,
    }


def test_trace_spans_midnight_and_belongs_to_the_day_it_started():
    spans = [span("root", start=0, end=HOUR_US), span("late", "root", start=HOUR_US // 2)]
    trace = summarize_trace(spans)
    assert trace["start_day"] == 20514
    assert trace["duration_ms"] == HOUR_US / 1000
    assert trace["end_us"] - trace["start_us"] == HOUR_US


def test_name_and_status_come_from_the_root_span():
    spans = [
        span("root", name="/review", status="ok"),
        span("tool", "root", kind="tool", status="error", name="grep"),
    ]
    trace = summarize_trace(spans)
    assert trace["name"] == "/review"
    # A tool that failed inside a trace that still answered is a tool error only.
    assert trace["status"] == "ok"
    assert (trace["tool_calls"], trace["tool_errors"]) == (1, 1)


@pytest.mark.parametrize(
    ("error_type", "expected"),
    [
        ("timeout", "timeout"),
        ("TimeoutError", "timeout"),
        ("DeadlineExceeded", "timeout"),
        ("RateLimitError", "error"),
        ("", "error"),
    ],
)
def test_errored_root_is_error_or_timeout(error_type, expected):
    spans = [span("root", status="error", error_type=error_type, status_message="boom")]
    trace = summarize_trace(spans)
    assert trace["status"] == expected
    assert trace["error_message"] == "boom"


def test_trace_without_root_or_with_unfinished_root_is_running():
    child_only = summarize_trace([span("child", "root")])
    unfinished = summarize_trace([span("root", end=None), span("child", "root")])
    for trace in (child_only, unfinished):
        assert trace["status"] == "running"
        assert trace["end_us"] is None and trace["duration_ms"] is None
    assert child_only["has_root"] is False


def test_order_of_arrival_does_not_change_the_trace():
    spans = [
        span("root", name="support-turn", status="ok", end=5_000_000, user_id=3, session_id=9),
        span(
            "llm1",
            "root",
            kind="generation",
            input_tokens=100,
            cache_read_tokens=40,
            output_tokens=10,
            cost_usd=0.5,
            start=10,
        ),
        span(
            "llm2",
            "root",
            kind="generation",
            input_tokens=7,
            output_tokens=3,
            cost_usd=0.25,
            start=20,
        ),
        span("agent", "root", kind="agent", input_tokens=107, output_tokens=13, cost_usd=0.75),
    ]
    results = {
        repr(sorted(summarize_trace(list(p)).items())) for p in itertools.permutations(spans)
    }
    assert len(results) == 1
    trace = summarize_trace(spans)
    # Only LLM calls count: the agent span's repeated usage is not added again.
    assert (trace["input_tokens"], trace["output_tokens"]) == (107, 13)
    assert trace["cache_read_tokens"] == 40
    assert trace["cost_usd"] == pytest.approx(0.75)
    assert trace["generations"] == 2
    assert (trace["user_id"], trace["session_id"]) == (3, 9)


def test_code_lines_are_summed_and_task_outcome_kept():
    spans = [
        span("root", attributes={"task.outcome": "revised"}),
        span("edit1", "root", attributes='{"code.lines_added": 12, "code.lines_removed": 3}'),
        span("edit2", "root", attributes={"code.lines_added": "5"}),
    ]
    trace = summarize_trace(spans)
    assert (trace["code_lines_added"], trace["code_lines_removed"]) == (17, 3)
    assert trace["task_outcome"] == "revised"
    plain = summarize_trace([span("root")])
    assert plain["code_lines_added"] is None and plain["task_outcome"] == ""


def test_is_timeout_ignores_unrelated_errors():
    assert is_timeout("asyncio.TimeoutError")
    assert not is_timeout("ValueError")
