"""Read OTLP log records (``ExportLogsServiceRequest``, protobuf or OTLP/JSON) for their events.

OpenTelemetry SDKs send events as log records: the event's name in the record's
``event_name`` field (``event.name`` attribute in older SDKs), its trace and span ids
when it was emitted inside a span. Only what the evaluation scores need is kept;
a record that cannot be read is rejected alone, with where and why.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from telemetry.ingest.otlp import (
    SPAN_ID_BYTES,
    TRACE_ID_BYTES,
    OtlpDecodeError,
    Rejection,
    SpanError,
    parse_protobuf,
    pb_attributes,
    pb_id,
    pb_items,
    raw_text_of,
)
from telemetry.ingest.otlp_json import json_attributes, json_id, json_int, load_json

_ERRORS = (ValueError, TypeError, AttributeError, LookupError, ArithmeticError, RecursionError)


@dataclass(frozen=True)
class LogEvent:
    """One log record: its event name ("" for a plain log line) and what scores read."""

    location: str
    event_name: str
    trace_id: str
    span_id: str
    time_ns: int
    attributes: dict[str, Any]
    service: str
    raw: str  # the record's text, for quarantine (clipped)
    digest: str  # of the whole record (see _pb_digest): sent again, the same one


def decode_logs_protobuf(body: bytes) -> tuple[list[LogEvent], list[Rejection]]:
    """The records of a binary ``ExportLogsServiceRequest``; unreadable ones as rejections."""
    request = parse_protobuf(ExportLogsServiceRequest, body)
    events: list[LogEvent] = []
    rejections: list[Rejection] = []
    for index, resource, record in pb_items(request.resource_logs, "scope_logs", "log_records"):
        location = _location(*index)
        try:
            attributes = pb_attributes(record.attributes)
            events.append(
                LogEvent(
                    location=location,
                    event_name=_event_name(record.event_name, attributes),
                    trace_id=pb_id(record.trace_id, TRACE_ID_BYTES, "traceId", required=False),
                    span_id=pb_id(record.span_id, SPAN_ID_BYTES, "spanId", required=False),
                    time_ns=record.time_unix_nano or record.observed_time_unix_nano,
                    attributes=attributes,
                    service=str(resource.get("service.name") or ""),
                    raw=raw_text_of(record)[:10_000],
                    digest=_pb_digest(record),
                )
            )
        except _ERRORS as error:
            rejections.append(Rejection(location, _why(error), raw_text_of(record)))
    return events, rejections


def decode_logs_json(body: bytes) -> tuple[list[LogEvent], list[Rejection]]:
    """The records of an OTLP/JSON ``ExportLogsServiceRequest`` (ids in hex)."""
    try:
        document = load_json(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise OtlpDecodeError(f"the body is not JSON ({error})") from None
    if not isinstance(document, dict):
        raise OtlpDecodeError("an OTLP/JSON request must be a JSON object")
    resource_list = document.get("resourceLogs", document.get("resource_logs"))
    if resource_list is None:
        if document:
            raise OtlpDecodeError("not an OTLP ExportLogsServiceRequest: it has no resourceLogs")
        return [], []
    if not isinstance(resource_list, list):
        raise OtlpDecodeError("resourceLogs must be a JSON array")
    events: list[LogEvent] = []
    rejections: list[Rejection] = []
    for i, resource_logs in enumerate(resource_list):
        try:
            resource = json_attributes(
                (resource_logs.get("resource") or {}).get("attributes") or []
            )
            scopes = resource_logs.get("scopeLogs", resource_logs.get("scope_logs")) or []
            records = [
                (j, k, record)
                for j, scope in enumerate(scopes)
                for k, record in enumerate(scope.get("logRecords", scope.get("log_records")) or [])
            ]
        except _ERRORS as error:
            reason = f"resource is malformed, its records were not read: {_why(error)}"
            rejections.append(Rejection(f"resourceLogs[{i}]", reason, raw_text_of(resource_logs)))
            continue
        for j, k, record in records:
            location = _location(i, j, k)
            try:
                attributes = json_attributes(record.get("attributes") or [])
                time_ns = json_int(_field(record, "timeUnixNano"), "timeUnixNano") or json_int(
                    _field(record, "observedTimeUnixNano"), "observedTimeUnixNano"
                )
                events.append(
                    LogEvent(
                        location=location,
                        event_name=_event_name(_field(record, "eventName") or "", attributes),
                        trace_id=json_id(
                            _field(record, "traceId"), TRACE_ID_BYTES, "traceId", required=False
                        ),
                        span_id=json_id(
                            _field(record, "spanId"), SPAN_ID_BYTES, "spanId", required=False
                        ),
                        time_ns=time_ns,
                        attributes=attributes,
                        service=str(resource.get("service.name") or ""),
                        raw=json.dumps(record, ensure_ascii=False, default=str)[:10_000],
                        digest=_json_digest(record),
                    )
                )
            except _ERRORS as error:
                rejections.append(Rejection(location, _why(error), raw_text_of(record)))
    return events, rejections


# A record's digest leaves out when the SDK observed it if it says when it happened: an
# event emitted twice with the same time and content is one event, as a span event is.


def _pb_digest(record) -> str:
    if record.time_unix_nano:
        record = type(record).FromString(record.SerializeToString())
        record.ClearField("observed_time_unix_nano")
    return _digest(record.SerializeToString(deterministic=True))


def _json_digest(record: dict) -> str:
    if _field(record, "timeUnixNano"):
        observed = ("observedTimeUnixNano", "observed_time_unix_nano")
        record = {key: value for key, value in record.items() if key not in observed}
    return _digest(json.dumps(record, sort_keys=True, default=str).encode("utf-8"))


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:24]


def _field(record: dict, camel: str) -> Any:
    """A record's field as OTLP/JSON names it (camelCase), or in proto's snake_case."""
    value = record.get(camel)
    if value is None:
        value = record.get(re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), camel))
    return value


def _event_name(field: str, attributes: dict[str, Any]) -> str:
    name = field or attributes.get("event.name") or ""
    return name if isinstance(name, str) else str(name)


def _location(i: int, j: int, k: int) -> str:
    return f"resourceLogs[{i}].scopeLogs[{j}].logRecords[{k}]"


def _why(error: Exception) -> str:
    if isinstance(error, SpanError):
        return str(error)
    return f"malformed log record ({type(error).__name__}: {error})"
