"""The observations of one trace arranged as a tree (parent first, children by start time).

Pure Python over the rows the trace view selected: no database access here. A
span whose parent is not stored (or that is its own ancestor) is placed at the
root level and flagged ``orphan``, so no span is ever left out. Without content,
attributes and event attributes that may carry conversation text are dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from telemetry.ingest.attributes import CONTENT_KEYS, CONTENT_PREFIXES
from telemetry.models import LLM_CALL_KINDS, ObservationKind, SpanStatus

# Request parameters: OpenTelemetry GenAI ``gen_ai.request.*``, OpenInference's JSON blob.
_REQUEST_PREFIX = "gen_ai.request."
_INVOCATION_PARAMETERS = "llm.invocation_parameters"
# Event attributes that carry text of the conversation (older GenAI conventions).
_CONTENT_EVENT_KEYS = frozenset(
    ("gen_ai.prompt", "gen_ai.completion", "gen_ai.event.content", "content", "body")
)
_CONTENT_EVENT_NAME = re.compile(r"^gen_ai\.(content\..*|.*\.message|choice)$")


@dataclass(frozen=True)
class ObservationNode:
    """One observation at its place in the tree (``step`` = 1-based position in tree order)."""

    step: int
    depth: int
    orphan: bool  # its parent span is not stored: shown at the root level
    span_id: str
    parent_span_id: str
    name: str
    kind: str
    operation: str
    status: str
    status_message: str
    error_type: str
    start_us: int
    end_us: int | None
    duration_ms: float | None
    offset_ms: float  # start after the trace's start
    model: str
    provider: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    cost_usd: float
    cost_source: str
    tool_name: str
    tool_type: str
    request_parameters: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    input_content: str | None = None
    output_content: str | None = None
    duplicate_of: str = ""  # kind "duplicate": span id of the LLM call it repeats

    @property
    def is_error(self) -> bool:
        return self.status == SpanStatus.ERROR

    @property
    def running(self) -> bool:
        return self.end_us is None

    @property
    def status_text(self) -> str:
        """How the step ended, for people: "running", "error", or "ok" (OpenTelemetry's
        "unset" means no error was reported, which reads as ok)."""
        if self.running:
            return "running"
        return "error" if self.is_error else "ok"

    @property
    def is_llm_call(self) -> bool:
        return self.kind in LLM_CALL_KINDS

    @property
    def is_duplicate(self) -> bool:
        """An LLM call reported twice: shown, not counted (docs/metrics.md)."""
        return self.kind == ObservationKind.DUPLICATE

    @property
    def is_tool(self) -> bool:
        return self.kind == ObservationKind.TOOL

    @property
    def error_text(self) -> str:
        """The error's message, else its type, else a plain word."""
        return self.status_message or self.error_type or "error (no message sent)"


@dataclass(frozen=True)
class TraceEvent:
    """A span event (an exception, a log line...) with the span it belongs to."""

    time_us: int
    offset_ms: float
    step: int
    span_name: str
    name: str
    attributes: dict[str, Any]


def duplicate_note(node: ObservationNode, nodes: Sequence[ObservationNode]) -> str:
    """'duplicate of step 2 "chat" (span ...), not counted' for a duplicate; "" otherwise."""
    if not node.is_duplicate:
        return ""
    counted = next((n for n in nodes if n.span_id == node.duplicate_of), None)
    if counted is None:
        return f"duplicate of span {node.duplicate_of}, not counted"
    return f'duplicate of step {counted.step} "{counted.name or counted.kind}", not counted'


def build_tree(
    rows: Sequence[Mapping[str, Any]], trace_start_us: int, include_content: bool
) -> tuple[list[ObservationNode], list[TraceEvent]]:
    """Observation rows -> nodes in tree order (parent first, children by start) and events.

    A span whose parent is not stored (or that is its own ancestor) is placed at
    the root level: no span is ever left out.
    """
    ordered = sorted(rows, key=lambda r: (r["start_us"], r["span_id"]))
    known = {row["span_id"] for row in ordered}
    children: dict[str, list[Mapping[str, Any]]] = {}
    tops: list[Mapping[str, Any]] = []
    for row in ordered:
        parent = row["parent_span_id"]
        if parent and parent in known and parent != row["span_id"]:
            children.setdefault(parent, []).append(row)
        else:
            tops.append(row)
    placed: list[tuple[Mapping[str, Any], int, bool]] = []
    visited: set[str] = set()
    _walk(tops, children, visited, placed, orphans=True)
    # Spans caught in a parent cycle were never reached from a top: add them as orphans.
    _walk([r for r in ordered if r["span_id"] not in visited], children, visited, placed, True)
    nodes = [
        _node(row, step, depth, orphan, trace_start_us, include_content)
        for step, (row, depth, orphan) in enumerate(placed, start=1)
    ]
    events = sorted(
        (
            event
            for node, (row, _, _) in zip(nodes, placed, strict=True)
            for event in _events(row, node)
        ),
        key=lambda e: (e.time_us, e.step),
    )
    if not include_content:
        events = [_without_content(event) for event in events]
    return nodes, events


def _walk(
    tops: list[Mapping[str, Any]],
    children: dict[str, list[Mapping[str, Any]]],
    visited: set[str],
    placed: list[tuple[Mapping[str, Any], int, bool]],
    orphans: bool,
) -> None:
    # Iterative depth-first walk: a chain of thousands of nested spans needs no recursion.
    stack = [(row, 0) for row in reversed(tops)]
    while stack:
        row, depth = stack.pop()
        if row["span_id"] in visited:
            continue
        visited.add(row["span_id"])
        orphan = depth == 0 and orphans and bool(row["parent_span_id"])
        placed.append((row, depth, orphan))
        for child in reversed(children.get(row["span_id"], ())):
            stack.append((child, depth + 1))


def _node(
    row: Mapping[str, Any],
    step: int,
    depth: int,
    orphan: bool,
    trace_start_us: int,
    include_content: bool,
) -> ObservationNode:
    attributes = _json_object(row["attributes"])
    if not include_content:  # ingestion keeps content apart; older rows may not have
        attributes = {k: v for k, v in attributes.items() if not _is_content_key(k)}
    return ObservationNode(
        step=step,
        depth=depth,
        orphan=orphan,
        span_id=row["span_id"],
        parent_span_id=row["parent_span_id"],
        name=row["name"],
        kind=row["kind"],
        operation=row["operation"],
        status=row["status"],
        status_message=row["status_message"],
        error_type=row["error_type"],
        start_us=row["start_us"],
        end_us=row["end_us"],
        duration_ms=row["duration_ms"],
        offset_ms=(row["start_us"] - trace_start_us) / 1000,
        model=row["model"],
        provider=row["provider"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        cache_read_tokens=row["cache_read_tokens"],
        cache_write_tokens=row["cache_write_tokens"],
        reasoning_tokens=row["reasoning_tokens"],
        cost_usd=row["cost_usd"],
        cost_source=row["cost_source"],
        tool_name=row["tool_name"],
        tool_type=row["tool_type"],
        request_parameters=request_parameters(attributes),
        attributes=attributes,
        input_content=row["input_content"] if include_content else None,
        output_content=row["output_content"] if include_content else None,
        duplicate_of=row.get("duplicate_of") or "",
    )


def request_parameters(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """The request parameters a span recorded (temperature, max tokens...), by short name."""
    found = {
        key.removeprefix(_REQUEST_PREFIX): value
        for key, value in attributes.items()
        if key.startswith(_REQUEST_PREFIX)
    }
    blob = attributes.get(_INVOCATION_PARAMETERS)
    parsed = _json_object(blob) if isinstance(blob, str) else blob
    if isinstance(parsed, dict):
        for key, value in parsed.items():
            found.setdefault(str(key), value)
    return dict(sorted(found.items()))


def _events(row: Mapping[str, Any], node: ObservationNode) -> list[TraceEvent]:
    raw = row["events"]
    try:
        events = json.loads(raw) if isinstance(raw, str) else (raw or [])
    except ValueError:
        return []
    if not isinstance(events, list):
        return []
    found = []
    for event in events:
        if not isinstance(event, dict) or not isinstance(event.get("time_us"), int):
            continue
        attributes = event.get("attributes")
        found.append(
            TraceEvent(
                time_us=event["time_us"],
                offset_ms=node.offset_ms + (event["time_us"] - node.start_us) / 1000,
                step=node.step,
                span_name=node.name,
                name=str(event.get("name", "")),
                attributes=attributes if isinstance(attributes, dict) else {},
            )
        )
    return found


def _without_content(event: TraceEvent) -> TraceEvent:
    """The event without the attributes that may carry conversation text."""
    if _CONTENT_EVENT_NAME.match(event.name):
        kept: dict[str, Any] = {}
    else:
        kept = {k: v for k, v in event.attributes.items() if not _is_content_key(k)}
    return TraceEvent(event.time_us, event.offset_ms, event.step, event.span_name, event.name, kept)


def _is_content_key(key: str) -> bool:
    return key in CONTENT_KEYS or key in _CONTENT_EVENT_KEYS or key.startswith(CONTENT_PREFIXES)


def _json_object(text: Any) -> dict[str, Any]:
    if not isinstance(text, str) or not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
