"""Decode OTLP trace requests into plain spans for the mapping: the span types, protobuf.

Protobuf bodies are parsed by ``opentelemetry-proto``; OTLP/JSON is read by
``otlp_json``. Both give the same :class:`RawSpan` values. A span that cannot be
read becomes a :class:`Rejection` (where it was, why, its raw text); the rest of
the request still decodes. A body that is not a request at all raises
:class:`OtlpDecodeError`.
"""

from __future__ import annotations

import base64
import json
import reprlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

TRACE_ID_BYTES = 16
SPAN_ID_BYTES = 8
STATUS_UNSET, STATUS_OK, STATUS_ERROR = 0, 1, 2


class OtlpDecodeError(ValueError):
    """The body (or file line) is not an OTLP trace request at all."""


class SpanError(ValueError):
    """One span is unreadable; the message says which field and why."""


@dataclass(slots=True)
class RawEvent:
    name: str
    time_ns: int
    attributes: dict[str, Any]


@dataclass(slots=True)
class RawSpan:
    """A span as sent, ids in lowercase hex, attribute values as Python values."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    start_ns: int
    end_ns: int  # 0 when the span has not ended
    status_code: int
    status_message: str
    attributes: dict[str, Any]
    events: list[RawEvent]
    resource: dict[str, Any]  # shared by every span of the same resource
    where: str  # prefix of the location, e.g. "export.jsonl:12 "
    index: tuple[int, int, int]  # (resource, scope, span) positions in the request
    original: Any = field(default=None, repr=False)  # JSON dict or protobuf Span

    @property
    def location(self) -> str:
        """Where the span was, e.g. ``export.jsonl:12 resourceSpans[0].scopeSpans[1].spans[3]``."""
        return location_of(self.where, *self.index)

    def raw_text(self) -> str:
        """The span as it arrived, as text for the quarantine table."""
        return raw_text_of(self.original)


@dataclass(slots=True)
class Rejection:
    """A record that could not be stored: where it was, why, and its raw text."""

    location: str
    reason: str
    raw: str = ""


def location_of(where: str, i: int, j: int, k: int) -> str:
    return f"{where}resourceSpans[{i}].scopeSpans[{j}].spans[{k}]"


def raw_text_of(original: Any) -> str:
    if original is None:
        return ""
    if isinstance(original, str):
        return original
    try:
        if hasattr(original, "DESCRIPTOR"):
            return json_format.MessageToJson(original, indent=None)
        return json.dumps(original, ensure_ascii=False, default=str)
    except (RecursionError, ValueError, TypeError) as error:  # e.g. nested too deeply
        return f"<raw text not kept: {type(error).__name__}> " + reprlib.repr(original)


# --- protobuf -----------------------------------------------------------------


def parse_protobuf(message_type: Any, body: bytes) -> Any:
    """``body`` as a ``message_type`` (an OTLP export request); else OtlpDecodeError."""
    try:
        return message_type.FromString(body)
    except DecodeError as error:
        raise OtlpDecodeError(
            f"the body is not a protobuf {message_type.__name__} ({error}); "
            "send OTLP/HTTP protobuf or use Content-Type: application/json"
        ) from None


def decode_protobuf(body: bytes, *, where: str = "") -> tuple[list[RawSpan], list[Rejection]]:
    """Spans of a binary ``ExportTraceServiceRequest``; bad spans come back as rejections."""
    request = parse_protobuf(ExportTraceServiceRequest, body)
    spans: list[RawSpan] = []
    rejections: list[Rejection] = []
    # The loops of pb_items, inline: on the ingest path a generator costs 3% of decoding.
    for i, resource_spans in enumerate(request.resource_spans):
        resource = pb_attributes(resource_spans.resource.attributes)
        for j, scope_spans in enumerate(resource_spans.scope_spans):
            for k, span in enumerate(scope_spans.spans):
                try:
                    spans.append(_pb_span(span, resource, where, (i, j, k)))
                except SpanError as error:
                    location = location_of(where, i, j, k)
                    rejections.append(Rejection(location, str(error), raw_text_of(span)))
    return spans, rejections


def pb_items(
    resources, scopes: str, items: str
) -> Iterator[tuple[tuple[int, int, int], dict, Any]]:
    """((i, j, k), resource attributes, item) for every item of an export request's
    ``resources``, whose ``scopes`` field lists scopes and their ``items`` field items."""
    for i, resource_items in enumerate(resources):
        resource = pb_attributes(resource_items.resource.attributes)
        for j, scope_items in enumerate(getattr(resource_items, scopes)):
            for k, item in enumerate(getattr(scope_items, items)):
                yield (i, j, k), resource, item


def pb_id(value: bytes, size: int, name: str, *, required: bool) -> str:
    if not value:
        if required:
            raise SpanError(f"{name} is missing")
        return ""
    if len(value) != size or not any(value):
        raise SpanError(f"{name} must be {size} bytes, not all zero (got {len(value)} bytes)")
    return value.hex()


def _pb_span(span, resource: dict[str, Any], where: str, index: tuple[int, int, int]) -> RawSpan:
    if not span.start_time_unix_nano:
        raise SpanError("startTimeUnixNano is missing")
    events = [
        RawEvent(event.name, event.time_unix_nano, pb_attributes(event.attributes))
        for event in span.events
    ]
    return RawSpan(
        trace_id=pb_id(span.trace_id, TRACE_ID_BYTES, "traceId", required=True),
        span_id=pb_id(span.span_id, SPAN_ID_BYTES, "spanId", required=True),
        parent_span_id=pb_id(span.parent_span_id, SPAN_ID_BYTES, "parentSpanId", required=False),
        name=span.name,
        start_ns=span.start_time_unix_nano,
        end_ns=span.end_time_unix_nano,
        status_code=span.status.code,
        status_message=span.status.message,
        attributes=pb_attributes(span.attributes),
        events=events,
        resource=resource,
        where=where,
        index=index,
        original=span,
    )


def pb_attributes(items) -> dict[str, Any]:
    out = {}
    for item in items:
        value = item.value
        kind = value.WhichOneof("value")
        if kind == "string_value":
            out[item.key] = value.string_value
        else:
            out[item.key] = _pb_value(value, kind)
    return out


def _pb_value(value, kind: str | None) -> Any:
    if kind is None:
        return None
    if kind == "array_value":
        return [_pb_value(v, v.WhichOneof("value")) for v in value.array_value.values]
    if kind == "kvlist_value":
        return pb_attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return getattr(value, kind)
