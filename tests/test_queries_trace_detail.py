"""One trace in full: tree order and depths, waterfall offsets, generation and tool fields,
the failing step, content only when asked for, and team scoping of deep links.

The known trace "t-fail" (started 2026-03-03 12:00:00 UTC, team Avalon), offsets in seconds:

    root   support-turn  agent       0 -> 10    ERROR "tool search failed"
    g1     chat gpt-4o   generation  1 -> 3     1000 in (300 cached) / 200 out, $0.01 provided
    t1     search        tool        3.5 -> 5   ERROR ConnectionError "index unavailable"
    g2     chat claude   generation  4 -> 4.5   (child of t1) 50 in / 5 out, $0.002 catalog
    o1     late-callback span        2 -> 3     parent "gone" is not stored: an orphan
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import update

from telemetry.charts.trace import waterfall_chart
from telemetry.filters import Filters
from telemetry.models import CostSource, Observation, ObservationKind, SpanStatus
from telemetry.queries.trace_detail import MAX_OBSERVATIONS, build_tree, trace_detail
from telemetry.timeutil import to_us
from tests.factories import Dataset, generation, root, span, tool

START = datetime(2026, 3, 3, 12, 0)
START_US = to_us(START)
SECRET_PROMPT = "SECRET-PROMPT: summarise the contract for ACME"
SECRET_ANSWER = "SECRET-ANSWER: the contract renews in May"
SECRET_EVENT_TEXT = "SECRET-EVENT-PROMPT"


def _filters(teams=None, start=date(2026, 3, 1), end=date(2026, 3, 31), environments=None):
    return Filters(start=start, end=end, teams=teams, environments=environments)


@pytest.fixture
def known(engine) -> Dataset:
    ds = Dataset(engine)
    ds.user("ana", team="Avalon")
    ds.user("bob", team="Borealis")
    ds.trace(
        "t-fail",
        user="ana",
        session="s-1",
        agent="helper",
        module="support-app",
        start=START,
        spans=[
            root(
                "support-turn",
                seconds=10,
                status=SpanStatus.ERROR,
                error_type="ToolError",
                status_message="tool search failed",
            ),
            generation(
                "gpt-4o",
                "openai",
                span_id="g1",
                at=1,
                seconds=2,
                input_tokens=1000,
                cache_read_tokens=300,
                output_tokens=200,
                cost_usd=0.01,
                cost_source=CostSource.PROVIDED,
                attributes={
                    "gen_ai.request.temperature": 0.2,
                    "gen_ai.request.max_tokens": 512,
                    "http.route": "/chat",
                },
            ),
            tool(
                "search",
                span_id="t1",
                at=3.5,
                seconds=1.5,
                status=SpanStatus.ERROR,
                error_type="ConnectionError",
                status_message="index unavailable",
                tool_type="function",
            ),
            generation(
                "claude-3-5-haiku",
                "anthropic",
                span_id="g2",
                parent="t1",
                at=4,
                seconds=0.5,
                input_tokens=50,
                output_tokens=5,
                cost_usd=0.002,
                cost_source=CostSource.CATALOG,
            ),
            span("late-callback", span_id="o1", parent="gone", at=2, seconds=1),
        ],
    )
    ds.trace("t-b", user="bob", start=START, spans=[root("borealis-run")])
    events = {
        "t1": [
            {
                "name": "exception",
                "time_us": START_US + 4_900_000,
                "attributes": {
                    "exception.type": "ConnectionError",
                    "exception.message": "index unavailable",
                },
            }
        ],
        "g1": [
            {
                "name": "gen_ai.content.prompt",
                "time_us": START_US + 1_000_000,
                "attributes": {"gen_ai.prompt": SECRET_EVENT_TEXT},
            }
        ],
    }
    with engine.begin() as conn:
        for span_id, listed in events.items():
            conn.execute(
                update(Observation)
                .where(Observation.span_id == span_id)
                .values(events=json.dumps(listed))
            )
        conn.execute(
            update(Observation)
            .where(Observation.span_id == "g1")
            .values(input_content=SECRET_PROMPT, output_content=SECRET_ANSWER)
        )
    return ds


def test_tree_lists_parents_first_children_by_start_and_orphans_at_the_root(engine, known):
    detail = trace_detail(engine, _filters(), "t-fail", include_content=True)
    shape = [(n.step, n.span_id, n.depth, n.orphan) for n in detail.observations]
    assert shape == [
        (1, "root", 0, False),
        (2, "g1", 1, False),
        (3, "t1", 1, False),
        (4, "g2", 2, False),
        (5, "o1", 0, True),
    ]
    assert detail.total_observations == 5 and not detail.truncated


def test_trace_row_has_who_where_status_and_totals(engine, known):
    trace = trace_detail(engine, _filters(), "t-fail", include_content=False).trace
    assert (trace.name, trace.user, trace.team, trace.session) == (
        "support-turn",
        "ana",
        "Avalon",
        "s-1",
    )
    assert (trace.agent, trace.module, trace.environment) == ("helper", "support-app", "production")
    assert trace.status == "error" and trace.failed and not trace.running
    assert (trace.start_us, trace.end_us, trace.duration_ms) == (
        START_US,
        START_US + 10_000_000,
        10_000.0,
    )
    # LLM calls only: g1 and g2.
    assert trace.tokens == 1000 + 200 + 50 + 5
    assert trace.cost_usd == pytest.approx(0.012)
    assert (trace.generations, trace.tool_calls, trace.tool_errors) == (2, 1, 1)


def test_generation_shows_model_tokens_latency_cost_source_and_request_parameters(engine, known):
    nodes = {n.span_id: n for n in trace_detail(engine, _filters(), "t-fail", False).observations}
    g1 = nodes["g1"]
    assert (g1.kind, g1.model, g1.provider) == ("generation", "gpt-4o", "openai")
    assert (g1.input_tokens, g1.cache_read_tokens, g1.output_tokens) == (1000, 300, 200)
    assert g1.duration_ms == 2000.0 and g1.offset_ms == 1000.0
    assert (g1.cost_usd, g1.cost_source) == (0.01, "provided")
    assert g1.request_parameters == {"max_tokens": 512, "temperature": 0.2}
    assert nodes["g2"].cost_source == "catalog"


def test_tool_call_shows_name_type_duration_status_and_error(engine, known):
    nodes = {n.span_id: n for n in trace_detail(engine, _filters(), "t-fail", False).observations}
    t1 = nodes["t1"]
    assert (t1.kind, t1.tool_name, t1.tool_type) == ("tool", "search", "function")
    assert (t1.duration_ms, t1.status, t1.is_error) == (1500.0, "error", True)
    assert (t1.error_type, t1.status_message) == ("ConnectionError", "index unavailable")


def test_failing_step_is_the_first_error_to_end_not_the_root_it_bubbled_to(engine, known):
    detail = trace_detail(engine, _filters(), "t-fail", include_content=False)
    assert [n.span_id for n in detail.errors] == ["root", "t1"]
    failing = detail.failing_step
    assert (failing.step, failing.name, failing.error_text) == (
        3,
        "execute_tool search",
        "index unavailable",
    )


def test_events_come_in_time_order_with_their_step(engine, known):
    events = trace_detail(engine, _filters(), "t-fail", include_content=True).events
    assert [(e.name, e.step, e.offset_ms) for e in events] == [
        ("gen_ai.content.prompt", 2, 1000.0),
        ("exception", 3, 4900.0),
    ]
    assert events[0].attributes == {"gen_ai.prompt": SECRET_EVENT_TEXT}


def test_content_is_returned_only_when_asked_for(engine, known):
    with_content = trace_detail(engine, _filters(), "t-fail", include_content=True)
    g1 = next(n for n in with_content.observations if n.span_id == "g1")
    assert (g1.input_content, g1.output_content) == (SECRET_PROMPT, SECRET_ANSWER)

    without = trace_detail(engine, _filters(), "t-fail", include_content=False)
    assert all(n.input_content is None and n.output_content is None for n in without.observations)
    prompt_event = without.events[0]
    assert prompt_event.name == "gen_ai.content.prompt" and prompt_event.attributes == {}
    assert without.events[1].attributes["exception.message"] == "index unavailable"
    assert SECRET_EVENT_TEXT not in repr(without) and "SECRET" not in repr(without)


def test_waterfall_bars_span_each_observation_in_tree_order(engine, known):
    detail = trace_detail(engine, _filters(), "t-fail", include_content=False)
    spec = waterfall_chart(detail).to_dict()
    (values,) = spec["datasets"].values()
    bars = [(v["label"], v["start_ms"], v["end_ms"], v["colour"], v["state"]) for v in values]
    em = "\u2003"
    assert bars == [
        ("1. support-turn", 0.0, 10_000.0, "error", "ended"),
        (f"2. {em}chat gpt-4o", 1_000.0, 3_000.0, "generation", "ended"),
        (f"3. {em}execute_tool search", 3_500.0, 5_000.0, "error", "ended"),
        (f"4. {em * 2}chat claude-3-5-haiku", 4_000.0, 4_500.0, "generation", "ended"),
        ("5. late-callback", 2_000.0, 3_000.0, "span", "ended"),
    ]
    assert spec["encoding"]["y"]["sort"] == [bar[0] for bar in bars]


def test_running_spans_reach_now_on_the_waterfall(engine):
    ds = Dataset(engine)
    ds.trace(
        "t-run",
        start=START,
        spans=[
            root("long-run", seconds=None),
            generation(span_id="g", at=1, seconds=2),
            span("open-step", span_id="open", kind=ObservationKind.TOOL, at=4, seconds=None),
        ],
    )
    detail = trace_detail(engine, _filters(), "t-run", include_content=False)
    assert detail.trace.running and detail.trace.end_us is None
    now = START_US + 30_000_000
    (values,) = waterfall_chart(detail, now_us=now).to_dict()["datasets"].values()
    assert [(v["start_ms"], v["end_ms"], v["state"]) for v in values] == [
        (0.0, 30_000.0, "running"),
        (1_000.0, 3_000.0, "ended"),
        (4_000.0, 30_000.0, "running"),
    ]


def test_a_manager_gets_nothing_for_another_teams_trace_id(engine, known):
    assert trace_detail(engine, _filters(teams=("Avalon",)), "t-b", include_content=False) is None
    assert trace_detail(engine, _filters(teams=("Borealis",)), "t-b", False) is not None
    # The same answer as an id that does not exist: nothing to probe.
    assert trace_detail(engine, _filters(teams=("Avalon",)), "no-such-trace", False) is None
    assert trace_detail(engine, _filters(teams=()), "t-fail", False) is None


def test_environment_filter_applies_to_a_deep_link(engine, known):
    assert trace_detail(engine, _filters(environments=("staging",)), "t-fail", False) is None
    assert trace_detail(engine, _filters(environments=("production",)), "t-fail", False)


def test_a_deep_link_ignores_the_period(engine, known):
    long_before = _filters(teams=("Avalon",), start=date(2025, 1, 1), end=date(2025, 1, 31))
    detail = trace_detail(engine, long_before, "t-fail", include_content=False)
    assert detail is not None and detail.trace.trace_id == "t-fail"


def test_another_organizations_trace_is_not_found(engine, known):
    other = Dataset(engine, org="other")
    other.trace("t-other", start=START)
    assert trace_detail(engine, _filters(), "t-other", include_content=True) is None


def _row(span_id: str, parent: str, start_s: float) -> dict:
    start = START_US + int(start_s * 1_000_000)
    return {
        "span_id": span_id,
        "parent_span_id": parent,
        "name": span_id,
        "kind": "span",
        "operation": "",
        "status": "unset",
        "status_message": "",
        "error_type": "",
        "start_us": start,
        "end_us": start + 1000,
        "duration_ms": 1.0,
        "model": "",
        "provider": "",
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "reasoning_tokens": 0,
        "cost_usd": 0.0,
        "cost_source": "",
        "tool_name": "",
        "tool_type": "",
        "attributes": "{}",
        "events": "[]",
    }


def test_spans_in_a_parent_cycle_or_their_own_parent_are_never_lost():
    rows = [_row("a", "b", 0), _row("b", "a", 1), _row("self", "self", 2), _row("r", "", 3)]
    nodes, _ = build_tree(rows, START_US, include_content=False)
    assert sorted(n.span_id for n in nodes) == ["a", "b", "r", "self"]
    assert [(n.span_id, n.depth, n.orphan) for n in nodes] == [
        ("self", 0, True),
        ("r", 0, False),
        ("a", 0, True),
        ("b", 1, False),
    ]


def test_a_deep_chain_of_spans_is_walked_without_recursion():
    rows = [_row(f"s{i}", f"s{i - 1}" if i else "", i / 1000) for i in range(3000)]
    nodes, _ = build_tree(rows, START_US, include_content=False)
    assert [n.depth for n in nodes] == list(range(3000))


def test_huge_traces_are_capped_with_the_stored_count(engine, monkeypatch):
    import telemetry.queries.trace_detail as module

    monkeypatch.setattr(module, "MAX_OBSERVATIONS", 3)
    ds = Dataset(engine)
    ds.trace(
        "t-big",
        start=START,
        spans=[root()] + [span(f"step-{i}", at=i, seconds=0.5) for i in range(1, 6)],
    )
    detail = trace_detail(engine, _filters(), "t-big", include_content=False)
    assert len(detail.observations) == 3 and detail.total_observations == 6
    assert detail.truncated
    assert [n.name for n in detail.observations] == ["run", "step-1", "step-2"]
    assert MAX_OBSERVATIONS == 5_000


def test_period_days_do_not_matter_even_for_a_trace_started_long_ago(engine, known):
    ds = known
    ds.trace("t-old", user="ana", start=START - timedelta(days=400))
    assert trace_detail(engine, _filters(teams=("Avalon",)), "t-old", False) is not None


def test_the_waterfall_draws_at_most_its_row_cap(engine, monkeypatch):
    import telemetry.charts.trace as chart_module

    monkeypatch.setattr(chart_module, "WATERFALL_MAX_ROWS", 4)
    ds = Dataset(engine)
    ds.trace("t-wide", start=START, spans=[root()] + [span(f"s-{i}", at=i) for i in range(1, 6)])
    detail = trace_detail(engine, _filters(), "t-wide", include_content=False)
    (values,) = waterfall_chart(detail).to_dict()["datasets"].values()
    assert [v["name"] for v in values] == ["run", "s-1", "s-2", "s-3"]


def test_a_step_reads_ok_error_or_running_never_unset():
    rows = [_row("unset", "", 0), _row("failed", "", 1), _row("open", "", 2)]
    rows[1] = {**rows[1], "status": "error"}
    rows[2] = {**rows[2], "end_us": None, "duration_ms": None}
    nodes, _ = build_tree(rows, START_US, include_content=False)
    shown = {node.span_id: node.status_text for node in nodes}
    assert shown == {"unset": "ok", "failed": "error", "open": "running"}
