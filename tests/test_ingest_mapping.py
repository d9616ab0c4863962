"""The attribute mapping of docs/ingest.md: each dialect, kinds, tools, errors, content, limits."""

from __future__ import annotations

import base64
import copy
import json

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from telemetry.ingest.limits import Limits
from telemetry.ingest.mapping import RECORD_TEMPLATE, MappingContext, map_span, map_spans
from telemetry.ingest.native import observation_record, trace_record
from telemetry.ingest.otlp import decode_protobuf
from telemetry.ingest.otlp_json import decode_json
from telemetry.pricing import Pricer
from tests.ingest_support import T0_NS, otlp_request, otlp_span, span_hex, trace_hex

CONTEXT = MappingContext(Pricer(), Limits())
T0_US = T0_NS // 1000


def mapped(span: dict, resource: dict | None = None, context: MappingContext = CONTEXT) -> dict:
    raws, rejections = decode_json(otlp_request([span], resource))
    assert rejections == []
    return map_span(raws[0], context)


def test_current_genai_names_map_to_their_fields():
    record = mapped(
        otlp_span(
            1,
            2,
            parent=1,
            name="chat gpt-4o",
            start_s=1,
            end_s=3.5,
            attrs={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.response.model": "gpt-4o-2024-08-06",
                "gen_ai.provider.name": "openai",
                "gen_ai.usage.input_tokens": 1200,
                "gen_ai.usage.output_tokens": 80,
                "gen_ai.usage.cache_read.input_tokens": 1000,
                "gen_ai.usage.cache_creation.input_tokens": 0,
                "gen_ai.usage.reasoning.output_tokens": 30,
                "gen_ai.conversation.id": "conv-7",
                "enduser.id": "u-1",
                "user.email": "ada@example.com",
                "user.name": "Ada",
                "gen_ai.agent.name": "reviewer",
            },
        ),
        resource={"service.name": "code-review", "deployment.environment.name": "staging"},
    )
    expected = {
        "trace_id": trace_hex(1),
        "span_id": span_hex(2),
        "parent_span_id": span_hex(1),
        "kind": "generation",
        "operation": "chat",
        "model": "gpt-4o-2024-08-06",  # the response model wins over the requested one
        "provider": "openai",
        "input_tokens": 1200,
        "output_tokens": 80,
        "cache_read_tokens": 1000,
        "cache_write_tokens": 0,
        "reasoning_tokens": 30,
        "session_key": "conv-7",
        "user_key": "u-1",
        "user_email": "ada@example.com",
        "user_name": "Ada",
        "agent": "reviewer",
        "module": "code-review",
        "environment": "staging",
        "start_us": T0_US + 1_000_000,
        "end_us": T0_US + 3_500_000,
        "duration_ms": 2500.0,
        "status": "ok",
    }
    assert {k: record[k] for k in expected} == expected


def test_older_genai_names_map_to_the_same_fields():
    record = mapped(
        otlp_span(
            1,
            2,
            attrs={
                "llm.request.type": "chat",  # OpenLLMetry before gen_ai.operation.name
                "gen_ai.system": "anthropic",
                "gen_ai.request.model": "claude-3-5-sonnet",
                "gen_ai.usage.prompt_tokens": 500,
                "gen_ai.usage.completion_tokens": 40,
            },
        ),
        resource={"deployment.environment": "dev"},
    )
    assert (record["kind"], record["provider"], record["model"]) == (
        "generation",
        "anthropic",
        "claude-3-5-sonnet",
    )
    assert (record["input_tokens"], record["output_tokens"], record["environment"]) == (
        500,
        40,
        "dev",
    )


def test_openinference_names_map_to_the_same_fields():
    record = mapped(
        otlp_span(
            1,
            2,
            attrs={
                "openinference.span.kind": "LLM",
                "llm.model_name": "gpt-4o-mini",
                "llm.provider": "openai",
                "llm.token_count.prompt": 900,
                "llm.token_count.completion": 60,
                "llm.token_count.prompt_details.cache_read": 300,
                "llm.token_count.prompt_details.cache_write": 100,
                "llm.token_count.completion_details.reasoning": 12,
                "session.id": "s-9",
                "user.id": "u-2",
                "input.value": "What is 2+2?",
                "output.value": "4",
            },
        )
    )
    expected = {
        "kind": "generation",
        "operation": "llm",
        "model": "gpt-4o-mini",
        "provider": "openai",
        "input_tokens": 900,
        "output_tokens": 60,
        "cache_read_tokens": 300,
        "cache_write_tokens": 100,
        "reasoning_tokens": 12,
        "session_key": "s-9",
        "user_key": "u-2",
        "input_content": "What is 2+2?",
        "output_content": "4",
    }
    assert {k: record[k] for k in expected} == expected


def test_openinference_system_names_the_provider_when_no_provider_is_given():
    record = mapped(otlp_span(1, 2, attrs={"openinference.span.kind": "LLM", "llm.system": "x"}))
    assert record["provider"] == "x"


def test_span_attributes_win_over_resource_attributes():
    record = mapped(
        otlp_span(1, 2, attrs={"enduser.id": "span-user", "team.name": "Platform"}),
        resource={"enduser.id": "resource-user", "team.name": "Sales", "user.email": "r@x.io"},
    )
    assert (record["user_key"], record["team_name"], record["user_email"]) == (
        "span-user",
        "Platform",
        "r@x.io",
    )


def test_environment_defaults_to_production_and_module_to_empty():
    raws, _ = decode_json({"resourceSpans": [{"scopeSpans": [{"spans": [otlp_span(1, 2)]}]}]})
    record = map_span(raws[0], CONTEXT)
    assert (record["environment"], record["module"]) == ("production", "")


@pytest.mark.parametrize(
    ("attrs", "kind"),
    [
        ({"gen_ai.operation.name": "chat"}, "generation"),
        ({"gen_ai.operation.name": "text_completion"}, "generation"),
        ({"gen_ai.operation.name": "generate_content"}, "generation"),
        ({"gen_ai.operation.name": "embeddings"}, "embedding"),
        ({"gen_ai.operation.name": "execute_tool"}, "tool"),
        ({"gen_ai.operation.name": "invoke_agent"}, "agent"),
        ({"gen_ai.operation.name": "create_agent"}, "agent"),
        ({"gen_ai.operation.name": "something_else"}, "span"),
        ({"openinference.span.kind": "LLM"}, "generation"),
        ({"openinference.span.kind": "EMBEDDING"}, "embedding"),
        ({"openinference.span.kind": "TOOL"}, "tool"),
        ({"openinference.span.kind": "AGENT"}, "agent"),
        ({"openinference.span.kind": "RETRIEVER"}, "retriever"),
        ({"openinference.span.kind": "CHAIN"}, "span"),
        ({"openinference.span.kind": "RERANKER"}, "span"),
        ({}, "span"),
    ],
)
def test_operation_gives_the_observation_kind(attrs, kind):
    assert mapped(otlp_span(1, 2, attrs=attrs))["kind"] == kind


def test_tool_span_carries_tool_name_and_type():
    record = mapped(
        otlp_span(
            1,
            2,
            attrs={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "web_search",
                "gen_ai.tool.type": "function",
            },
        )
    )
    assert (record["kind"], record["tool_name"], record["tool_type"]) == (
        "tool",
        "web_search",
        "function",
    )


def test_mcp_tool_call_is_a_tool_of_type_mcp():
    openinference = mapped(
        otlp_span(1, 2, attrs={"openinference.span.kind": "TOOL", "tool.name": "grep"})
    )
    assert (openinference["tool_name"], openinference["tool_type"]) == ("grep", "")
    mcp = mapped(otlp_span(1, 3, attrs={"mcp.method.name": "tools/call"}))
    assert (mcp["kind"], mcp["tool_name"], mcp["tool_type"]) == ("tool", "tools/call", "mcp")


def test_cached_tokens_reported_apart_from_input_are_added_to_it():
    # Anthropic's API counts input without the cache: 50 fresh + 1000 read + 200 written.
    record = mapped(
        otlp_span(
            1,
            2,
            attrs={
                "gen_ai.operation.name": "chat",
                "gen_ai.usage.input_tokens": 50,
                "gen_ai.usage.cache_read.input_tokens": 1000,
                "gen_ai.usage.cache_creation.input_tokens": 200,
            },
        )
    )
    assert (record["input_tokens"], record["cache_read_tokens"], record["cache_write_tokens"]) == (
        1250,
        1000,
        200,
    )


def test_input_that_already_includes_the_cache_is_not_counted_twice():
    record = mapped(
        otlp_span(
            1,
            2,
            attrs={
                "gen_ai.operation.name": "chat",
                "gen_ai.usage.input_tokens": 1250,
                "gen_ai.usage.cache_read.input_tokens": 1000,
                "gen_ai.usage.cache_creation.input_tokens": 200,
            },
        )
    )
    assert record["input_tokens"] == 1250


def test_exception_event_gives_error_type_and_message():
    event = {
        "name": "exception",
        "timeUnixNano": str(T0_NS),
        "attributes": [
            {"key": "exception.type", "value": {"stringValue": "TimeoutError"}},
            {"key": "exception.message", "value": {"stringValue": "no answer in 30 s"}},
        ],
    }
    record = mapped(otlp_span(1, 2, status=2, events=[event]))
    assert (record["status"], record["error_type"], record["status_message"]) == (
        "error",
        "TimeoutError",
        "no answer in 30 s",
    )
    assert json.loads(json.dumps(record["events"]))[0]["name"] == "exception"


def test_error_type_attribute_and_status_message_win_over_the_exception_event():
    event = {
        "name": "exception",
        "attributes": [{"key": "exception.type", "value": {"stringValue": "ValueError"}}],
    }
    record = mapped(
        otlp_span(1, 2, status=2, message="bad input", attrs={"error.type": "400"}, events=[event])
    )
    assert (record["error_type"], record["status_message"]) == ("400", "bad input")


def test_content_is_truncated_to_the_cap_and_kept_out_of_attributes():
    context = MappingContext(Pricer(), Limits(content_max_chars=10, attribute_max_chars=5))
    record = mapped(
        otlp_span(
            1,
            2,
            attrs={
                "gen_ai.input.messages": "a" * 50,
                "gen_ai.output.messages": "short",
                "custom.note": "0123456789",
            },
        ),
        context=context,
    )
    assert record["input_content"] == "a" * 9 + "…"
    assert record["output_content"] == "short"
    assert record["attributes"] == {"custom.note": "0123…"}


def test_older_per_message_content_attributes_become_content():
    record = mapped(
        otlp_span(
            1, 2, attrs={"gen_ai.prompt.0.content": "hi", "gen_ai.completion.0.content": "yo"}
        )
    )
    assert json.loads(record["input_content"]) == {"gen_ai.prompt.0.content": "hi"}
    assert json.loads(record["output_content"]) == {"gen_ai.completion.0.content": "yo"}
    assert record["attributes"] == {}


def test_an_unreadable_token_count_rejects_only_that_span_and_says_where():
    good = otlp_span(1, 1, name="root")
    bad = otlp_span(1, 2, parent=1, attrs={"gen_ai.usage.input_tokens": "lots"})
    raws, rejections = decode_json(otlp_request([good, bad]))
    records, unmapped = map_spans(raws, CONTEXT)
    assert [r["span_id"] for r in records] == [span_hex(1)]
    assert rejections == []
    assert len(unmapped) == 1
    assert unmapped[0].location == "resourceSpans[0].scopeSpans[0].spans[1]"
    assert "gen_ai.usage.input_tokens" in unmapped[0].reason
    assert json.loads(unmapped[0].raw)["spanId"] == span_hex(2)


def test_spans_without_ids_or_start_are_rejected_with_the_field_named():
    no_trace = otlp_span(1, 1)
    del no_trace["traceId"]
    short_span_id = otlp_span(1, 2)
    short_span_id["spanId"] = "abc"
    no_start = otlp_span(1, 3)
    del no_start["startTimeUnixNano"]
    raws, rejections = decode_json(otlp_request([no_trace, short_span_id, no_start]))
    assert raws == []
    reasons = [r.reason for r in rejections]
    assert "traceId is missing" in reasons[0]
    assert "spanId" in reasons[1]
    assert "startTimeUnixNano" in reasons[2]


def test_base64_ids_from_proto3_json_writers_are_accepted():
    span = otlp_span(1, 2)
    span["traceId"] = base64.b64encode(bytes.fromhex(trace_hex(1))).decode()
    span["spanId"] = base64.b64encode(bytes.fromhex(span_hex(2))).decode()
    raws, _ = decode_json(otlp_request([span]))
    assert (raws[0].trace_id, raws[0].span_id) == (trace_hex(1), span_hex(2))


def test_protobuf_and_json_bodies_decode_to_the_same_spans():
    request = otlp_request(
        [
            otlp_span(5, 1, name="root", attrs={"enduser.id": "u", "flag": True, "n": 3}),
            otlp_span(5, 2, parent=1, status=2, message="boom", attrs={"ratio": 0.5}),
        ]
    )
    proto_json = copy.deepcopy(request)  # proto3 JSON wants ids in base64
    for span in proto_json["resourceSpans"][0]["scopeSpans"][0]["spans"]:
        for key in ("traceId", "spanId", "parentSpanId"):
            if key in span:
                span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
    body = json_format.ParseDict(proto_json, ExportTraceServiceRequest()).SerializeToString()
    from_json, _ = decode_json(request)
    from_protobuf, _ = decode_protobuf(body)
    assert [map_span(r, CONTEXT) for r in from_protobuf] == [
        map_span(r, CONTEXT) for r in from_json
    ]


def test_otlp_and_native_records_carry_the_same_fields():
    otlp = mapped(otlp_span(1, 2, attrs={"gen_ai.operation.name": "chat"}))
    trace = trace_record({"id": "t", "start": "2025-06-01T12:00:00Z"}, CONTEXT)
    step = observation_record(
        {"trace_id": "t", "id": "s", "start": "2025-06-01T12:00:00Z", "kind": "tool"}, CONTEXT
    )
    assert set(otlp) == set(trace) == set(step) == set(RECORD_TEMPLATE)
