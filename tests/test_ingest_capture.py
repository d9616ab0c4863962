"""``telemetry.capture``: a root span around a function, exceptions recorded, sent to the store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from sqlalchemy import select

import telemetry
from telemetry.apikeys import create_key
from telemetry.models import Trace
from tests.ingest_support import running_server, trace_row


@pytest.fixture
def recorded():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def test_capture_returns_the_result_inside_a_root_span_with_the_mapped_attributes(recorded):
    provider, exporter = recorded
    result = telemetry.capture(
        "support-turn",
        lambda: 6 * 7,
        user_id="u-1",
        user_email="u1@example.com",
        session_id="c-9",
        team="Platform",
        agent="helper",
        tracer_provider=provider,
    )
    (span,) = exporter.get_finished_spans()
    assert result == 42
    assert span.name == "support-turn" and span.parent is None
    assert span.status.status_code == StatusCode.OK
    assert dict(span.attributes) == {
        "enduser.id": "u-1",
        "user.email": "u1@example.com",
        "gen_ai.conversation.id": "c-9",
        "team.name": "Platform",
        "gen_ai.agent.name": "helper",
        "gen_ai.operation.name": "invoke_agent",
    }


def test_capture_records_the_exception_and_raises_it_again(recorded):
    provider, exporter = recorded

    def fails():
        raise TimeoutError("no answer")

    with pytest.raises(TimeoutError):
        telemetry.capture("turn", fails, tracer_provider=provider)
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code == StatusCode.ERROR
    assert span.status.description == "no answer"
    assert span.attributes["error.type"] == "TimeoutError"
    assert [e.name for e in span.events] == ["exception"]


def test_every_capture_is_a_new_trace_even_inside_another_span(recorded):
    provider, exporter = recorded
    tracer = provider.get_tracer("outer")
    with tracer.start_as_current_span("outer"):
        telemetry.capture("inner", lambda: None, tracer_provider=provider)
    inner, outer = exporter.get_finished_spans()
    assert inner.parent is None
    assert inner.context.trace_id != outer.context.trace_id


def test_importing_telemetry_does_not_load_the_opentelemetry_sdk():
    code = (
        "import sys, telemetry, telemetry.queries\n"
        "assert 'opentelemetry.sdk' not in sys.modules, 'SDK loaded'\n"
        "assert callable(telemetry.capture) and callable(telemetry.capture)\n"
        "assert 'opentelemetry.sdk' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent.parent)


def test_configured_capture_reaches_the_store(engine):
    key, _ = create_key(engine, "default")
    with running_server(engine) as url:
        provider = telemetry.configure(
            url, key, "billing-bot", environment="staging", set_global=False
        )
        telemetry.capture("ok-run", lambda: "done", user_id="u-7", tracer_provider=provider)
        with pytest.raises(ValueError):
            telemetry.capture(
                "bad-run", _raise_value_error, user_id="u-7", tracer_provider=provider
            )
        provider.shutdown()
    rows = {row["name"]: row for row in _traces(engine)}
    assert (rows["ok-run"]["status"], rows["bad-run"]["status"]) == ("ok", "error")
    assert rows["bad-run"]["error_type"] == "ValueError"
    assert rows["bad-run"]["error_message"] == "wrong"
    assert (rows["ok-run"]["module"], rows["ok-run"]["environment"]) == ("billing-bot", "staging")
    assert trace_row(engine, rows["ok-run"]["trace_id"])["user_id"] is not None


def _raise_value_error():
    raise ValueError("wrong")


def _traces(engine):
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(select(Trace)).mappings()]
