"""Alert rules: what a rule says (:class:`RuleSpec`), checked in full before anything is saved.

Every change goes through :func:`save_rule`, :func:`delete_rule` or
:func:`set_rule_switches` with the acting account: a manager may only touch
rules scoped to their own teams, and each change is written to the audit trail
with its before and after values in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, update

from telemetry.accounts import Account
from telemetry.alerts.access import AccessDenied, check_teams, may_see_teams
from telemetry.alerts.channels import ChannelSpec, ensure_channel
from telemetry.alerts.errors import RuleError
from telemetry.alerts.metrics import Target
from telemetry.alerts.rule_checks import check_spec, number
from telemetry.alerts.state import ABOVE, NO_DATA_KEEP, Condition
from telemetry.alerts.tables import AlertRule, AlertState
from telemetry.ingest.audit import record_audit
from telemetry.queries.scope import Subject
from telemetry.store import org_id
from telemetry.timeutil import now_us


@dataclass(frozen=True)
class RuleSpec:
    """Everything a rule says; :func:`check_spec` refuses anything inconsistent."""

    org: str
    name: str
    metric: str
    window: str
    threshold: float
    direction: str = ABOVE
    warn_threshold: float | None = None
    teams: tuple[str, ...] | None = None
    environments: tuple[str, ...] | None = None
    agent: str = ""
    model: str = ""
    user: str = ""
    group_by: str = ""
    min_runs: int = 0
    pending_s: int = 0
    recovery_margin: float = 0.0
    no_data: str = NO_DATA_KEEP
    channels: tuple[int, ...] = field(default_factory=tuple)
    enabled: bool = True
    muted_until_us: int | None = None

    @property
    def condition(self) -> Condition:
        return Condition(
            direction=self.direction,
            threshold=self.threshold,
            warn_threshold=self.warn_threshold,
            recovery_margin=self.recovery_margin,
            min_runs=self.min_runs,
            pending_s=self.pending_s,
            no_data=self.no_data,
        )

    def target(self, group: str = "") -> Target:
        """The scope to measure; ``group`` is a team, agent or model name for grouped rules."""
        teams = (group,) if self.group_by == "team" and group else self.teams
        subject = Subject(
            agent=(group if self.group_by == "agent" else self.agent) or None,
            model=(group if self.group_by == "model" else self.model) or None,
            user=self.user or None,
        )
        return Target(self.org, teams, self.environments, subject)

    def describe_scope(self) -> dict[str, Any]:
        """The scope as the webhook body and the history show it."""
        return {
            "org": self.org,
            "teams": None if self.teams is None else list(self.teams),
            "environments": None if self.environments is None else list(self.environments),
            "agent": self.agent or None,
            "model": self.model or None,
            "user": self.user or None,
            "group_by": self.group_by or None,
        }


# --- storage ---------------------------------------------------------------------


def _dump(values) -> str | None:
    return None if values is None else json.dumps(list(values))


def _row_values(spec: RuleSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "metric": spec.metric,
        "window_name": spec.window,
        "direction": spec.direction,
        "threshold": spec.threshold,
        "warn_threshold": spec.warn_threshold,
        "teams": _dump(spec.teams),
        "environments": _dump(spec.environments),
        "agent": spec.agent,
        "model": spec.model,
        "end_user": spec.user,
        "group_by": spec.group_by,
        "min_runs": spec.min_runs,
        "pending_s": spec.pending_s,
        "recovery_margin": spec.recovery_margin,
        "no_data": spec.no_data,
        "channels": json.dumps(sorted(spec.channels)),
        "enabled": spec.enabled,
        "muted_until_us": spec.muted_until_us,
    }


def spec_of(row: AlertRule, org: str) -> RuleSpec:
    """The :class:`RuleSpec` of a stored rule."""

    def listed(text: str | None) -> tuple[str, ...] | None:
        return None if text is None else tuple(json.loads(text))

    return RuleSpec(
        org=org,
        name=row.name,
        metric=row.metric,
        window=row.window_name,
        threshold=row.threshold,
        direction=row.direction,
        warn_threshold=row.warn_threshold,
        teams=listed(row.teams),
        environments=listed(row.environments),
        agent=row.agent,
        model=row.model,
        user=row.end_user,
        group_by=row.group_by,
        min_runs=row.min_runs,
        pending_s=row.pending_s,
        recovery_margin=row.recovery_margin,
        no_data=row.no_data,
        channels=tuple(json.loads(row.channels or "[]")),
        enabled=row.enabled,
        muted_until_us=row.muted_until_us,
    )


def _audit_values(spec: RuleSpec | None) -> dict[str, Any] | None:
    return None if spec is None else asdict(spec)


def _load(conn: Connection, org: int, rule_id: int) -> AlertRule:
    row = conn.execute(
        select(AlertRule).where(AlertRule.org_id == org, AlertRule.id == rule_id)
    ).first()
    if row is None:
        raise LookupError(f"no alert rule {rule_id} in this organization (see `alerts list`)")
    return AlertRule.model_validate(row._mapping)


def save_rule(
    engine: Engine,
    account: Account,
    spec: RuleSpec,
    *,
    rule_id: int | None = None,
    new_channels: Sequence[ChannelSpec] = (),
) -> int:
    """Create (``rule_id`` None) or replace a rule; return its id. Nothing is saved on error.

    ``new_channels`` are created (or found) in the same transaction and attached.
    """
    with engine.begin() as conn:
        org = org_id(conn, spec.org)
        if new_channels:
            added = tuple(ensure_channel(conn, account, org, channel) for channel in new_channels)
            spec = replace(spec, channels=tuple(dict.fromkeys(spec.channels + added)))
        spec = check_spec(conn, spec)
        check_teams(account, spec.org, spec.teams, "alert rule")
        _check_unique_name(conn, org, spec.name, rule_id)
        at = now_us()
        if rule_id is None:
            before = None
            values = {**_row_values(spec), "created_by": account.username, "created_us": at}
            rule_id = conn.execute(
                AlertRule.__table__.insert().values(
                    org_id=org, updated_by=account.username, updated_us=at, **values
                )
            ).inserted_primary_key[0]
        else:
            before = _visible(conn, account, spec.org, org, rule_id)
            conn.execute(
                update(AlertRule)
                .where(AlertRule.id == rule_id)
                .values(**_row_values(spec), updated_by=account.username, updated_us=at)
            )
            if _condition_changed(before, spec):
                # A new condition starts from a clean slate: old states were for the old one.
                conn.execute(delete(AlertState).where(AlertState.rule_id == rule_id))
        action = "alert.rule.create" if before is None else "alert.rule.update"
        record_audit(
            conn,
            org,
            action,
            actor=account.username,
            target=f"rule {rule_id}: {spec.name}",
            details={"before": _audit_values(before), "after": _audit_values(spec)},
        )
    return int(rule_id)


def _condition_changed(before: RuleSpec, after: RuleSpec) -> bool:
    keep = ("name", "channels", "enabled", "muted_until_us")
    strip = {name: None for name in keep}
    return replace(before, **strip) != replace(after, **strip)


def _check_unique_name(conn: Connection, org: int, name: str, rule_id: int | None) -> None:
    found = conn.execute(
        select(AlertRule.id).where(AlertRule.org_id == org, AlertRule.name == name)
    ).scalar()
    if found is not None and found != rule_id:
        raise RuleError(f"name: a rule called {name!r} already exists (rule {found})")


def _visible(conn: Connection, account: Account, org_slug: str, org: int, rule_id: int) -> RuleSpec:
    spec = spec_of(_load(conn, org, rule_id), org_slug)
    if not may_see_teams(account, org_slug, spec.teams):
        # Said like a missing rule: a manager learns nothing about other teams' rules.
        raise LookupError(f"no alert rule {rule_id} in this organization (see `alerts list`)")
    return spec


def delete_rule(engine: Engine, account: Account, org_slug: str, rule_id: int) -> None:
    """Remove a rule and its states (its history stays, under its name)."""
    with engine.begin() as conn:
        org = org_id(conn, org_slug)
        before = _visible(conn, account, org_slug, org, rule_id)
        check_teams(account, org_slug, before.teams, "alert rule")
        conn.execute(delete(AlertState).where(AlertState.rule_id == rule_id))
        conn.execute(delete(AlertRule).where(AlertRule.id == rule_id))
        record_audit(
            conn,
            org,
            "alert.rule.delete",
            actor=account.username,
            target=f"rule {rule_id}: {before.name}",
            details={"before": _audit_values(before), "after": None},
        )


def set_rule_switches(
    engine: Engine,
    account: Account,
    org_slug: str,
    rule_id: int,
    *,
    enabled: bool | None = None,
    muted_until_us: int | bool | None = False,
) -> None:
    """Turn a rule on or off, or mute it until a time (``None`` unmutes; ``False`` = unchanged)."""
    with engine.connect() as conn:
        before = _visible(conn, account, org_slug, org_id(conn, org_slug), rule_id)
    after = before
    if enabled is not None:
        after = replace(after, enabled=enabled)
    if muted_until_us is not False:
        after = replace(after, muted_until_us=muted_until_us)
    save_rule(engine, account, after, rule_id=rule_id)


@dataclass(frozen=True)
class StoredRule:
    """A rule as listed: its id, what it says, and how its last evaluation went."""

    id: int
    spec: RuleSpec
    last_evaluated_us: int | None
    last_error: str


def list_rules(engine: Engine, account: Account, org_slug: str) -> list[StoredRule]:
    """The organization's rules the account may see, by name."""
    with engine.connect() as conn:
        org = org_id(conn, org_slug)
        rows = conn.execute(
            select(AlertRule).where(AlertRule.org_id == org).order_by(AlertRule.name)
        ).all()
    found = []
    for row in rows:
        rule = AlertRule.model_validate(row._mapping)
        spec = spec_of(rule, org_slug)
        if may_see_teams(account, org_slug, spec.teams):
            found.append(StoredRule(rule.id, spec, rule.last_evaluated_us, rule.last_error))
    return found


def get_rule(engine: Engine, account: Account, org_slug: str, rule_id: int) -> StoredRule:
    """One rule the account may see; ``LookupError`` otherwise (also for other teams' rules)."""
    for rule in list_rules(engine, account, org_slug):
        if rule.id == rule_id:
            return rule
    raise LookupError(f"no alert rule {rule_id} in {org_slug} (see `alerts list`)")


__all__ = [
    "AccessDenied",
    "RuleError",
    "RuleSpec",
    "StoredRule",
    "check_spec",
    "delete_rule",
    "get_rule",
    "list_rules",
    "number",
    "save_rule",
    "set_rule_switches",
    "spec_of",
]
