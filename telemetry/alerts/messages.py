"""What a notification says: a :class:`Notice` per event, as e-mail, Slack blocks, webhook JSON.

The webhook body is a pinned interface (README, "Alerts and budgets"): at least
``event_id``, ``rule``, ``state``, ``value``, ``threshold``, ``window``,
``scope`` and ``url``, plus ``started_at`` and ``ended_at`` for an episode.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from telemetry import format as fmt
from telemetry.alerts.metrics import METRICS, MS
from telemetry.alerts.state import ALERT, NO_DATA, OK, PROBLEMS, WARNING
from telemetry.alerts.windows import WINDOW_LABELS
from telemetry.timeutil import US_PER_SECOND, from_us

STATE_MARKS = {ALERT: "🔴", WARNING: "🟠", OK: "🟢", NO_DATA: "⚪"}


def value_text(metric: str, value: float | None) -> str:
    """A rule's value as people read it (5.0%, 1,234 ms, $12.50, 3,400)."""
    known = METRICS.get(metric)
    if known is None or value is None:
        return fmt.MISSING if value is None else f"{value:g}"
    if known.unit == MS:
        return f"{value:,.0f} ms"
    return fmt.value_text(value, known.unit)


def iso(us: int | None) -> str | None:
    return None if us is None else from_us(us).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Notice:
    """One event as sent: see :func:`webhook_body` for its fields."""

    event_id: str
    kind: str  # rule, budget, test
    name: str
    state: str
    previous_state: str
    metric: str
    value: float | None
    threshold: float | None
    window: str
    scope: dict[str, Any]
    group: str
    at_us: int
    problem_since_us: int | None
    message: str
    url: str
    rule_id: int | None = None

    @property
    def subject(self) -> str:
        return f"[{self.state}] {self.name}" + (f" ({self.group})" if self.group else "")


def describe_change(
    name: str,
    group: str,
    state: str,
    previous: str,
    metric: str,
    value: float | None,
    threshold: float | None,
    window: str,
    at_us: int,
    problem_since_us: int | None,
) -> str:
    """The one-line message of a rule's change of state."""
    label = METRICS[metric].label if metric in METRICS else metric
    where = f"{name}" + (f" ({group})" if group else "")
    over = WINDOW_LABELS.get(window, window)
    shown = value_text(metric, value)
    if state in PROBLEMS:
        return f"{where}: {label} {shown} is past {value_text(metric, threshold)} over {over}"
    if state == OK and previous in PROBLEMS and problem_since_us is not None:
        minutes = round((at_us - problem_since_us) / US_PER_SECOND / 60)
        return f"{where}: resolved after {minutes} min ({label} {shown} over {over})"
    if state == NO_DATA:
        return f"{where}: no data ({label} cannot be measured over {over}, or too few runs)"
    return f"{where}: {state} ({label} {shown} over {over})"


def webhook_body(notice: Notice) -> dict[str, Any]:
    """The generic webhook's JSON body (pinned keys first)."""
    ended = notice.at_us if notice.state == OK and notice.previous_state in PROBLEMS else None
    return {
        "event_id": notice.event_id,
        "rule": notice.name,
        "state": notice.state,
        "value": notice.value,
        "threshold": notice.threshold,
        "window": notice.window,
        "scope": notice.scope,
        "url": notice.url,
        "type": notice.kind,
        "rule_id": notice.rule_id,
        "group": notice.group or None,
        "previous_state": notice.previous_state or None,
        "metric": notice.metric,
        "at": iso(notice.at_us),
        "started_at": iso(notice.problem_since_us),
        "ended_at": iso(ended),
        "message": notice.message,
    }


def webhook_bytes(notice: Notice) -> bytes:
    return json.dumps(webhook_body(notice), separators=(",", ":"), ensure_ascii=False).encode()


def slack_payload(notice: Notice) -> dict[str, Any]:
    """Slack incoming-webhook blocks: a header, the message, the figures, a link."""
    mark = STATE_MARKS.get(notice.state, "")
    fields = [
        f"*State*\n{notice.state}"
        + (f" (was {notice.previous_state})" if notice.previous_state else ""),
        f"*Value*\n{value_text(notice.metric, notice.value)}",
        f"*Threshold*\n{value_text(notice.metric, notice.threshold)}",
        f"*Window*\n{WINDOW_LABELS.get(notice.window, notice.window)}",
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{mark} {notice.subject}"}},
        {"type": "section", "text": {"type": "plain_text", "text": notice.message}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": text} for text in fields]},
    ]
    if notice.url:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open in the dashboard"},
                        "url": notice.url,
                    }
                ],
            }
        )
    return {"text": f"{mark} {notice.subject}: {notice.message}", "blocks": blocks}


def email_message(notice: Notice, sender: str, recipient: str) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = notice.subject
    mail["From"] = sender
    mail["To"] = recipient
    mail["X-Telemetry-Event-Id"] = notice.event_id
    lines = [
        notice.message,
        "",
        f"State:     {notice.state}"
        + (f" (was {notice.previous_state})" if notice.previous_state else ""),
        f"Value:     {value_text(notice.metric, notice.value)}",
        f"Threshold: {value_text(notice.metric, notice.threshold)}",
        f"Window:    {WINDOW_LABELS.get(notice.window, notice.window)}",
        f"Scope:     {scope_text(notice.scope)}",
        f"At:        {iso(notice.at_us)}",
    ]
    if notice.url:
        lines += ["", f"Open in the dashboard: {notice.url}"]
    lines += ["", f"Event id: {notice.event_id}"]
    mail.set_content("\n".join(lines))
    return mail


def scope_text(scope: dict[str, Any]) -> str:
    """``org default · teams A, B · agent x`` from a scope dict."""
    parts = [f"org {scope.get('org')}"]
    for key in ("teams", "environments"):
        if scope.get(key):
            parts.append(f"{key} {', '.join(scope[key])}")
    for key in ("agent", "model", "user"):
        if scope.get(key):
            parts.append(f"{key} {scope[key]}")
    if scope.get("group_by"):
        parts.append(f"each {scope['group_by']}")
    return " · ".join(parts)
