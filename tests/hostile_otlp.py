"""A corpus of hostile OTLP/HTTP requests, each beside valid spans whose storage is known.

Every case builds one request from a :class:`Sample` (its own trace ids): some
valid LLM calls, whose stored rows the test checks field by field, and one
hostile part. A case says the status it expects, how many spans are rejected
and a text the partial-success message must contain (the field at fault).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.ingest_support import SECOND_NS, T0_NS, attributes, otlp_request, span_hex

JSON = "application/json"
PROTOBUF = "application/x-protobuf"
REPLACED = "\ufffd"
INT64_MAX = 2**63 - 1
YEAR_2100_NS = 4_102_444_800 * SECOND_NS


@dataclass
class Sample:
    """The spans of one case: trace ids of its own, valid calls and what they store."""

    base: int  # trace numbers base, base + 1, ...
    expected: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    traces: set[str] = field(default_factory=set)
    _spans: int = 0

    def trace(self, offset: int = 0) -> str:
        trace_id = f"{self.base + offset:032x}"
        self.traces.add(trace_id)
        return trace_id

    def next_span(self) -> str:
        self._spans += 1
        return span_hex(self._spans)

    def span(
        self,
        *,
        name: str = "chat gpt-4o",
        attrs: dict[str, Any] | None = None,
        raw_attrs: list | None = None,
        start_ns: Any = None,
        end_ns: Any = None,
        stored: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """An OTLP/JSON LLM call. With ``stored`` it is expected in the store: its row
        holds the values sent, except the fields ``stored`` gives (e.g. a repaired name)."""
        n = self._spans + 1
        start = T0_NS + n * SECOND_NS if start_ns is None else start_ns
        end = T0_NS + n * SECOND_NS + SECOND_NS // 2 if end_ns is None else end_ns
        values = {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.provider.name": "openai",
            "gen_ai.usage.input_tokens": 100 + n,
            "gen_ai.usage.output_tokens": 10 + n,
            **(attrs or {}),
        }
        body = {
            "traceId": self.trace(),
            "spanId": self.next_span(),
            "name": name,
            "kind": 3,
            "startTimeUnixNano": str(start) if isinstance(start, int) else start,
            "endTimeUnixNano": str(end) if isinstance(end, int) else end,
            "attributes": attributes(values) + (raw_attrs or []),
            "status": {"code": 1},
        }
        if stored is not None:
            row = {
                "name": name,
                "kind": "generation",
                "input_tokens": 100 + n,
                "output_tokens": 10 + n,
                "start_us": start // 1000,
                "end_us": end // 1000,
            }
            self.expected[(body["traceId"], body["spanId"])] = {**row, **stored}
        return body

    def valid(self, **span_args: Any) -> dict[str, Any]:
        """A valid LLM call, expected in the store as sent."""
        return self.span(stored={}, **span_args)


def json_body(spans: list[dict], extra_resources: list[dict] | None = None) -> bytes:
    request = otlp_request(spans)
    request["resourceSpans"] += extra_resources or []
    return json.dumps(request).encode()


@dataclass(frozen=True)
class Case:
    kind: str
    build: Callable[[Sample], tuple[str, bytes]]
    status: int = 200
    rejected: int = 0
    mentions: str = ""


# --- JSON cases -------------------------------------------------------------------------


def _json_with(hostile: Callable[[Sample], dict]) -> Callable[[Sample], tuple[str, bytes]]:
    """Two valid calls and one hostile span, in one trace."""

    def build(sample: Sample) -> tuple[str, bytes]:
        spans = [sample.valid(), hostile(sample), sample.valid()]
        return JSON, json_body(spans)

    return build


def _json_text(text: str) -> Callable[[Sample], tuple[str, bytes]]:
    def build(sample: Sample) -> tuple[str, bytes]:
        sample.trace()  # nothing of it may be stored
        return JSON, text.encode("utf-8", "surrogatepass")

    return build


def _with_raw_text(
    marker: str, replacement: str, stored_name: str | None = None
) -> Callable[[Sample], tuple[str, bytes]]:
    """A valid call whose name (when ``stored_name`` is given: what it must be stored as)
    or else an attribute key is ``marker``, replaced by ``replacement`` in the JSON text."""

    def build(sample: Sample) -> tuple[str, bytes]:
        if stored_name is None:
            hostile = sample.span(attrs={marker: "v"}, stored={})
        else:
            hostile = sample.span(name=marker, stored={"name": stored_name})
        text = json.dumps(otlp_request([sample.valid(), hostile])).replace(marker, replacement)
        return JSON, text.encode()

    return build


def _same_span_twice(sample: Sample) -> tuple[str, bytes]:
    span = sample.valid()
    return JSON, json_body([span, span])


def _tokens(value: dict) -> Callable[[Sample], dict]:
    return lambda s: s.span(
        attrs={"gen_ai.usage.input_tokens": 1},
        raw_attrs=[{"key": "gen_ai.usage.input_tokens", "value": value}],
    )


def _nested(depth: int, leaf: dict) -> dict:
    value = leaf
    for _ in range(depth):
        value = {"arrayValue": {"values": [value]}}
    return value


JSON_CASES = [
    # bodies that cannot be used at all: 400, nothing stored
    Case("json-not-json", _json_text("{not json"), 400),
    Case("json-empty-body", _json_text(""), 400),
    Case("json-null", _json_text("null"), 400),
    Case("json-array-at-top", _json_text("[]"), 400),
    Case("json-resource-spans-not-a-list", _json_text('{"resourceSpans": 5}'), 400),
    Case("json-nested-100k-deep", _json_text("[" * 100_000 + "]" * 100_000), 400),
    Case("json-nested-2000-objects", _json_text('{"a":' * 2000 + "1" + "}" * 2000), 400),
    Case("json-invalid-utf8", lambda s: (JSON, b'{"resourceSpans": [], "x": "\xff\xfe"}'), 400),
    Case("json-nan-resource-spans", _json_text('{"resourceSpans": NaN}'), 400),
    # text the databases cannot hold: repaired, the span kept
    Case(
        "json-lone-surrogate-in-name",
        _with_raw_text("SURROGATE", "a\\ud800b", f"a{REPLACED}b"),
    ),
    Case(
        "json-nul-in-name",
        _with_raw_text("NULNAME", "a\\u0000b", f"a{REPLACED}b"),
    ),
    Case(
        "json-nul-in-attribute-key-and-value",
        _json_with(lambda s: s.span(attrs={"k\x00ey": "v\x00al"}, stored={})),
    ),
    Case(
        "json-nul-in-user-and-session",
        _json_with(
            lambda s: s.span(attrs={"enduser.id": "u\x00", "session.id": "s\x00"}, stored={})
        ),
    ),
    Case(
        "json-nul-in-status-message",
        lambda s: (
            JSON,
            json_body(
                [
                    s.valid(),
                    {**s.span(stored={}), "status": {"code": 2, "message": "bad\x00news"}},
                ]
            ),
        ),
    ),
    Case(
        "json-surrogate-in-attribute-key",
        _with_raw_text("marker.key", "agent\\udfff"),
    ),
    Case(
        "json-huge-integer-attribute",
        _json_with(
            lambda s: s.span(raw_attrs=[{"key": "big", "value": {"intValue": "9" * 40}}], stored={})
        ),
    ),
    Case(
        "json-attribute-nested-300-levels",
        _json_with(
            lambda s: s.span(
                raw_attrs=[{"key": "deep", "value": _nested(300, {"stringValue": "x"})}],
                stored={},
            )
        ),
    ),
    Case(
        "json-attribute-key-a-number",
        _json_with(lambda s: s.span(raw_attrs=[{"key": 5, "value": {"intValue": 1}}])),
        rejected=1,
        mentions="key",
    ),
    Case(
        "json-huge-name",
        _json_with(lambda s: s.span(name="n" * 300_000, stored={"name": "n" * 511 + "…"})),
    ),
    # times out of bounds: rejected, naming the field
    Case(
        "json-start-1e30",
        _json_with(lambda s: s.span(start_ns=1e30)),
        rejected=1,
        mentions="startTimeUnixNano",
    ),
    Case(
        "json-start-1ns",
        _json_with(lambda s: s.span(start_ns=1, end_ns=2)),
        rejected=1,
        mentions="before 2000-01-01",
    ),
    Case(
        "json-start-minus-5ns",
        _json_with(lambda s: s.span(start_ns=-5, end_ns=10)),
        rejected=1,
        mentions="startTimeUnixNano",
    ),
    Case(
        "json-start-year-2100",
        _json_with(lambda s: s.span(start_ns=YEAR_2100_NS, end_ns=YEAR_2100_NS + 1)),
        rejected=1,
        mentions="more than a day after",
    ),
    Case(
        "json-start-year-2554",
        _json_with(lambda s: s.span(start_ns=2**64 - 2, end_ns=2**64 - 1)),
        rejected=1,
        mentions="startTimeUnixNano",
    ),
    Case(
        "json-end-year-2100",
        _json_with(lambda s: s.span(end_ns=YEAR_2100_NS)),
        rejected=1,
        mentions="endTimeUnixNano",
    ),
    Case(
        "json-end-before-start",
        _json_with(lambda s: s.span(start_ns=T0_NS, end_ns=T0_NS - SECOND_NS)),
        rejected=1,
        mentions="before",
    ),
    Case(
        "json-lasts-8-days",
        _json_with(lambda s: s.span(start_ns=T0_NS, end_ns=T0_NS + 8 * 86_400 * SECOND_NS)),
        rejected=1,
        mentions="days",
    ),
    Case(
        "json-start-not-a-number",
        _json_with(lambda s: s.span(start_ns="soon")),
        rejected=1,
        mentions="startTimeUnixNano",
    ),
    Case(
        "json-start-missing",
        _json_with(lambda s: {k: v for k, v in s.span().items() if k != "startTimeUnixNano"}),
        rejected=1,
        mentions="startTimeUnixNano",
    ),
    Case(
        "json-event-time-1e30",
        _json_with(
            lambda s: {**s.span(), "events": [{"name": "e", "timeUnixNano": 1e30}]},
        ),
        rejected=1,
        mentions="events[0]",
    ),
    # token counts, cost and code lines out of bounds
    Case(
        "json-input-tokens-int64-max",
        _json_with(lambda s: s.span(attrs={"gen_ai.usage.input_tokens": INT64_MAX})),
        rejected=1,
        mentions="gen_ai.usage.input_tokens",
    ),
    Case(
        "json-output-tokens-just-over-the-limit",
        _json_with(lambda s: s.span(attrs={"gen_ai.usage.output_tokens": 1_000_000_001})),
        rejected=1,
        mentions="gen_ai.usage.output_tokens",
    ),
    Case(
        "json-tokens-40-digits",
        _json_with(_tokens({"intValue": "9" * 40})),
        rejected=1,
        mentions="gen_ai.usage.input_tokens",
    ),
    Case(
        "json-tokens-double-1e30",
        _json_with(_tokens({"doubleValue": 1e30})),
        rejected=1,
        mentions="gen_ai.usage.input_tokens",
    ),
    Case(
        "json-tokens-infinity",
        _json_with(_tokens({"doubleValue": "Infinity"})),
        rejected=1,
        mentions="gen_ai.usage.input_tokens",
    ),
    Case(
        "json-tokens-negative",
        _json_with(lambda s: s.span(attrs={"gen_ai.usage.input_tokens": -1})),
        rejected=1,
        mentions="gen_ai.usage.input_tokens",
    ),
    Case(
        "json-tokens-a-word",
        _json_with(lambda s: s.span(attrs={"gen_ai.usage.input_tokens": "lots"})),
        rejected=1,
        mentions="gen_ai.usage.input_tokens",
    ),
    Case(
        "json-tokens-a-boolean",
        _json_with(lambda s: s.span(attrs={"gen_ai.usage.input_tokens": True})),
        rejected=1,
        mentions="gen_ai.usage.input_tokens",
    ),
    Case(
        "json-cache-tokens-over-the-limit",
        _json_with(lambda s: s.span(attrs={"gen_ai.usage.cache_read.input_tokens": 2 * 10**9})),
        rejected=1,
        mentions="input_tokens",
    ),
    Case(
        "json-cost-1e30",
        _json_with(lambda s: s.span(attrs={"gen_ai.usage.cost": 1e30})),
        rejected=1,
        mentions="gen_ai.usage.cost",
    ),
    Case(
        "json-cost-infinity",
        _json_with(
            lambda s: s.span(
                raw_attrs=[{"key": "gen_ai.usage.cost", "value": {"doubleValue": "Infinity"}}]
            )
        ),
        rejected=1,
        mentions="gen_ai.usage.cost",
    ),
    Case(
        "json-cost-nan",
        _json_with(
            lambda s: s.span(
                raw_attrs=[{"key": "gen_ai.usage.cost", "value": {"doubleValue": "NaN"}}]
            )
        ),
        rejected=1,
        mentions="gen_ai.usage.cost",
    ),
    Case(
        "json-code-lines-2-to-the-40",
        _json_with(lambda s: s.span(attrs={"code.lines_added": 2**40})),
        rejected=1,
        mentions="code.lines_added",
    ),
    Case(
        "json-code-lines-infinite",
        _json_with(
            lambda s: s.span(
                raw_attrs=[{"key": "code.lines_removed", "value": {"doubleValue": "Infinity"}}]
            )
        ),
        rejected=1,
        mentions="code.lines_removed",
    ),
    # wrong types and shapes
    Case("json-span-a-string", _json_with(lambda s: "a span"), rejected=1, mentions="JSON object"),
    Case(
        "json-attributes-an-object",
        _json_with(lambda s: {**s.span(), "attributes": {"a": 1}}),
        rejected=1,
        mentions="attributes",
    ),
    Case(
        "json-attribute-unknown-value-type",
        _json_with(lambda s: s.span(raw_attrs=[{"key": "x", "value": {"fooValue": 1}}])),
        rejected=1,
        mentions="unknown value type",
    ),
    Case(
        "json-trace-id-too-short",
        _json_with(lambda s: {**s.span(), "traceId": "abcd"}),
        rejected=1,
        mentions="traceId",
    ),
    Case(
        "json-span-id-not-hex",
        _json_with(lambda s: {**s.span(), "spanId": "zzzzzzzzzzzzzzzz"}),
        rejected=1,
        mentions="spanId",
    ),
    Case(
        "json-events-a-string",
        _json_with(lambda s: {**s.span(), "events": "boom"}),
        rejected=1,
    ),
    Case(
        "json-status-code-a-list",
        _json_with(lambda s: {**s.span(), "status": {"code": [2]}}),
        rejected=1,
    ),
    Case(
        "json-resource-attributes-not-a-list",
        lambda s: (
            JSON,
            json_body(
                [s.valid(), s.valid()],
                [{"resource": {"attributes": "x"}, "scopeSpans": [{"spans": [s.span()]}]}],
            ),
        ),
        rejected=1,
        mentions="resource is malformed",
    ),
    Case(
        "json-same-span-twice",
        _same_span_twice,
    ),
]


# --- protobuf cases ---------------------------------------------------------------------


def _pb_request(
    sample: Sample, hostile: Callable[[Span], None] | None, *, stored: bool = False
) -> bytes:
    """Two valid calls, and one more changed by ``hostile`` (expected in the store if
    ``stored``), as binary protobuf."""
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    service = resource_spans.resource.attributes.add(key="service.name")
    service.value.string_value = "support-bot"
    scope = resource_spans.scope_spans.add()
    bodies = [sample.valid(), sample.valid()]
    if hostile is not None:
        bodies.append(sample.span(stored={} if stored else None))
    for body in bodies:
        span = scope.spans.add()
        span.trace_id = bytes.fromhex(body["traceId"])
        span.span_id = bytes.fromhex(body["spanId"])
        span.name = body["name"]
        span.start_time_unix_nano = int(body["startTimeUnixNano"])
        span.end_time_unix_nano = int(body["endTimeUnixNano"])
        span.status.code = 1
        for item in body["attributes"]:
            kv = span.attributes.add(key=item["key"])
            value = item["value"]
            if "intValue" in value:
                kv.value.int_value = int(value["intValue"])
            else:
                kv.value.string_value = value["stringValue"]
    if hostile is not None:
        hostile(scope.spans[-1])
    return request.SerializeToString()


def _pb_with(hostile: Callable[[Span], None]) -> Callable[[Sample], tuple[str, bytes]]:
    return lambda sample: (PROTOBUF, _pb_request(sample, hostile))


def _set_int(key: str, value: int) -> Callable[[Span], None]:
    def change(span: Span) -> None:
        for item in span.attributes:
            if item.key == key:
                item.value.int_value = value
                return
        span.attributes.add(key=key).value.int_value = value

    return change


def _set(**values: Any) -> Callable[[Span], None]:
    def change(span: Span) -> None:
        for name, value in values.items():
            setattr(span, name, value)

    return change


def _pb_bytes(change: Callable[[bytes], bytes]) -> Callable[[Sample], tuple[str, bytes]]:
    def build(sample: Sample) -> tuple[str, bytes]:
        body = _pb_request(sample, None)
        sample.expected.clear()  # the body is unusable: nothing of it may be stored
        return PROTOBUF, change(body)

    return build


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _deep_attribute(depth: int) -> Callable[[Span], None]:
    """An attribute nested ``depth`` kvlists deep (built as wire bytes: the library refuses)."""

    def change(span: Span) -> None:
        value = AnyValue(string_value="x").SerializeToString()
        for _ in range(depth):
            key_value = b"\x0a\x01k" + b"\x12" + _varint(len(value)) + value
            kv_list = b"\x0a" + _varint(len(key_value)) + key_value
            value = b"\x32" + _varint(len(kv_list)) + kv_list  # AnyValue.kvlist_value = 6
        span.attributes.append(KeyValue(key="deep", value=AnyValue.FromString(value)))

    return change


def _stored_pb_nul(sample: Sample) -> tuple[str, bytes]:
    """NUL characters in a protobuf span's name, attribute key and user id: repaired."""

    def change(span: Span) -> None:
        span.name = "na\x00me"
        span.attributes.add(key="ke\x00y").value.string_value = "va\x00lue"
        span.attributes.add(key="enduser.id").value.string_value = "us\x00er"

    body = _pb_request(sample, change)
    trace_id, span_id = sample.trace(), span_hex(sample._spans)
    n = sample._spans
    sample.expected[(trace_id, span_id)] = {
        "name": f"na{REPLACED}me",
        "input_tokens": 100 + n,
        "output_tokens": 10 + n,
    }
    return PROTOBUF, body


def _pb_deep_200(sample: Sample) -> tuple[str, bytes]:
    body = _pb_request(sample, None)
    sample.expected.clear()  # the body is unusable: nothing of it may be stored
    deep = AnyValue(string_value="x").SerializeToString()
    for _ in range(200):
        key_value = b"\x0a\x01k\x12" + _varint(len(deep)) + deep
        kv_list = b"\x0a" + _varint(len(key_value)) + key_value
        deep = b"\x32" + _varint(len(kv_list)) + kv_list
    attribute = b"\x0a\x04deep\x12" + _varint(len(deep)) + deep
    span = b"\x4a" + _varint(len(attribute)) + attribute  # Span.attributes = 9
    return PROTOBUF, body + _wrap_span(span)


def _wrap_span(span_fields: bytes) -> bytes:
    """A further ResourceSpans holding one span made of ``span_fields`` (wire bytes)."""
    span = b"\x0a\x10" + b"\x01" * 16 + b"\x12\x08" + b"\x02" * 8 + span_fields
    scope = b"\x12" + _varint(len(span)) + span  # ScopeSpans.spans = 2
    resource = b"\x12" + _varint(len(scope)) + scope  # ResourceSpans.scope_spans = 2
    return b"\x0a" + _varint(len(resource)) + resource  # request.resource_spans = 1


PROTOBUF_CASES = [
    Case("pb-garbage", _pb_bytes(lambda body: b"\xff\xff\xff\xff garbage"), 400),
    Case("pb-truncated", _pb_bytes(lambda body: body[: len(body) // 2]), 400),
    Case("pb-varint-too-long", _pb_bytes(lambda body: b"\x0a" + b"\xff" * 11 + body), 400),
    Case(
        "pb-invalid-utf8-in-name",
        _pb_bytes(lambda body: body.replace(b"chat gpt-4o", b"chat \xff\xfe\xfd-4o", 1)),
        400,
    ),
    Case(
        "pb-wrong-wire-type-is-skipped",
        lambda sample: (PROTOBUF, b"\x0d\x00\x00\x00\x00" + _pb_request(sample, None)),
    ),
    Case(
        "pb-input-tokens-int64-max",
        _pb_with(_set_int("gen_ai.usage.input_tokens", INT64_MAX)),
        rejected=1,
        mentions="gen_ai.usage.input_tokens",
    ),
    Case(
        "pb-output-tokens-int64-min",
        _pb_with(_set_int("gen_ai.usage.output_tokens", -(2**63))),
        rejected=1,
        mentions="gen_ai.usage.output_tokens",
    ),
    Case(
        "pb-reasoning-tokens-huge",
        _pb_with(_set_int("gen_ai.usage.reasoning.output_tokens", 2**62)),
        rejected=1,
        mentions="gen_ai.usage.reasoning.output_tokens",
    ),
    Case(
        "pb-start-year-2554",
        _pb_with(_set(start_time_unix_nano=2**64 - 2, end_time_unix_nano=2**64 - 1)),
        rejected=1,
        mentions="startTimeUnixNano",
    ),
    Case(
        "pb-start-1ns",
        _pb_with(_set(start_time_unix_nano=1, end_time_unix_nano=2)),
        rejected=1,
        mentions="before 2000-01-01",
    ),
    Case(
        "pb-end-year-2100",
        _pb_with(_set(end_time_unix_nano=YEAR_2100_NS)),
        rejected=1,
        mentions="endTimeUnixNano",
    ),
    Case(
        "pb-cost-infinite",
        _pb_with(
            lambda span: setattr(
                span.attributes.add(key="gen_ai.usage.cost").value, "double_value", float("inf")
            )
        ),
        rejected=1,
        mentions="gen_ai.usage.cost",
    ),
    Case(
        "pb-trace-id-3-bytes",
        _pb_with(_set(trace_id=b"abc")),
        rejected=1,
        mentions="traceId",
    ),
    Case("pb-attribute-nested-200-levels", _pb_deep_200, 400),
    Case(
        "pb-attribute-nested-25-levels",
        lambda sample: (PROTOBUF, _pb_request(sample, _deep_attribute(25), stored=True)),
    ),
    Case("pb-nul-in-name-key-and-user", _stored_pb_nul),
]

CASES = JSON_CASES + PROTOBUF_CASES
