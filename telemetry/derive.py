"""Derive a trace's row from its observations (docs/metrics.md, "Entities").

One definition used by every writer (OTLP ingestion, file import, demo data), so
a trace whose spans arrive in several batches, in any order, ends up the same
as if they had arrived together: the summary is recomputed from all its spans.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from telemetry.models import LLM_CALL_KINDS, ObservationKind, SpanStatus, TraceStatus
from telemetry.timeutil import day_of_us, hour_of_us, month_of_us

_TIMEOUT = re.compile(r"timeout|timed[ _]?out|deadline", re.IGNORECASE)
_TOKEN_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)
# Trace fields taken from the root span first, else from the earliest span that has one.
_INHERITED = ("user_id", "team_id", "session_id", "environment", "module", "agent")


def is_timeout(error_type: str) -> bool:
    """``error.type`` = timeout, or a deadline/timeout exception type."""
    return bool(error_type) and bool(_TIMEOUT.search(error_type))


def attributes_of(span: Mapping[str, Any]) -> dict[str, Any]:
    raw = span.get("attributes") or {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return raw if isinstance(raw, dict) else {}


def _start_order(span: Mapping[str, Any]) -> tuple:
    return span["start_us"], span["span_id"]


def _root(ordered: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The first span without a parent, of spans in :func:`_start_order`."""
    return next((s for s in ordered if not s.get("parent_span_id")), None)


def trace_status(root: Mapping[str, Any] | None) -> TraceStatus:
    if root is None or root.get("end_us") is None:
        return TraceStatus.RUNNING
    if root.get("status") == SpanStatus.ERROR:
        return TraceStatus.TIMEOUT if is_timeout(root.get("error_type", "")) else TraceStatus.ERROR
    return TraceStatus.OK


def _int_or_none(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def summarize_trace(spans: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The derived columns of a trace row from all of its observations (at least one)."""
    if not spans:
        raise ValueError("a trace needs at least one span")
    ordered = sorted(spans, key=_start_order)
    root = _root(ordered)
    status = trace_status(root)
    start_us = ordered[0]["start_us"]
    ends = [s["end_us"] for s in ordered if s.get("end_us") is not None]
    end_us = None if status == TraceStatus.RUNNING or not ends else max(ends)

    summary: dict[str, Any] = {
        "name": (root or ordered[0]).get("name", ""),
        "status": str(status),
        "has_root": root is not None,
        "start_us": start_us,
        "end_us": end_us,
        "duration_ms": None if end_us is None else (end_us - start_us) / 1000,
        "start_day": day_of_us(start_us),
        "start_hour": hour_of_us(start_us),
        "start_month": month_of_us(start_us),
        "error_type": "",
        "error_message": "",
    }
    if status in (TraceStatus.ERROR, TraceStatus.TIMEOUT):
        summary["error_type"] = root.get("error_type", "") or ""
        summary["error_message"] = root.get("status_message", "") or ""

    inherited = dict.fromkeys(_INHERITED)  # each from the first candidate that has one
    missing = _INHERITED
    for span in [root, *ordered] if root else ordered:
        for field in missing:
            if value := span.get(field):
                inherited[field] = value
        missing = [field for field in missing if inherited[field] is None]
        if not missing:
            break
    summary.update(inherited)  # in _INHERITED order: writers rely on the order of the keys
    summary["environment"] = summary["environment"] or "production"
    summary["module"] = summary["module"] or ""
    summary["agent"] = summary["agent"] or ""

    tokens = dict.fromkeys(_TOKEN_FIELDS, 0)
    cost = 0.0
    generations = tool_calls = tool_errors = 0
    added = removed = None
    outcome = ""
    for span in ordered:
        kind = span.get("kind")
        if kind in LLM_CALL_KINDS:
            generations += 1
            for field in _TOKEN_FIELDS:
                tokens[field] += int(span.get(field) or 0)
            cost += float(span.get("cost_usd") or 0.0)
        elif kind == ObservationKind.TOOL:
            tool_calls += 1
            tool_errors += span.get("status") == SpanStatus.ERROR
        attributes = span.get("attributes")
        if type(attributes) is not dict:  # stored spans read back hold JSON text
            attributes = attributes_of(span)
        if not attributes:
            continue
        if not outcome and span is not root and attributes.get("task.outcome"):
            outcome = str(attributes["task.outcome"])[:32]
        if "code.lines_added" in attributes:
            lines_added = _int_or_none(attributes["code.lines_added"])
            if lines_added is not None:
                added = (added or 0) + lines_added
        if "code.lines_removed" in attributes:
            lines_removed = _int_or_none(attributes["code.lines_removed"])
            if lines_removed is not None:
                removed = (removed or 0) + lines_removed
    if root is not None:  # the root's outcome wins over its children's
        root_outcome = attributes_of(root).get("task.outcome")
        outcome = str(root_outcome)[:32] if root_outcome else outcome
    summary.update(tokens)
    summary["cost_usd"] = cost
    summary["generations"] = generations
    summary["tool_calls"] = tool_calls
    summary["tool_errors"] = tool_errors
    summary["code_lines_added"] = added
    summary["code_lines_removed"] = removed
    summary["task_outcome"] = outcome
    return summary
