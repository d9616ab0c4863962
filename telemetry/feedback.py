"""``telemetry.score``: send a score (a thumbs up, an evaluation) to the dashboard from Python.

Posts to ``POST /api/scores`` with the address and key given to
:func:`telemetry.configure` (or passed here). Called inside ``telemetry.capture``
(or any active span), it scores the current trace when no ``trace_id`` is given::

    telemetry.score("user_feedback", label="up", trace_id=answer_trace_id)
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from telemetry import tracing

SCORES_PATH = "/api/scores"


def scores_url(endpoint: str) -> str:
    """The scores URL of a dashboard address (any ``/v1/traces`` suffix dropped)."""
    url = endpoint.rstrip("/").removesuffix(tracing.TRACES_PATH)
    return url if url.endswith(SCORES_PATH) else url + SCORES_PATH


def score(
    name: str,
    *,
    value: float | None = None,
    label: str | None = None,
    comment: str | None = None,
    trace_id: str | None = None,
    span_id: str | None = None,
    source: str = "feedback",
    id: str | None = None,
    endpoint: str | None = None,
    api_key: str | None = None,
    timeout: float = 10.0,
) -> dict[str, Any]:
    """Send one score; return the server's answer (``accepted``, ``rejected`` with reasons).

    ``trace_id`` defaults to the trace of the current span. Raises ``ValueError``
    when there is no trace or no dashboard to send to, and ``urllib.error.HTTPError``
    on a refusal (401: wrong key).
    """
    trace_id = trace_id or _current_trace_id()
    if not trace_id:
        raise ValueError("no trace to score: pass trace_id, or call inside telemetry.capture")
    endpoint = endpoint or tracing.configured_endpoint()
    api_key = api_key or tracing.configured_api_key()
    if not endpoint or not api_key:
        raise ValueError("no dashboard to send to: call telemetry.configure(...) first")
    body = {"trace_id": trace_id, "name": name, "source": source}
    for field, given in (
        ("value", value),
        ("label", label),
        ("comment", comment),
        ("span_id", span_id),
        ("id", id),
    ):
        if given is not None:
            body[field] = given
    request = urllib.request.Request(
        scores_url(endpoint),
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def _current_trace_id() -> str:
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""
