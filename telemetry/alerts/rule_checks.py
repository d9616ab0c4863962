"""Checks of a rule before it is saved: numbers, thresholds, window, metric, scope, channels.

Each refusal is a :class:`~telemetry.alerts.rules.RuleError` naming the field and
what to write instead; nothing is saved when one is raised.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from telemetry.alerts import lookups
from telemetry.alerts.errors import RuleError
from telemetry.alerts.metrics import FORECAST, RATIO, check_metric
from telemetry.alerts.state import ABOVE, BELOW, NO_DATA_CHOICES
from telemetry.alerts.tables import AlertChannel
from telemetry.alerts.windows import MONTH_TO_DATE, check_window
from telemetry.store import org_id

if TYPE_CHECKING:
    from telemetry.alerts.rules import RuleSpec

GROUPS = ("", "team", "agent", "model")
NAME_LIMIT = 200


def number(text: Any, what: str) -> float:
    """``text`` as a finite number, or a :class:`RuleError` naming the field."""
    raw = str(text).strip()
    try:
        value = float(raw.removesuffix("%").strip())
    except ValueError:
        raise RuleError(f"{what} {text!r} is not a number") from None
    if raw.endswith("%"):
        value /= 100
    if not math.isfinite(value):
        raise RuleError(f"{what} {text!r} is not a finite number")
    return value


def check_spec(conn: Connection, spec: RuleSpec) -> RuleSpec:
    """The spec, normalized, or a :class:`RuleError` saying the first thing wrong."""
    name = spec.name.strip()
    if not name or len(name) > NAME_LIMIT:
        raise RuleError(f"name: give a name of 1 to {NAME_LIMIT} characters")
    metric = check_metric(spec.metric)
    window = check_window(spec.window)
    if metric.key == FORECAST and window != MONTH_TO_DATE:
        raise RuleError("forecast_cost_usd is a month-end forecast: use the window mtd")
    if spec.direction not in (ABOVE, BELOW):
        raise RuleError(f"condition {spec.direction!r}: use above or below")
    _check_thresholds(spec, metric.unit)
    if spec.group_by not in GROUPS:
        raise RuleError(f"group by {spec.group_by!r}: use team, agent or model (or nothing)")
    if spec.group_by in ("agent", "model") and getattr(spec, spec.group_by):
        raise RuleError(f"a rule grouped by {spec.group_by} cannot also name one {spec.group_by}")
    if not metric.model_scope and (spec.model or spec.group_by == "model"):
        raise RuleError(f"{metric.key} is a figure of runs; LLM calls of a model have no timeout")
    if spec.min_runs < 0 or spec.pending_s < 0:
        raise RuleError("minimum runs and pending period cannot be negative")
    if not 0 <= spec.recovery_margin < 1:
        raise RuleError("recovery margin: a fraction of the threshold, 0 to below 1 (0.1 = 10%)")
    if spec.no_data not in NO_DATA_CHOICES:
        raise RuleError(f"no data {spec.no_data!r}: use one of {', '.join(NO_DATA_CHOICES)}")
    org = org_id(conn, spec.org)
    lookups.check_scope(conn, org, spec.teams, spec.agent, spec.model, spec.user)
    _check_channels(conn, org, spec.channels)
    return replace(spec, name=name, metric=metric.key, window=window)


def _check_thresholds(spec: RuleSpec, unit: str) -> None:
    limits = [spec.threshold] + ([spec.warn_threshold] if spec.warn_threshold is not None else [])
    if unit == RATIO and any(not 0 <= limit <= 1 for limit in limits):
        raise RuleError("rates are fractions from 0 to 1: write 0.05 (or 5%) for 5 percent")
    warn = spec.warn_threshold
    if warn is None:
        return
    if spec.direction == ABOVE and warn >= spec.threshold:
        raise RuleError(
            f"the warning threshold ({warn:g}) is not below the alert threshold "
            f"({spec.threshold:g}): a warning must come before the alert"
        )
    if spec.direction == BELOW and warn <= spec.threshold:
        raise RuleError(
            f"the warning threshold ({warn:g}) is not above the alert threshold "
            f"({spec.threshold:g}): for a 'below' rule the warning comes first, at a higher value"
        )


def _check_channels(conn: Connection, org: int, channels: tuple[int, ...]) -> None:
    if not channels:
        return
    found = set(
        conn.execute(
            select(AlertChannel.id).where(
                AlertChannel.org_id == org, AlertChannel.id.in_(list(channels))
            )
        ).scalars()
    )
    missing = sorted(set(channels) - found)
    if missing:
        raise RuleError(f"channel(s) {missing} do not exist in this organization")
