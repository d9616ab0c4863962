"""One evaluation pass: every enabled rule (and budget) as of a time, changes stored and sent.

Run by the server's background job once a minute (:data:`ALERTS_JOB`, one
replica per tick) and by ``python -m telemetry alerts run-once`` for cron. Each
rule is measured through :mod:`telemetry.alerts.metrics`, moved by
:mod:`telemetry.alerts.state`, and its new states, history events and
deliveries are written in one transaction. A rule that cannot be evaluated is
marked with its error and the others still run.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from sqlalchemy import Engine, delete, select, update

from telemetry.alerts.budget_notices import check_budgets
from telemetry.alerts.delivery import DeliveryStats, deliver_due, record_event
from telemetry.alerts.links import rule_traces_url
from telemetry.alerts.messages import describe_change
from telemetry.alerts.metrics import measure
from telemetry.alerts.rules import RuleSpec, spec_of
from telemetry.alerts.state import Change, Record, step
from telemetry.alerts.tables import AlertRule, AlertState
from telemetry.alerts.windows import EVALUATION_INTERVAL_S, window_filters, window_start_us
from telemetry.jobs import Job
from telemetry.models import Organization
from telemetry.queries.dimensions import agents_in, models_in, org_values
from telemetry.queries.scope import resolve_scope
from telemetry.settings import public_url
from telemetry.timeutil import US_PER_HOUR, US_PER_SECOND, now_us

logger = logging.getLogger(__name__)
RECENT_US = 24 * US_PER_HOUR
RECENT_STEP_US = 15 * 60 * US_PER_SECOND


@dataclass
class PassResult:
    """What one pass did."""

    rules: int = 0
    changes: int = 0
    broken: list[tuple[int, str]] = field(default_factory=list)
    budget_notices: int = 0
    deliveries: DeliveryStats = field(default_factory=DeliveryStats)


def evaluate_all(engine: Engine, at_us: int, *, deliver: bool = True) -> PassResult:
    """Evaluate every enabled rule and budget as of ``at_us``; then send what is due."""
    result = PassResult()
    with engine.connect() as conn:
        rows = conn.execute(
            select(AlertRule, Organization.slug)
            .join(Organization, Organization.id == AlertRule.org_id)
            .where(AlertRule.enabled.is_(True))
            .order_by(AlertRule.id)
        ).all()
    base = public_url(engine)
    for row in rows:
        rule = AlertRule.model_validate(row._mapping)
        result.rules += 1
        try:
            result.changes += evaluate_rule(engine, rule, spec_of(rule, row.slug), at_us, base)
        except Exception as error:  # one broken rule must not stop the others
            message = f"{type(error).__name__}: {error}".splitlines()[0][:500]
            logger.warning(
                "alert rule %s (%s) cannot be evaluated: %s", rule.id, rule.name, message
            )
            result.broken.append((rule.id, message))
            with engine.begin() as conn:
                conn.execute(
                    update(AlertRule)
                    .where(AlertRule.id == rule.id)
                    .values(last_error=message, last_evaluated_us=at_us)
                )
    result.budget_notices = check_budgets(engine, at_us, base)
    if deliver:
        result.deliveries = deliver_due(engine)
    return result


def groups_of(engine: Engine, spec: RuleSpec, at_us: int) -> list[str]:
    """The teams, agents or models a grouped rule watches in its window (``[""]`` if ungrouped)."""
    if not spec.group_by:
        return [""]
    with engine.connect() as conn:
        if spec.group_by == "team":
            if spec.teams is not None:
                return list(spec.teams)
            scope = resolve_scope(conn, window_filters(spec.org, None, None, spec.window, at_us))
            return org_values(conn, scope.org_id, "team")
        filters = window_filters(spec.org, spec.teams, spec.environments, spec.window, at_us)
        scope = resolve_scope(conn, filters, spec.target().subject)
        return agents_in(conn, scope) if spec.group_by == "agent" else models_in(conn, scope)


def evaluate_rule(engine: Engine, rule: AlertRule, spec: RuleSpec, at_us: int, base: str) -> int:
    """Evaluate one rule (every group of it); store and queue its changes; return how many."""
    with engine.connect() as conn:
        stored = {
            state.group_key: state
            for state in (
                AlertState.model_validate(row._mapping)
                for row in conn.execute(select(AlertState).where(AlertState.rule_id == rule.id))
            )
        }
    muted = spec.muted_until_us is not None and spec.muted_until_us > at_us
    records: dict[str, tuple[Record, AlertState]] = {}
    changes: list[tuple[str, Change, float | None]] = []
    for group in sorted(set(groups_of(engine, spec, at_us)) | set(stored)):
        found = measure(
            engine, spec.target(group), spec.metric, spec.window, at_us, need_runs=spec.min_runs > 0
        )
        before = stored.get(group)
        record, change = step(
            spec.condition, _record(before), found.value, found.runs, at_us, muted=muted
        )
        recent = _recent(before, found.value, at_us)
        records[group] = (record, _state_row(rule.id, group, record, found, at_us, recent))
        if change is not None:
            changes.append((group, change, found.value))
    with engine.begin() as conn:
        conn.execute(delete(AlertState).where(AlertState.rule_id == rule.id))
        for _, row in records.values():
            conn.execute(AlertState.__table__.insert().values(**row.model_dump()))
        for group, change, value in changes:
            _store_change(conn, rule, spec, group, change, value, at_us, base)
        conn.execute(
            update(AlertRule)
            .where(AlertRule.id == rule.id)
            .values(last_error="", last_evaluated_us=at_us)
        )
    return len(changes)


def _record(row: AlertState | None) -> Record | None:
    if row is None:
        return None
    return Record(
        state=row.state,
        since_us=row.since_us,
        problem_since_us=row.problem_since_us,
        pending_state=row.pending_state,
        pending_since_us=row.pending_since_us,
    )


def _recent(before: AlertState | None, value: float | None, at_us: int) -> str:
    """The sparkline's points: one value per 15 minutes over the last 24 hours."""
    points = json.loads(before.recent or "[]") if before is not None else []
    points = [point for point in points if point[0] > at_us - RECENT_US]
    if not points or at_us - points[-1][0] >= RECENT_STEP_US:
        points.append([at_us, value])
    return json.dumps(points)


def _state_row(
    rule_id: int, group: str, record: Record, found, at_us: int, recent: str
) -> AlertState:
    return AlertState(
        rule_id=rule_id,
        group_key=group,
        state=record.state,
        since_us=record.since_us,
        problem_since_us=record.problem_since_us,
        pending_state=record.pending_state,
        pending_since_us=record.pending_since_us,
        value=found.value,
        runs=found.runs,
        evaluated_us=at_us,
        recent=recent,
    )


def _store_change(conn, rule, spec, group, change: Change, value, at_us: int, base: str) -> None:
    start = window_start_us(spec.window, at_us)
    target = spec.target(group)
    message = describe_change(
        spec.name,
        group,
        change.state,
        change.previous,
        spec.metric,
        value,
        change.threshold,
        spec.window,
        at_us,
        change.problem_since_us,
    )
    record_event(
        conn,
        {
            "org_id": rule.org_id,
            "rule_id": rule.id,
            "name": spec.name,
            "group_key": group,
            "state": change.state,
            "previous_state": change.previous,
            "metric": spec.metric,
            "value": value,
            "threshold": change.threshold,
            "window_name": spec.window,
            "scope": spec.describe_scope() | ({"group": group} if group else {}),
            "at_us": at_us,
            "problem_since_us": change.problem_since_us,
            "message": message,
            "url": rule_traces_url(base, target, spec.metric, start, at_us),
        },
        list(spec.channels) if change.notify else [],
    )


def run_pass(engine: Engine, tick_us: int) -> None:
    """The background job's work for one tick."""
    result = evaluate_all(engine, tick_us)
    if result.broken:
        logger.info(
            "alerts: %s of %s rules could not be evaluated", len(result.broken), result.rules
        )


ALERTS_JOB = Job("alerts", EVALUATION_INTERVAL_S, run_pass)


def evaluate_now(engine: Engine) -> PassResult:
    """One pass as of now, outside the job runner (tests and tools)."""
    return evaluate_all(engine, now_us())
