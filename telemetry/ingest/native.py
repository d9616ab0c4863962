"""The native JSONL format: one record per line, ``"type"`` first (docs/jsonl.md).

A ``trace`` record is the trace's root span; ``observation`` records are its
steps (their parent defaults to the root). Both become the same observation
records as OTLP spans, so traces are derived by the same rule. ``user`` and
``team`` records go to the directory, ``audit`` records to the audit log.
"""

from __future__ import annotations

import json
from typing import Any

from telemetry.ingest.directory import DirectoryTeam, DirectoryUser
from telemetry.ingest.limits import clip
from telemetry.ingest.mapping import (
    DEFAULT_ENVIRONMENT,
    IDENTITY_MAX_CHARS,
    MappingContext,
    MappingError,
    clip_value,
    price_generation,
)
from telemetry.models import LLM_CALL_KINDS, ObservationKind, SpanStatus, TraceStatus
from telemetry.timeutil import day_of_us, hour_of_us, month_of_us, parse_rfc3339, to_us

RECORD_TYPES = ("user", "team", "trace", "observation", "audit")
ROOT_SPAN_ID = "root"
KINDS = tuple(str(k) for k in ObservationKind if k != ObservationKind.DUPLICATE)  # derived only
_TOKEN_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)


def _text(obj: dict, name: str, limit: int = 200, *, required: bool = False) -> str:
    value = obj.get(name)
    if value is None or value == "":
        if required:
            raise MappingError(f"field {name!r} is required")
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise MappingError(f"field {name!r} must be a string")
    return clip(str(value), limit)


def _key(obj: dict, name: str, limit: int, *, required: bool = False) -> str:
    text = _text(obj, name, limit + 1, required=required)
    if len(text) > limit:
        raise MappingError(f"field {name!r} is longer than {limit} characters")
    return text


def _time(obj: dict, name: str, *, required: bool = False) -> int | None:
    value = obj.get(name)
    if value is None or value == "":
        if required:
            raise MappingError(f"field {name!r} is required (an RFC 3339 time with a zone)")
        return None
    if not isinstance(value, str):
        raise MappingError(f"field {name!r} must be an RFC 3339 string, not {value!r}")
    try:
        return to_us(parse_rfc3339(value))
    except ValueError as error:
        raise MappingError(f"field {name!r}: {error}") from None


def _count(obj: dict, name: str) -> int:
    value = obj.get(name)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MappingError(f"field {name!r} must be a whole number >= 0, not {value!r}")
    return value


def _optional_int(obj: dict, name: str) -> int | None:
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MappingError(f"field {name!r} must be a whole number, not {value!r}")
    return value


def _object(obj: dict, name: str) -> dict[str, Any]:
    value = obj.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MappingError(f"field {name!r} must be a JSON object")
    return value


def _content(obj: dict, name: str, limit: int) -> str:
    value = obj.get(name)
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return clip(text, limit)


def _base(obj: dict, context: MappingContext, *, span_id: str, parent: str) -> dict[str, Any]:
    """The fields trace and observation records share."""
    start_us = _time(obj, "start", required=True)
    end_us = _time(obj, "end")
    if end_us is not None and end_us < start_us:
        raise MappingError("'end' is before 'start'")
    user_key = _key(obj, "user", IDENTITY_MAX_CHARS)
    return {
        "trace_id": "",
        "span_id": span_id,
        "parent_span_id": parent,
        "name": _text(obj, "name", 512),
        "kind": str(ObservationKind.SPAN),
        "operation": _text(obj, "operation", 64),
        "status": str(SpanStatus.UNSET),
        "status_message": "",
        "error_type": _text(obj, "error_type"),
        "start_us": start_us,
        "end_us": end_us,
        "duration_ms": None if end_us is None else (end_us - start_us) / 1000,
        "start_day": day_of_us(start_us),
        "start_hour": hour_of_us(start_us),
        "start_month": month_of_us(start_us),
        "environment": _text(obj, "environment", 100) or DEFAULT_ENVIRONMENT,
        "module": _text(obj, "module"),
        "agent": _text(obj, "agent"),
        "model": _text(obj, "model"),
        "provider": _text(obj, "provider", 100),
        "tool_name": _text(obj, "tool_name"),
        "tool_type": _text(obj, "tool_type", 64),
        "cost_usd": 0.0,
        "cost_source": "",
        "attributes": clip_value(_object(obj, "attributes"), context.limits.attribute_max_chars),
        "events": [],
        "input_content": _content(obj, "input", context.limits.content_max_chars),
        "output_content": _content(obj, "output", context.limits.content_max_chars),
        "user_key": user_key,
        "user_email": _text(obj, "user_email", 256),
        "user_name": _text(obj, "user_name", 256),
        "team_name": _key(obj, "team", 200),
        "session_key": _key(obj, "session", IDENTITY_MAX_CHARS),
        "user_id": None,
        "team_id": None,
        "session_id": None,
        **{name: 0 for name in _TOKEN_FIELDS},
        "duplicate_of": "",
    }


def trace_record(obj: dict, context: MappingContext) -> dict[str, Any]:
    """The root-span record of a ``trace`` line."""
    span_id = _key(obj, "span_id", 32) or ROOT_SPAN_ID
    record = _base(obj, context, span_id=span_id, parent="")
    record["trace_id"] = _key(obj, "id", 64, required=True)
    status = _text(obj, "status", 16) or ("ok" if record["end_us"] is not None else "running")
    if status not in tuple(str(s) for s in TraceStatus):
        raise MappingError(f"status {status!r} is not one of ok, error, timeout, running")
    if status == TraceStatus.RUNNING:
        record["end_us"] = record["duration_ms"] = None
    elif record["end_us"] is None:
        raise MappingError(f"a trace with status {status!r} needs an 'end' time")
    if status in (TraceStatus.ERROR, TraceStatus.TIMEOUT):
        record["status"] = str(SpanStatus.ERROR)
        record["status_message"] = _content(obj, "error_message", context.limits.content_max_chars)
        if status == TraceStatus.TIMEOUT:
            record["error_type"] = record["error_type"] or "timeout"
    elif status == TraceStatus.OK:
        record["status"] = str(SpanStatus.OK)
    attributes = record["attributes"]
    if obj.get("task_outcome"):
        attributes["task.outcome"] = _text(obj, "task_outcome", 32)
    for name, attribute in (
        ("code_lines_added", "code.lines_added"),
        ("code_lines_removed", "code.lines_removed"),
    ):
        value = _optional_int(obj, name)
        if value is not None:
            attributes[attribute] = value
    return record


def observation_record(obj: dict, context: MappingContext) -> dict[str, Any]:
    """The record of an ``observation`` line (an LLM call, tool call, agent step...)."""
    span_id = _key(obj, "id", 32, required=True)
    parent = _key(obj, "parent_id", 32) if "parent_id" in obj else ROOT_SPAN_ID
    record = _base(obj, context, span_id=span_id, parent=parent)
    record["trace_id"] = _key(obj, "trace_id", 64, required=True)
    kind = _text(obj, "kind", 16) or str(ObservationKind.SPAN)
    if kind not in KINDS:
        raise MappingError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    record["kind"] = kind
    status = _text(obj, "status", 8) or str(SpanStatus.UNSET)
    if status not in tuple(str(s) for s in SpanStatus):
        raise MappingError(f"status {status!r} is not one of ok, error, unset")
    record["status"] = status
    record["status_message"] = _content(obj, "status_message", context.limits.content_max_chars)
    for name in _TOKEN_FIELDS:
        record[name] = _count(obj, name)
    cached = record["cache_read_tokens"] + record["cache_write_tokens"]
    if cached > record["input_tokens"]:
        record["input_tokens"] += cached  # same rule as OTLP: input counted without the cache
    if kind in LLM_CALL_KINDS:
        price_generation(record, context.pricer, _provided_cost(obj))
    return record


def _provided_cost(obj: dict) -> float | None:
    value = obj.get("cost_usd")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise MappingError(f"field 'cost_usd' must be a number >= 0, not {value!r}")
    return float(value)


def user_entry(obj: dict) -> DirectoryUser:
    try:
        return DirectoryUser(
            external_id=_key(obj, "id", IDENTITY_MAX_CHARS, required=True),
            name=_text(obj, "name", 256),
            email=_text(obj, "email", 256),
            company=_text(obj, "company", 256),
            team=_key(obj, "team", 200),
            status=_text(obj, "status", 16).lower(),
        )
    except ValueError as error:
        raise MappingError(str(error)) from None


def team_entry(obj: dict) -> DirectoryTeam:
    return DirectoryTeam(_key(obj, "name", 200, required=True))


def audit_row(obj: dict) -> dict[str, Any]:
    ts_us = _time(obj, "ts", required=True)
    return {
        "ts_us": ts_us,
        "day": day_of_us(ts_us),
        "actor": _text(obj, "actor", 256),
        "action": _key(obj, "action", 64, required=True),
        "target": _text(obj, "target", 512),
        "details": json.dumps(_object(obj, "details"), ensure_ascii=False, sort_keys=True),
    }
