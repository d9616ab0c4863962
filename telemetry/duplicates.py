"""One LLM call reported twice: tell the duplicate span apart (docs/metrics.md).

An SDK that traces its own calls, used with an instrumentation of the same SDK,
reports one HTTP request as two nested LLM-call spans with the same model and
usage. Of such spans, the outermost is the call; each one nested under it (as
child or deeper) with the same model and the same input and output tokens is
stored with kind ``duplicate`` and ``duplicate_of`` = the outermost one's span
id, so no figure counts it. The result depends only on the set of spans, never
on the order they arrived in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from telemetry.models import LLM_CALL_KINDS, ObservationKind

DUPLICATE = str(ObservationKind.DUPLICATE)
_CALL_KINDS = frozenset((*(str(kind) for kind in LLM_CALL_KINDS), DUPLICATE))


def _same_call(span: dict[str, Any]) -> tuple:
    return (span["model"], span["input_tokens"], span["output_tokens"])


def outermost_copy(span: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> str:
    """Span id of the outermost LLM call ``span`` is nested under with the same call; "" if none."""
    call = _same_call(span)
    found = ""
    seen = {span["span_id"]}
    parent = by_id.get(span["parent_span_id"])
    while parent is not None and parent["span_id"] not in seen:  # a parent cycle ends the walk
        seen.add(parent["span_id"])
        if parent["kind"] in _CALL_KINDS and _same_call(parent) == call:
            found = parent["span_id"]
        parent = by_id.get(parent["parent_span_id"])
    return found


def mark_duplicates(spans: Sequence[dict[str, Any]]) -> set[int]:
    """Mark the duplicates among all the spans of one trace; ``id()`` of the spans changed.

    A span once marked stays marked: more spans of the trace can only reveal more
    ancestors. Its ``duplicate_of`` follows the outermost one as it arrives.
    """
    calls = [span for span in spans if span["kind"] in _CALL_KINDS]
    if len(calls) < 2:
        return set()
    by_id = {span["span_id"]: span for span in spans}
    changed = set()
    for span in calls:
        outer = outermost_copy(span, by_id)
        if outer and (span["kind"] != DUPLICATE or span["duplicate_of"] != outer):
            span["kind"] = DUPLICATE
            span["duplicate_of"] = outer
            changed.add(id(span))
    return changed
