"""The history of state changes and budget notices, newest first, as the account may see it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from telemetry.accounts import Account
from telemetry.alerts.access import may_see_teams
from telemetry.alerts.messages import iso
from telemetry.alerts.tables import AlertChannel, AlertDelivery, AlertEvent
from telemetry.store import org_id


@dataclass(frozen=True)
class HistoryEntry:
    event_id: str
    rule_id: int | None
    budget_id: int | None
    name: str
    group: str
    state: str
    previous_state: str
    metric: str
    value: float | None
    threshold: float | None
    window: str
    scope: dict[str, Any]
    at_us: int
    problem_since_us: int | None
    message: str
    url: str
    deliveries: tuple[tuple[str, str, str], ...]  # (channel, status, last error)

    def as_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "rule": self.name,
            "rule_id": self.rule_id,
            "budget_id": self.budget_id,
            "group": self.group or None,
            "state": self.state,
            "previous_state": self.previous_state or None,
            "metric": self.metric,
            "value": self.value,
            "threshold": self.threshold,
            "window": self.window,
            "at": iso(self.at_us),
            "started_at": iso(self.problem_since_us),
            "message": self.message,
            "url": self.url,
            "deliveries": [
                {"channel": channel, "status": status, "error": error or None}
                for channel, status, error in self.deliveries
            ],
        }


def _teams_of(scope: dict[str, Any]) -> list[str] | None:
    if scope.get("group_by") == "team" and scope.get("group"):
        return [scope["group"]]
    if "team" in scope:
        return [scope["team"]]
    return scope.get("teams")


def alert_history(
    engine: Engine,
    account: Account,
    org_slug: str,
    *,
    rule_id: int | None = None,
    since_us: int | None = None,
    until_us: int | None = None,
    limit: int = 500,
) -> list[HistoryEntry]:
    """State changes and budget notices of the organization, newest first, at most ``limit``.

    A manager sees the entries whose scope lies within their own teams.
    """
    with engine.connect() as conn:
        org = org_id(conn, org_slug)
        query = select(AlertEvent).where(AlertEvent.org_id == org)
        if rule_id is not None:
            query = query.where(AlertEvent.rule_id == rule_id)
        if since_us is not None:
            query = query.where(AlertEvent.at_us >= since_us)
        if until_us is not None:
            query = query.where(AlertEvent.at_us < until_us)
        rows = conn.execute(query.order_by(AlertEvent.at_us.desc(), AlertEvent.id.desc())).all()
        events = []
        for row in rows:
            event = AlertEvent.model_validate(row._mapping)
            scope = json.loads(event.scope or "{}")
            if may_see_teams(account, org_slug, _teams_of(scope)):
                events.append((event, scope))
            if len(events) >= limit:
                break
        deliveries = _deliveries(conn, [event.id for event, _ in events])
    return [
        HistoryEntry(
            event_id=event.event_id,
            rule_id=event.rule_id,
            budget_id=event.budget_id,
            name=event.name,
            group=event.group_key,
            state=event.state,
            previous_state=event.previous_state,
            metric=event.metric,
            value=event.value,
            threshold=event.threshold,
            window=event.window_name,
            scope=scope,
            at_us=event.at_us,
            problem_since_us=event.problem_since_us,
            message=event.message,
            url=event.url,
            deliveries=tuple(deliveries.get(event.id, ())),
        )
        for event, scope in events
    ]


def _deliveries(conn, event_pks: list[int]) -> dict[int, list[tuple[str, str, str]]]:
    if not event_pks:
        return {}
    rows = conn.execute(
        select(
            AlertDelivery.event_pk,
            AlertChannel.kind,
            AlertChannel.target,
            AlertChannel.name,
            AlertDelivery.status,
            AlertDelivery.last_error,
        )
        .outerjoin(AlertChannel, AlertChannel.id == AlertDelivery.channel_id)
        .where(AlertDelivery.event_pk.in_(event_pks))
        .order_by(AlertDelivery.id)
    ).all()
    found: dict[int, list[tuple[str, str, str]]] = {}
    for event_pk, kind, target, name, status, error in rows:
        label = name or (f"{kind}:{target}" if kind else "(removed channel)")
        found.setdefault(event_pk, []).append((label, status, error))
    return found
