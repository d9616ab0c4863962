"""Map a decoded span to an observation record (docs/ingest.md, "Attribute mapping").

A record is a plain dict holding the observation's columns plus the identities
still to resolve into ids (``user_key``, ``team_name``, ``session_key``); the
writer resolves them and stores it. Span attributes win over resource ones; for
each field the first name in the table (``attributes.MAPPING``) that is present
wins.

Token rule: stored input tokens include cached ones (OpenTelemetry GenAI). Some
instrumentations (Anthropic's API counts this way) report input *excluding* the
cache; when cache read + cache write exceeds the reported input, that can only
be such a count, so the cached tokens are added to it. An input excluding the
cache that is still larger than the cached tokens cannot be told apart. A total
(OpenLLMetry, OpenInference) only fills in input or output when one is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Engine

from telemetry.ingest.attributes import (
    CONTENT_KEYS,
    CONTENT_PREFIXES,
    INPUT_PREFIXES,
    TOKEN_FIELDS,
    USAGE_FIELDS,
    mapped_values,
    observation_kind,
)
from telemetry.ingest.bounds import OutOfBounds, check_record, check_span_times, otlp_names
from telemetry.ingest.limits import Limits, clip
from telemetry.ingest.otlp import STATUS_ERROR, STATUS_OK, RawSpan, Rejection
from telemetry.models import LLM_CALL_KINDS, ObservationKind, SpanStatus
from telemetry.pricing import Pricer, TokenUsage
from telemetry.store import price_overrides
from telemetry.timeutil import US_PER_DAY, US_PER_HOUR, month_of_us, now_us

DEFAULT_ENVIRONMENT = "production"  # when the resource names none
IDENTITY_MAX_CHARS = 256
_STATUS = {STATUS_OK: str(SpanStatus.OK), STATUS_ERROR: str(SpanStatus.ERROR)}
_UNSET = str(SpanStatus.UNSET)
_KIND_NAMES = {kind: str(kind) for kind in ObservationKind}
_USAGE_SET = frozenset(USAGE_FIELDS)
_IDENTITY_FIELDS = frozenset(("user", "user_email", "team", "session"))
# Mapped fields stored as plain text in the record field of the same name, with their cap.
_TEXT_LIMITS = {
    "environment": 100,
    "module": 200,
    "agent": 200,
    "model": 200,
    "provider": 100,
    "user_email": 256,
    "user_name": 256,
    "error_type": 200,
}
# Every key of a record, with its value when the span says nothing about it.
RECORD_TEMPLATE: dict[str, Any] = {
    "trace_id": "",
    "span_id": "",
    "parent_span_id": "",
    "name": "",
    "kind": str(ObservationKind.SPAN),
    "operation": "",
    "status": str(SpanStatus.UNSET),
    "status_message": "",
    "error_type": "",
    "start_us": 0,
    "end_us": None,
    "duration_ms": None,
    "start_day": 0,
    "start_hour": 0,
    "start_month": 0,
    "environment": DEFAULT_ENVIRONMENT,
    "module": "",
    "agent": "",
    "model": "",
    "provider": "",
    "tool_name": "",
    "tool_type": "",
    "cost_usd": 0.0,
    "cost_source": "",
    "attributes": {},
    "events": [],
    "input_content": "",
    "output_content": "",
    "user_key": "",
    "user_email": "",
    "user_name": "",
    "team_name": "",
    "session_key": "",
    "user_id": None,
    "team_id": None,
    "session_id": None,
    "input_tokens": 0,
    "output_tokens": 0,
    "cache_read_tokens": 0,
    "cache_write_tokens": 0,
    "reasoning_tokens": 0,
    "duplicate_of": "",
}
_MONTH_OF_DAY: dict[int, int] = {}  # day number -> month number, filled as days are seen


class MappingError(ValueError):
    """A span whose attributes cannot be stored as they are; says which and why."""


@dataclass(frozen=True)
class MappingContext:
    """What mapping needs besides the span: the organization's pricer and the limits."""

    pricer: Pricer
    limits: Limits


def mapping_context(engine: Engine, org_id: int, limits: Limits | None = None) -> MappingContext:
    """The organization's pricer (its own prices loaded now) and the limits in force."""
    with engine.connect() as conn:
        overrides = price_overrides(conn, org_id)
    return MappingContext(Pricer(overrides), limits or Limits.from_env())


def map_spans(
    raws: list[RawSpan], context: MappingContext
) -> tuple[list[dict[str, Any]], list[Rejection]]:
    """Records of the spans that map, rejections (with raw text) for those that do not."""
    records = []
    rejections = []
    now = now_us()
    for raw in raws:
        try:
            check_span_times(raw.start_ns, raw.end_ns, now)  # before they become days
            record = map_span(raw, context)
            check_record(record, now, otlp_names(raw.attributes))
            records.append(record)
        except (MappingError, OutOfBounds) as error:
            rejections.append(Rejection(raw.location, str(error), raw.raw_text()))
        except (
            ArithmeticError,
            AttributeError,
            LookupError,
            TypeError,
            ValueError,
            RecursionError,
        ) as error:
            # A value nothing above foresaw: this span is refused, not the whole request.
            reason = f"the span could not be read ({type(error).__name__}: {error})"
            rejections.append(Rejection(raw.location, reason, raw.raw_text()))
    return records, rejections


def time_buckets(start_us: int) -> tuple[int, int, int]:
    """(day, hour, month) numbers of a start time (see telemetry.timeutil)."""
    day = start_us // US_PER_DAY
    month = _MONTH_OF_DAY.get(day)
    if month is None:
        month = _MONTH_OF_DAY[day] = month_of_us(start_us)
    return day, start_us // US_PER_HOUR, month


def map_span(raw: RawSpan, context: MappingContext) -> dict[str, Any]:
    """The observation record of one span; raises :class:`MappingError` if it is unusable."""
    limits = context.limits
    attrs = {**raw.resource, **raw.attributes} if raw.resource else raw.attributes
    found = mapped_values(attrs)
    start_us = raw.start_ns // 1000
    end_us = raw.end_ns // 1000 if raw.end_ns else None
    if end_us is not None and end_us < start_us:
        raise MappingError("endTimeUnixNano is before startTimeUnixNano")
    day, hour, month = time_buckets(start_us)
    kind, operation = observation_kind(found)
    stored, loose_in, loose_out = _stored_attributes(raw, limits.attribute_max_chars)
    events, exception = _events(raw, limits.content_max_chars)
    status = _STATUS.get(raw.status_code, _UNSET)
    record = RECORD_TEMPLATE.copy()
    for field, (_key, value) in found.items():  # the plain text fields: environment, model...
        limit = _TEXT_LIMITS.get(field)
        if limit is not None:
            text = value if type(value) is str else str(value)
            record[field] = text if len(text) <= limit else clip(text, limit)
    message = raw.status_message
    if exception and status == "error":
        record["error_type"] = record["error_type"] or clip(
            str(exception.get("exception.type") or ""), 200
        )
        message = message or str(exception.get("exception.message") or "")
    record.update(
        trace_id=raw.trace_id,
        span_id=raw.span_id,
        parent_span_id=raw.parent_span_id,
        name=raw.name if len(raw.name) <= 512 else clip(raw.name, 512),
        kind=_KIND_NAMES[kind],
        operation=operation if len(operation) <= 64 else clip(operation, 64),
        status=status,
        status_message=message if not message else clip(message, limits.content_max_chars),
        start_us=start_us,
        end_us=end_us,
        duration_ms=None if end_us is None else (end_us - start_us) / 1000,
        start_day=day,
        start_hour=hour,
        start_month=month,
        attributes=stored,
        events=events,
    )
    if "input_content" in found or loose_in:
        record["input_content"] = _content(found, "input_content", loose_in, limits)
    if "output_content" in found or loose_out:
        record["output_content"] = _content(found, "output_content", loose_out, limits)
    if not _IDENTITY_FIELDS.isdisjoint(found):
        record["user_key"] = _identity(found, "user") or _identity(found, "user_email")
        record["team_name"] = _identity(found, "team", 200)
        record["session_key"] = _identity(found, "session")
    if not record["model"] and "invocation_parameters" in found:
        record["model"] = _invocation_model(found["invocation_parameters"][1])
    if not _USAGE_SET.isdisjoint(found):
        _set_usage(record, found, kind)
    if kind == ObservationKind.TOOL:
        record["tool_name"] = _text(found, "tool_name", 200) or _text(found, "mcp_method", 200)
        mcp = any(key.startswith("mcp.") for key in attrs)
        record["tool_type"] = _text(found, "tool_type", 64) or ("mcp" if mcp else "")
    if kind in LLM_CALL_KINDS:
        price_generation(record, context.pricer, _provided_cost(found))
    return record


def _text(found: dict[str, tuple[str, Any]], field: str, limit: int) -> str:
    hit = found.get(field)
    if hit is None:
        return ""
    text = hit[1] if isinstance(hit[1], str) else str(hit[1])
    return text if len(text) <= limit else clip(text, limit)


def _identity(found: dict, field: str, limit: int = IDENTITY_MAX_CHARS) -> str:
    # Ids are not clipped: two long ids cut to the same prefix would merge two people.
    hit = found.get(field)
    if hit is None:
        return ""
    text = str(hit[1]).strip()
    if len(text) > limit:
        raise MappingError(f"{hit[0]} is longer than {limit} characters")
    return text


def _count(found: dict[str, tuple[str, Any]], field: str) -> int:
    hit = found.get(field)
    if hit is None:
        return 0
    key, value = hit
    if type(value) is int:
        number = value
    else:
        try:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise TypeError
            number = int(value)
        except (TypeError, ValueError):
            raise MappingError(f"{key} is {value!r}, expected a whole number of tokens") from None
    if number < 0:
        raise MappingError(f"{key} is {number}, token counts cannot be negative")
    return number


def _invocation_model(parameters: Any) -> str:
    """The "model" (else "model_name") of a request's parameters as JSON; "" when none."""
    if isinstance(parameters, str):
        try:
            parameters = orjson.loads(parameters)
        except orjson.JSONDecodeError:
            return ""  # parameters are optional detail: unreadable ones name no model
    if not isinstance(parameters, dict):
        return ""
    model = parameters.get("model") or parameters.get("model_name")
    if not isinstance(model, str):
        return ""
    return model if len(model) <= _TEXT_LIMITS["model"] else clip(model, _TEXT_LIMITS["model"])


def _set_usage(
    record: dict[str, Any], found: dict[str, tuple[str, Any]], kind: ObservationKind
) -> None:
    for field in TOKEN_FIELDS:
        record[field] = _count(found, field)
    if "total_tokens" in found:
        _fill_from_total(record, found, kind)
    cached = record["cache_read_tokens"] + record["cache_write_tokens"]
    if cached > record["input_tokens"]:
        record["input_tokens"] += cached  # reported without the cache: see the module doc


def _fill_from_total(
    record: dict[str, Any], found: dict[str, tuple[str, Any]], kind: ObservationKind
) -> None:
    """Input or output tokens missing beside a total: the total minus the other one."""
    total = _count(found, "total_tokens")
    has_input, has_output = "input_tokens" in found, "output_tokens" in found
    if has_input and not has_output:
        record["output_tokens"] = max(total - record["input_tokens"], 0)
    elif has_output and not has_input:
        record["input_tokens"] = max(total - record["output_tokens"], 0)
    elif not has_input and not has_output and kind == ObservationKind.EMBEDDING:
        record["input_tokens"] = total  # an embedding has no output: its total is its input


def _provided_cost(found: dict[str, tuple[str, Any]]) -> float | None:
    hit = found.get("cost")
    if hit is None:
        return None
    key, value = hit
    try:
        if isinstance(value, bool):
            raise TypeError
        cost = float(value)
    except (TypeError, ValueError):
        raise MappingError(f"{key} is {value!r}, expected a cost in USD") from None
    if not cost >= 0:  # also refuses NaN
        raise MappingError(f"{key} is {value!r}, a cost cannot be negative")
    return cost


def price_generation(record: dict[str, Any], pricer: Pricer, provided: float | None) -> None:
    """Set ``cost_usd`` and ``cost_source`` of an LLM-call record (docs/metrics.md, "Cost")."""
    usage = TokenUsage(
        input=record["input_tokens"],
        output=record["output_tokens"],
        cache_read=record["cache_read_tokens"],
        cache_write=record["cache_write_tokens"],
    )
    cost, source = pricer.price(
        provider=record["provider"],
        model=record["model"],
        usage=usage,
        when_us=record["start_us"],
        provided_cost=provided,
    )
    record["cost_usd"] = cost
    record["cost_source"] = str(source)


# --- attributes, content, events ---------------------------------------------------


def clip_value(value: Any, limit: int) -> Any:
    """A JSON-able value with its strings cut to ``limit`` (lists to 128 items)."""
    if isinstance(value, str):
        return value if len(value) <= limit else clip(value, limit)
    if isinstance(value, list):
        return [clip_value(v, limit) for v in value[:128]]
    if isinstance(value, dict):
        return {k: clip_value(v, limit) for k, v in value.items()}
    return value


def _stored_attributes(raw: RawSpan, cap: int) -> tuple[dict[str, Any], dict, dict]:
    """Span attributes to keep (content taken out, values clipped) and loose content parts."""
    kept: dict[str, Any] = {}
    loose_in: dict[str, Any] = {}
    loose_out: dict[str, Any] = {}
    for key, value in raw.attributes.items():
        if key in CONTENT_KEYS:
            continue  # content is kept apart: only admins may see it
        if key.startswith(CONTENT_PREFIXES):
            (loose_in if key.startswith(INPUT_PREFIXES) else loose_out)[key] = value
        elif type(value) is str:
            kept[key] = value if len(value) <= cap else clip(value, cap)
        else:
            kept[key] = clip_value(value, cap)
    outcome = raw.resource.get("task.outcome")
    if outcome is not None and "task.outcome" not in kept:
        kept["task.outcome"] = clip_value(outcome, cap)
    return kept, loose_in, loose_out


def _content(found: dict, field: str, loose: dict, limits: Limits) -> str:
    limit = limits.content_max_chars
    hit = found.get(field)
    value = hit[1] if hit is not None else (loose or None)
    if value is None:
        return ""
    if not isinstance(value, str):
        value = orjson.dumps(value, default=str).decode()
    return value if len(value) <= limit else clip(value, limit)


def _events(raw: RawSpan, limit: int) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    if not raw.events:
        return [], None
    events = []
    exception = None
    for event in raw.events:
        attributes = {k: clip_value(v, limit) for k, v in event.attributes.items()}
        events.append(
            {"name": event.name, "time_us": event.time_ns // 1000, "attributes": attributes}
        )
        if exception is None and event.name == "exception":
            exception = attributes
    return events, exception
