"""Live runs: a trace whose spans arrive over several OTLP/HTTP requests is listed as running
with its tool calls and tokens so far, then leaves the list when its root span arrives."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from telemetry.apikeys import create_key
from telemetry.filters import Filters
from telemetry.queries.live import LIVE_COLUMNS, live_runs
from telemetry.queries.trace_detail import trace_detail
from telemetry.timeutil import US_PER_HOUR, to_us
from tests.factories import Dataset, generation, root, tool
from tests.ingest_support import T0_NS, otlp_request, otlp_span, post, running_server, trace_hex

T0_US = T0_NS // 1000
RUN = 7
RESOURCE = {"team.name": "Avalon", "enduser.id": "ana", "gen_ai.agent.name": "helper"}


def _filters(teams=None, environments=None) -> Filters:
    # A period far from the runs: live runs ignore it.
    return Filters(
        start=date(2020, 1, 1), end=date(2020, 1, 1), teams=teams, environments=environments
    )


def _llm_call(span: int, start_s: float, end_s: float, tokens_in: int, tokens_out: int) -> dict:
    attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.provider.name": "openai",
        "gen_ai.usage.input_tokens": tokens_in,
        "gen_ai.usage.output_tokens": tokens_out,
    }
    return otlp_span(RUN, span, parent=1, start_s=start_s, end_s=end_s, attrs=attrs)


def _tool_call(span: int, start_s: float, end_s: float) -> dict:
    attrs = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"}
    return otlp_span(RUN, span, parent=1, start_s=start_s, end_s=end_s, attrs=attrs)


def _root_span() -> dict:
    attrs = {"gen_ai.operation.name": "invoke_agent"}
    return otlp_span(RUN, 1, name="support-turn", start_s=0, end_s=8, attrs=attrs)


def test_a_run_arriving_over_several_requests_is_live_then_finished(engine):
    key, _ = create_key(engine, "default")
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    now = T0_US + 10_000_000
    with running_server(engine) as url:

        def send(spans: list[dict]) -> None:
            body = json.dumps(otlp_request(spans, RESOURCE)).encode()
            assert post(f"{url}/v1/traces", body, headers)[0] == 200

        send([_llm_call(2, 1, 3, 100, 20), _tool_call(3, 3, 4)])
        first = live_runs(engine, _filters(), now)
        assert first[["trace_id", "agent", "user", "team", "status"]].values.tolist() == [
            [trace_hex(RUN), "helper", "ana", "Avalon", "running"]
        ]
        assert first[["tool_calls", "generations", "tokens"]].values.tolist() == [[1, 1, 120]]
        assert first["start_us"].tolist() == [T0_US + 1_000_000]  # earliest span so far
        assert first["elapsed_ms"].tolist() == [9_000.0]
        assert trace_detail(engine, _filters(), trace_hex(RUN), False).trace.running

        send([_llm_call(4, 4, 6, 200, 30)])
        second = live_runs(engine, _filters(), now)
        assert second[["tool_calls", "generations", "tokens"]].values.tolist() == [[1, 2, 350]]

        send([_root_span()])
    assert live_runs(engine, _filters(), now).empty
    detail = trace_detail(engine, _filters(), trace_hex(RUN), include_content=False)
    assert (detail.trace.status, detail.trace.start_us, detail.trace.end_us) == (
        "ok",
        T0_US,
        T0_US + 8_000_000,
    )
    assert detail.trace.duration_ms == 8_000.0
    assert [(n.name, n.depth) for n in detail.observations] == [
        ("support-turn", 0),
        ("step", 1),
        ("step", 1),
        ("step", 1),
    ]
    assert [n.kind for n in detail.observations] == ["agent", "generation", "tool", "generation"]


START = datetime(2026, 3, 3, 12, 0)
NOW_US = to_us(START) + 2 * US_PER_HOUR


@pytest.fixture
def runs(engine) -> Dataset:
    ds = Dataset(engine)
    ds.user("ana", team="Avalon")
    ds.user("bob", team="Borealis")
    running = [root(seconds=None), generation(input_tokens=10, output_tokens=5), tool()]
    ds.trace("a-now", user="ana", agent="helper", start=START, spans=running)
    ds.trace("a-earlier", user="ana", start=START - timedelta(hours=1), spans=[root(seconds=None)])
    ds.trace("a-done", user="ana", start=START, spans=[root(seconds=30)])
    # 23 hours before "now": still inside the window, oldest last, ties by trace id.
    ds.trace("a-long", user="ana", start=START - timedelta(hours=21), spans=[root(seconds=None)])
    ds.trace("a-longer", user="ana", start=START - timedelta(hours=21), spans=[root(seconds=None)])
    ds.trace(
        "a-staging",
        user="ana",
        environment="staging",
        start=START,
        spans=[root(seconds=None)],
    )
    ds.trace("b-now", user="bob", start=START, spans=[root(seconds=None)])
    # Started 26 hours before "now" and never ended: outside the 24-hour window.
    ds.trace("a-lost", user="ana", start=START - timedelta(hours=24), spans=[root(seconds=None)])
    return ds


def test_live_runs_are_the_running_traces_of_the_last_24_hours_newest_first(engine, runs):
    frame = live_runs(engine, _filters(), NOW_US)
    assert list(frame.columns) == list(LIVE_COLUMNS)
    assert frame["trace_id"].tolist() == [
        "a-now",
        "a-staging",
        "b-now",
        "a-earlier",
        "a-long",
        "a-longer",
    ]
    now_row = frame.set_index("trace_id").loc["a-now"]
    assert (now_row["tool_calls"], now_row["generations"], now_row["tokens"]) == (1, 1, 15)
    assert now_row["elapsed_ms"] == 2 * 3_600_000.0
    assert now_row["agent"] == "helper" and now_row["user"] == "ana"


def test_live_runs_keep_to_the_teams_and_environments_of_the_filters(engine, runs):
    avalon = live_runs(engine, _filters(teams=("Avalon",)), NOW_US)["trace_id"].tolist()
    assert "b-now" not in avalon and "a-now" in avalon
    assert live_runs(engine, _filters(teams=("Borealis",)), NOW_US)["trace_id"].tolist() == [
        "b-now"
    ]
    assert live_runs(engine, _filters(teams=()), NOW_US).empty
    staging = live_runs(engine, _filters(environments=("staging",)), NOW_US)
    assert staging["trace_id"].tolist() == ["a-staging"]


def test_live_runs_are_capped_by_the_limit(engine, runs):
    assert live_runs(engine, _filters(), NOW_US, limit=2)["trace_id"].tolist() == [
        "a-now",
        "a-staging",
    ]
