"""Rules with their current states, for the Alerts page, the CLI and the Overview banner."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from telemetry.accounts import Account
from telemetry.alerts.messages import iso
from telemetry.alerts.rules import StoredRule, list_rules
from telemetry.alerts.state import ALERT, MUTED, NO_DATA, OK, WARNING
from telemetry.alerts.tables import AlertState

# Worst first: the state a grouped rule shows is its worst group's.
_RANK = {ALERT: 0, WARNING: 1, NO_DATA: 2, MUTED: 3, OK: 4}
OFF = "OFF"
NOT_YET = "PENDING_FIRST_RUN"


@dataclass(frozen=True)
class GroupState:
    group: str
    state: str
    since_us: int
    value: float | None
    runs: int | None
    recent: tuple[tuple[int, float | None], ...]


@dataclass(frozen=True)
class RuleView:
    rule: StoredRule
    groups: tuple[GroupState, ...]

    @property
    def state(self) -> str:
        """The rule's state: its worst group's, OFF when disabled, or not evaluated yet."""
        if not self.rule.spec.enabled:
            return OFF
        if not self.groups:
            return NOT_YET
        return min(self.groups, key=lambda group: _RANK.get(group.state, 9)).state

    @property
    def firing(self) -> tuple[GroupState, ...]:
        return tuple(group for group in self.groups if group.state == ALERT)

    def as_json(self) -> dict[str, Any]:
        spec = self.rule.spec
        return {
            "id": self.rule.id,
            "name": spec.name,
            "state": self.state,
            "metric": spec.metric,
            "window": spec.window,
            "condition": spec.direction,
            "threshold": spec.threshold,
            "warn_threshold": spec.warn_threshold,
            "scope": spec.describe_scope(),
            "min_runs": spec.min_runs,
            "pending_s": spec.pending_s,
            "no_data": spec.no_data,
            "channels": list(spec.channels),
            "enabled": spec.enabled,
            "muted_until": iso(spec.muted_until_us),
            "last_evaluated": iso(self.rule.last_evaluated_us),
            "last_error": self.rule.last_error or None,
            "groups": [
                {"group": g.group or None, "state": g.state, "value": g.value, "runs": g.runs}
                for g in self.groups
            ],
        }


def rules_with_states(engine: Engine, account: Account, org_slug: str) -> list[RuleView]:
    """The rules the account may see, each with its groups' current states."""
    rules = list_rules(engine, account, org_slug)
    if not rules:
        return []
    with engine.connect() as conn:
        rows = conn.execute(
            select(AlertState).where(AlertState.rule_id.in_([rule.id for rule in rules]))
        ).all()
    by_rule: dict[int, list[GroupState]] = {}
    for row in rows:
        state = AlertState.model_validate(row._mapping)
        recent = tuple(tuple(point) for point in json.loads(state.recent or "[]"))
        by_rule.setdefault(state.rule_id, []).append(
            GroupState(
                state.group_key, state.state, state.since_us, state.value, state.runs, recent
            )
        )
    return [
        RuleView(rule, tuple(sorted(by_rule.get(rule.id, []), key=lambda g: g.group)))
        for rule in rules
    ]


def firing_rules(engine: Engine, account: Account, org_slug: str) -> list[RuleView]:
    """Enabled rules with at least one group in ALERT that the account may see."""
    return [
        view
        for view in rules_with_states(engine, account, org_slug)
        if view.rule.spec.enabled and view.firing
    ]
