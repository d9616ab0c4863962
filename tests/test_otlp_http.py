"""POST /v1/traces over a real socket: the OpenTelemetry SDK's exporter, keys, limits, encodings."""

from __future__ import annotations

import gzip
import http.client
import json
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from google.protobuf import json_format
from google.rpc import status_pb2
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Status, StatusCode, set_span_in_context
from sqlalchemy import select

from telemetry.apikeys import create_key, revoke_key
from telemetry.cli import main
from telemetry.db import DATABASE_URL_ENV
from telemetry.ingest.files import import_files
from telemetry.ingest.limits import Limits
from telemetry.models import Team, Trace, User
from tests.ingest_support import (
    SECOND_NS,
    T0_NS,
    counts,
    otlp_request,
    otlp_span,
    post,
    rollup_drift_of,
    running_server,
    trace_hex,
    trace_row,
)

JSON = {"Content-Type": "application/json"}
PROTOBUF = {"Content-Type": "application/x-protobuf"}


def auth(key: str, headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Authorization": f"Bearer {key}"}


def protobuf_body(request: dict) -> bytes:
    """The binary protobuf of an OTLP/JSON request (ids turned into bytes)."""
    message = ExportTraceServiceRequest()
    for resource_spans in request["resourceSpans"]:
        target = message.resource_spans.add()
        json_format.ParseDict(resource_spans["resource"], target.resource)
        for scope_spans in resource_spans["scopeSpans"]:
            scope = target.scope_spans.add()
            for span in scope_spans["spans"]:
                fields = {k: v for k, v in span.items() if not k.endswith("Id")}
                out = json_format.ParseDict(fields, scope.spans.add())
                out.trace_id = bytes.fromhex(span["traceId"])
                out.span_id = bytes.fromhex(span["spanId"])
                out.parent_span_id = bytes.fromhex(span.get("parentSpanId", ""))
    return message.SerializeToString()


# --- the real SDK, end to end -------------------------------------------------

GENERATIONS = [
    # (trace, model, provider, input incl. cache, cache read, cache write, output)
    ("run-ok", "gpt-4o", "openai", 1_000, 200, 0, 100),
    ("run-ok", "claude-3-5-sonnet", "anthropic", 500, 0, 100, 50),
    ("run-error", "gpt-4o-mini", "openai", 300, 0, 0, 30),
    ("run-timeout", "acme-llm-1", "acme", 50, 0, 0, 5),
    ("run-open", "gpt-4o", "openai", 100, 0, 0, 10),
]
# USD per million tokens from the providers' price lists: input, cached read, cache write, output.
PRICES = {
    "gpt-4o": (2.50, 1.25, 2.50, 10.0),
    "claude-3-5-sonnet": (3.0, 0.30, 3.75, 15.0),
    "gpt-4o-mini": (0.15, 0.075, 0.15, 0.60),
}


def expected_cost(model: str, tokens_in: int, read: int, write: int, out: int) -> float:
    if model not in PRICES:
        return 0.0
    rate_in, rate_read, rate_write, rate_out = PRICES[model]
    fresh = tokens_in - read - write
    return (fresh * rate_in + read * rate_read + write * rate_write + out * rate_out) / 1e6


def export_agent_runs(url: str, key: str) -> None:
    """Four agent runs through the SDK's OTLP/HTTP protobuf exporter, at fixed times."""
    exporter = OTLPSpanExporter(
        endpoint=f"{url}/v1/traces", headers={"Authorization": f"Bearer {key}"}
    )
    provider = TracerProvider(resource=Resource.create({"service.name": "support-bot"}))
    provider.add_span_processor(BatchSpanProcessor(exporter, max_export_batch_size=512))
    tracer = provider.get_tracer("tests")
    at = iter(range(T0_NS, T0_NS + 10_000 * SECOND_NS, SECOND_NS))
    roots = {
        "run-ok": ("u-1", "s-1", None),
        "run-error": ("u-2", "s-2", ValueError("bad request")),
        "run-timeout": ("u-1", None, TimeoutError("model did not answer")),
        "run-open": ("u-3", "s-1", None),
    }
    for run, (user, session, failure) in roots.items():
        attrs = {"enduser.id": user, "gen_ai.operation.name": "invoke_agent"}
        if session:
            attrs["gen_ai.conversation.id"] = session
        root = tracer.start_span(run, attributes=attrs, start_time=next(at))
        context = set_span_in_context(root)
        for _, model, provider_name, tokens_in, read, write, out in [
            g for g in GENERATIONS if g[0] == run
        ]:
            call = tracer.start_span(
                f"chat {model}",
                context=context,
                start_time=next(at),
                attributes={
                    "gen_ai.operation.name": "chat",
                    "gen_ai.request.model": model,
                    "gen_ai.provider.name": provider_name,
                    "gen_ai.usage.input_tokens": tokens_in,
                    "gen_ai.usage.cache_read.input_tokens": read,
                    "gen_ai.usage.cache_creation.input_tokens": write,
                    "gen_ai.usage.output_tokens": out,
                },
            )
            call.end(end_time=next(at))
        if run == "run-ok":
            for tool, fails in (("search", False), ("fetch", True)):
                step = tracer.start_span(
                    f"execute_tool {tool}",
                    context=context,
                    start_time=next(at),
                    attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": tool},
                )
                if fails:  # a failing tool inside a run that still answered
                    step.set_status(Status(StatusCode.ERROR, "HTTP 503"))
                step.end(end_time=next(at))
        if failure is not None:
            root.record_exception(failure, timestamp=next(at))
            if isinstance(failure, TimeoutError):
                root.set_attribute("error.type", "timeout")
            root.set_status(Status(StatusCode.ERROR, str(failure)))
        if run != "run-open":  # the last run is still going: its root never ends
            root.end(end_time=next(at))
    assert provider.force_flush(30_000)
    provider.shutdown()


def metrics_json(engine, monkeypatch, capsys, day: str) -> dict:
    monkeypatch.setenv(DATABASE_URL_ENV, engine.url.render_as_string(hide_password=False))
    assert main(["metrics", "--json", "--from", day, "--to", day]) == 0
    return json.loads(capsys.readouterr().out)


def test_sdk_exported_agent_runs_show_up_token_for_token_and_cent_for_cent(
    engine, monkeypatch, capsys
):
    key, _ = create_key(engine, "default", "sdk test")
    with running_server(engine) as url:
        export_agent_runs(url, key)
    metrics = metrics_json(engine, monkeypatch, capsys, "2025-06-01")

    costs = [expected_cost(g[1], *g[3:]) for g in GENERATIONS]
    expected = {
        "traces": 4,
        "ok": 1,
        "errors": 1,
        "timeouts": 1,
        "running": 1,
        "finished": 3,
        # The open run's root (which names its user and session) has not been exported yet.
        "sessions": 2,
        "traces_without_session": 2,
        "users_active": 2,
        "users_new": 2,
        "active_modules": 1,
        "generations": len(GENERATIONS),
        "priced_generations": sum(1 for g in GENERATIONS if g[1] in PRICES),
        "input_tokens": sum(g[3] for g in GENERATIONS),
        "cache_read_tokens": sum(g[4] for g in GENERATIONS),
        "cache_write_tokens": sum(g[5] for g in GENERATIONS),
        "output_tokens": sum(g[6] for g in GENERATIONS),
        "cost_usd": round(sum(costs), 6),
    }
    assert {k: metrics[k] for k in expected} == expected
    assert metrics["priced_share"] == pytest.approx(4 / 5)
    by_model = {m["model"]: m for m in metrics["by_model"]}
    assert by_model["claude-3-5-sonnet"]["cost_usd"] == round(costs[1], 6)

    run_ok = trace_row(engine, trace_id_named(engine, "run-ok"))
    assert (run_ok["status"], run_ok["tool_calls"], run_ok["tool_errors"]) == ("ok", 2, 1)


def trace_id_named(engine, name: str) -> str:
    with engine.connect() as conn:
        return conn.execute(select(Trace.trace_id).where(Trace.name == name)).scalar_one()


# --- keys ---------------------------------------------------------------------


def test_missing_wrong_or_revoked_key_gets_401_and_nothing_is_stored(engine):
    key, info = create_key(engine, "default")
    body = json.dumps(otlp_request([otlp_span(1, 1, name="root")])).encode()
    with running_server(engine) as url:
        endpoint = f"{url}/v1/traces"
        missing = post(endpoint, body, JSON)
        wrong = post(endpoint, body, auth("tk_not-a-real-key", JSON))
        revoke_key(engine, info.prefix)
        revoked = post(endpoint, body, auth(key, JSON))
    assert [missing[0], wrong[0], revoked[0]] == [401, 401, 401]
    assert "revoked" in json.loads(revoked[2])["message"]
    assert counts(engine) == {"traces": 0, "observations": 0, "quarantined": 0}


# --- bodies: size, encoding, type ---------------------------------------------


def test_a_body_over_the_limit_gets_413_whether_declared_or_streamed(engine):
    key, _ = create_key(engine, "default")
    body = json.dumps(otlp_request([otlp_span(1, n) for n in range(1, 40)])).encode()
    assert len(body) > 2_000
    with running_server(engine, Limits(max_body_bytes=2_000)) as url:
        declared = post(f"{url}/v1/traces", body, auth(key, JSON))
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        chunks = (body[i : i + 500] for i in range(0, len(body), 500))
        conn.request(
            "POST", "/v1/traces", body=chunks, headers=auth(key, JSON), encode_chunked=True
        )
        streamed = conn.getresponse()
        streamed_status, streamed_body = streamed.status, streamed.read()
        conn.close()
    assert declared[0] == 413
    assert "limit of 2000 bytes" in json.loads(declared[2])["message"]
    assert streamed_status == 413, streamed_body
    assert counts(engine)["traces"] == 0


def test_a_gzip_bomb_is_refused_with_413_without_inflating_it(engine):
    key, _ = create_key(engine, "default")
    bomb = gzip.compress(b"{" + b" " * 5_000_000 + b"}")
    assert len(bomb) < 10_000
    with running_server(engine, Limits(max_body_bytes=100_000)) as url:
        status, _, body = post(
            f"{url}/v1/traces", bomb, auth(key, {**JSON, "Content-Encoding": "gzip"})
        )
    assert status == 413
    assert "inflates" in json.loads(body)["message"]


def test_a_gzip_protobuf_body_is_accepted_and_answered_in_protobuf(engine):
    key, _ = create_key(engine, "default")
    request = otlp_request([otlp_span(1, 1, name="root"), otlp_span(1, 2, parent=1)])
    with running_server(engine) as url:
        status, headers, body = post(
            f"{url}/v1/traces",
            gzip.compress(protobuf_body(request)),
            auth(key, {**PROTOBUF, "Content-Encoding": "gzip"}),
        )
    assert status == 200
    assert headers["content-type"] == "application/x-protobuf"
    assert not ExportTraceServiceResponse.FromString(body).HasField("partial_success")
    assert counts(engine) == {"traces": 1, "observations": 2, "quarantined": 0}


def test_a_json_body_with_a_bad_span_stores_the_rest_and_reports_partial_success(engine):
    key, _ = create_key(engine, "default")
    bad = otlp_span(1, 3, parent=1, attrs={"gen_ai.usage.output_tokens": -5})
    request = otlp_request([otlp_span(1, 1, name="root"), otlp_span(1, 2, parent=1), bad])
    with running_server(engine) as url:
        status, headers, body = post(
            f"{url}/v1/traces", json.dumps(request).encode(), auth(key, JSON)
        )
    assert status == 200
    assert headers["content-type"] == "application/json"
    partial = json.loads(body)["partialSuccess"]
    assert int(partial["rejectedSpans"]) == 1
    assert "spans[2]" in partial["errorMessage"] and "negative" in partial["errorMessage"]
    assert counts(engine) == {"traces": 1, "observations": 2, "quarantined": 1}


def test_an_unparsable_body_gets_400_and_another_content_type_415(engine):
    key, _ = create_key(engine, "default")
    with running_server(engine) as url:
        garbage = post(f"{url}/v1/traces", b"\xff\x00 not protobuf", auth(key, PROTOBUF))
        not_json = post(f"{url}/v1/traces", b"{not json", auth(key, JSON))
        text = post(f"{url}/v1/traces", b"hello", auth(key, {"Content-Type": "text/plain"}))
    assert garbage[0] == 400
    assert "not a protobuf" in status_pb2.Status.FromString(garbage[2]).message
    assert not_json[0] == 400 and "not valid JSON" in json.loads(not_json[2])["message"]
    assert text[0] == 415
    assert counts(engine)["traces"] == 0


def test_too_many_spans_in_one_request_gets_413(engine):
    key, _ = create_key(engine, "default")
    request = otlp_request([otlp_span(1, n) for n in range(1, 12)])
    with running_server(engine, Limits(max_spans_per_request=10)) as url:
        status, _, body = post(f"{url}/v1/traces", json.dumps(request).encode(), auth(key, JSON))
    assert status == 413 and "11 spans" in json.loads(body)["message"]
    assert counts(engine)["observations"] == 0


# --- traces over several requests ---------------------------------------------


def agent_trace(trace: int) -> list[dict]:
    """A root with a generation, a failing tool and a second generation, in time order."""

    def call(tokens_in: int, tokens_out: int) -> dict:
        return {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": tokens_in,
            "gen_ai.usage.output_tokens": tokens_out,
        }

    root = {"enduser.id": "u-1", "gen_ai.conversation.id": "s-1", "task.outcome": "clean"}
    tool = {"gen_ai.operation.name": "execute_tool", "code.lines_added": 7}
    return [
        otlp_span(trace, 1, name="review", start_s=0, end_s=10, attrs=root),
        otlp_span(trace, 2, parent=1, start_s=1, end_s=3, attrs=call(10, 2)),
        otlp_span(trace, 3, parent=1, start_s=3, end_s=4, status=2, attrs=tool),
        otlp_span(trace, 4, parent=1, start_s=4, end_s=9, attrs=call(20, 4)),
    ]


def comparable(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in ("id", "trace_id")}


def test_spans_split_over_requests_in_reverse_order_give_the_same_trace(engine):
    key, _ = create_key(engine, "default")
    with running_server(engine) as url:
        endpoint = f"{url}/v1/traces"

        def send(spans):
            status, _, _ = post(endpoint, json.dumps(otlp_request(spans)).encode(), auth(key, JSON))
            assert status == 200

        send(agent_trace(1))
        split = agent_trace(2)
        for span in reversed(split[1:]):
            send([span])
            waiting = trace_row(engine, 2)
            assert (waiting["status"], waiting["has_root"], waiting["end_us"]) == (
                "running",
                False,
                None,
            )
        send([split[0]])
        send(split)  # and everything again: nothing changes
    together, apart = trace_row(engine, 1), trace_row(engine, 2)
    assert comparable(apart) == comparable(together)
    assert (together["status"], together["generations"], together["input_tokens"]) == ("ok", 2, 30)
    assert (together["tool_errors"], together["code_lines_added"]) == (1, 7)
    assert together["task_outcome"] == "clean" and together["session_id"] is not None
    assert counts(engine)["observations"] == 8
    assert rollup_drift_of(engine) == []


def test_the_same_request_twice_is_stored_once_and_changes_nothing(engine):
    key, _ = create_key(engine, "default")
    body = json.dumps(otlp_request(agent_trace(1))).encode()
    with running_server(engine) as url:
        assert post(f"{url}/v1/traces", body, auth(key, JSON))[0] == 200
        first = trace_row(engine, 1)
        with engine.connect() as conn:
            user_first = conn.execute(select(User)).mappings().one()
        assert post(f"{url}/v1/traces", body, auth(key, JSON))[0] == 200
    assert trace_row(engine, 1) == first
    with engine.connect() as conn:
        assert conn.execute(select(User)).mappings().one() == user_first
    assert counts(engine) == {"traces": 1, "observations": 4, "quarantined": 0}
    assert user_first["first_trace_us"] == user_first["last_trace_us"] == T0_NS // 1000


def test_concurrent_requests_with_spans_of_the_same_traces_give_whole_traces(engine):
    key, _ = create_key(engine, "default")
    with running_server(engine) as url:
        endpoint = f"{url}/v1/traces"
        assert (
            post(endpoint, json.dumps(otlp_request(agent_trace(1))).encode(), auth(key, JSON))[0]
            == 200
        )
        # Traces 2..6, each span in its own request, all sent at once from 8 threads.
        bodies = [
            json.dumps(otlp_request([span])).encode()
            for trace in range(2, 7)
            for span in agent_trace(trace)
        ]
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda b: post(endpoint, b, auth(key, JSON))[0], bodies))
    assert statuses == [200] * len(bodies)
    together = comparable(trace_row(engine, 1))
    assert all(comparable(trace_row(engine, n)) == together for n in range(2, 7))
    assert counts(engine)["observations"] == 4 * 6
    assert rollup_drift_of(engine) == []


def test_the_endpoint_sees_a_team_change_made_by_another_process_meanwhile(engine, tmp_path):
    key, _ = create_key(engine, "default")
    with running_server(engine) as url:
        endpoint = f"{url}/v1/traces"
        first = otlp_request([otlp_span(1, 1, attrs={"enduser.id": "u-1"})])
        assert post(endpoint, json.dumps(first).encode(), auth(key, JSON))[0] == 200
        directory = tmp_path / "people.csv"
        directory.write_text("id,name,email,company,team,status\nu-1,U,,,Platform,active\n")
        import_files(engine, [directory])  # as `python -m telemetry ingest` would, elsewhere
        second = otlp_request([otlp_span(2, 1, attrs={"enduser.id": "u-1"})])
        assert post(endpoint, json.dumps(second).encode(), auth(key, JSON))[0] == 200
    with engine.connect() as conn:
        teams = dict(
            conn.execute(
                select(Trace.trace_id, Team.name).join(Team, Team.id == Trace.team_id)
            ).all()
        )
    assert teams == {trace_hex(1): "Platform", trace_hex(2): "Platform"}


def test_an_sdk_configured_only_by_the_standard_environment_variables_gets_in(engine, monkeypatch):
    key, _ = create_key(engine, "default")
    with running_server(engine) as url:
        # What the README tells users to set: the base address and the key as a header.
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", f"Authorization=Bearer%20{key}")
        provider = TracerProvider(resource=Resource.create({"service.name": "env-configured"}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        provider.get_tracer("tests").start_span("hello", attributes={"enduser.id": "u-9"}).end()
        assert provider.force_flush(30_000)
        provider.shutdown()
    with engine.connect() as conn:
        assert conn.execute(select(Trace.name, Trace.module)).all() == [("hello", "env-configured")]
