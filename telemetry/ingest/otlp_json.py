"""Decode OTLP/JSON trace requests into the same plain spans as protobuf ones.

Read with orjson and walked here rather than with ``google.protobuf.json_format``,
for two reasons: OTLP/JSON writes trace and span ids as hex (proto3 JSON would
expect base64), and ``json_format`` costs about 200 us per span, far too slow
for million-span files. The walk follows the OTLP/JSON rules: lowerCamelCase keys
(snake_case accepted too), 64-bit integers as strings or numbers, enums as
numbers or names; ids in base64 (from proto3 JSON writers) are accepted too.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import orjson

from telemetry.ingest.bounds import clean_document
from telemetry.ingest.otlp import (
    SPAN_ID_BYTES,
    TRACE_ID_BYTES,
    OtlpDecodeError,
    RawEvent,
    RawSpan,
    Rejection,
    SpanError,
    location_of,
    raw_text_of,
)

# What a malformed part of a request raises while it is read: it is rejected, not the request
# (RecursionError: values nested deeper than Python's stack allows).
_SPAN_ERRORS = (ValueError, TypeError, AttributeError, LookupError, ArithmeticError, RecursionError)
_STATUS_NAMES = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}


def decode_json_text(
    text: str | bytes, *, where: str = ""
) -> tuple[list[RawSpan], list[Rejection]]:
    """Spans of an OTLP/JSON ``ExportTraceServiceRequest`` given as text."""
    try:
        document = load_json(text)
    except ValueError as error:
        raise OtlpDecodeError(f"not valid JSON ({error})") from None
    return decode_json(document, where=where)


def load_json(text: str | bytes) -> Any:
    """Parse JSON with orjson (fast), falling back to ``json`` for what orjson refuses
    but JSON allows (integers beyond 64 bits); raises ValueError with json's message."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as error:
        if "depth limit" in str(error):
            raise ValueError("nested more than 1024 levels deep") from None
    try:
        # json keeps lone surrogates (\ud800), which no database can store: replaced.
        return clean_document(json.loads(text))
    except RecursionError:
        raise ValueError("nested too deeply") from None


def decode_json(document: Any, *, where: str = "") -> tuple[list[RawSpan], list[Rejection]]:
    """Spans of an already parsed OTLP/JSON request; bad spans come back as rejections."""
    if not isinstance(document, dict):
        raise OtlpDecodeError("an OTLP/JSON request must be a JSON object")
    resource_list = _get(document, "resourceSpans", "resource_spans")
    if resource_list is None:
        if document:
            raise OtlpDecodeError(
                "not an OTLP ExportTraceServiceRequest: it has no resourceSpans field"
            )
        return [], []
    spans: list[RawSpan] = []
    rejections: list[Rejection] = []
    for i, resource_spans in enumerate(_list(resource_list, "resourceSpans")):
        try:
            resource_obj = _get(resource_spans, "resource") or {}
            resource = json_attributes(_get(resource_obj, "attributes") or [])
            scope_list = _list(
                _get(resource_spans, "scopeSpans", "scope_spans") or [], "scopeSpans"
            )
        except _SPAN_ERRORS as error:
            rejections.append(
                Rejection(
                    f"{where}resourceSpans[{i}]",
                    f"resource is malformed, its spans were not read: {_why(error)}",
                    raw_text_of(resource_spans),
                )
            )
            continue
        for j, scope_spans in enumerate(scope_list):
            span_list = _get(scope_spans, "spans") if isinstance(scope_spans, dict) else None
            for k, span in enumerate(span_list if isinstance(span_list, list) else []):
                try:
                    spans.append(_json_span(span, resource, where, (i, j, k)))
                except _SPAN_ERRORS as error:
                    location = location_of(where, i, j, k)
                    rejections.append(Rejection(location, _why(error), raw_text_of(span)))
    return spans, rejections


def _why(error: Exception) -> str:
    if isinstance(error, SpanError):
        return str(error)
    return f"malformed span ({type(error).__name__}: {error})"


def _get(obj: dict, camel: str, snake: str | None = None) -> Any:
    value = obj.get(camel)
    if value is None and snake is not None:
        value = obj.get(snake)
    return value


def _list(value: Any, name: str) -> list:
    if not isinstance(value, list):
        raise OtlpDecodeError(f"{name} must be a JSON array")
    return value


def json_id(value: Any, size: int, name: str, *, required: bool) -> str:
    if not value:
        if required:
            raise SpanError(f"{name} is missing")
        return ""
    if type(value) is str and len(value) == size * 2:
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raw = b""
        if raw:
            if not any(raw):
                raise SpanError(f"{name} is all zeros")
            return value if value.islower() or value.isdigit() else value.lower()
    if not isinstance(value, str):
        raise SpanError(f"{name} must be a string of {size * 2} hex digits")
    try:  # proto3 JSON writers (not OTLP/JSON) send ids in base64
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) == size and any(raw):
        return raw.hex()
    raise SpanError(f"{name} {value[:80]!r} is not {size * 2} hex digits")


def json_int(value: Any, name: str) -> int:
    if not value:
        return 0
    if type(value) is str:
        try:
            return int(value)
        except ValueError:
            pass
    elif type(value) is int:
        return value
    elif isinstance(value, float) and value.is_integer():
        return int(value)
    raise SpanError(f"{name} must be an integer, not {str(value)[:80]!r}")


def _json_span(
    span: dict, resource: dict[str, Any], where: str, index: tuple[int, int, int]
) -> RawSpan:
    if not isinstance(span, dict):
        raise SpanError("a span must be a JSON object")
    get = span.get
    start_ns = json_int(
        get("startTimeUnixNano") or get("start_time_unix_nano"), "startTimeUnixNano"
    )
    if not start_ns:
        raise SpanError("startTimeUnixNano is missing")
    end_ns = json_int(get("endTimeUnixNano") or get("end_time_unix_nano"), "endTimeUnixNano")
    status = get("status") or {}
    code = status.get("code", 0) if isinstance(status, dict) else 0
    if type(code) is not int:
        code = int(code) if str(code).isdigit() else _STATUS_NAMES.get(code, 0)
    message = status.get("message") or "" if isinstance(status, dict) else ""
    events = []
    for event in get("events") or ():
        time_ns = event.get("timeUnixNano") or event.get("time_unix_nano")
        events.append(
            RawEvent(
                str(event.get("name", "")),
                json_int(time_ns, "event timeUnixNano"),
                json_attributes(event.get("attributes") or []),
            )
        )
    return RawSpan(
        trace_id=json_id(
            get("traceId") or get("trace_id"), TRACE_ID_BYTES, "traceId", required=True
        ),
        span_id=json_id(get("spanId") or get("span_id"), SPAN_ID_BYTES, "spanId", required=True),
        parent_span_id=json_id(
            get("parentSpanId") or get("parent_span_id"),
            SPAN_ID_BYTES,
            "parentSpanId",
            required=False,
        ),
        name=str(get("name") or ""),
        start_ns=start_ns,
        end_ns=end_ns,
        status_code=code,
        status_message=str(message),
        attributes=json_attributes(get("attributes") or []),
        events=events,
        resource=resource,
        where=where,
        index=index,
        original=span,
    )


def json_attributes(items: Any) -> dict[str, Any]:
    if not isinstance(items, list):
        raise SpanError("attributes must be a JSON array of {key, value} objects")
    out = {}
    for item in items:
        key = item["key"]
        if type(key) is not str:
            raise SpanError(f"an attribute key must be a string, not {str(key)[:80]!r}")
        value = item.get("value")
        if value is None:
            out[key] = None
            continue
        text = value.get("stringValue")
        if text is not None:  # the common case, kept inline for speed
            out[key] = text
        else:
            out[key] = _json_value(value, key)
    return out


def _json_value(value: Any, key: str) -> Any:
    if not isinstance(value, dict):
        raise SpanError(
            f"attribute {key!r}: a value must be a JSON object like {{'stringValue': ..}}"
        )
    for name, item in value.items():
        if name in ("stringValue", "string_value"):
            return str(item)
        if name in ("intValue", "int_value"):
            return json_int(item, f"attribute {key!r}")
        if name in ("doubleValue", "double_value"):
            return float(item)
        if name in ("boolValue", "bool_value"):
            return bool(item)
        if name in ("arrayValue", "array_value"):
            return [_json_value(v, key) for v in (item or {}).get("values") or []]
        if name in ("kvlistValue", "kvlist_value"):
            return json_attributes((item or {}).get("values") or [])
        if name in ("bytesValue", "bytes_value"):
            return str(item)
    if not value:
        return None
    raise SpanError(f"attribute {key!r}: unknown value type {sorted(value)}")
