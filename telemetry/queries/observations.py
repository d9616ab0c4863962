"""Which observations an Analytics query reads: tool calls of the scope, buckets and durations.

Same rules as :func:`~telemetry.queries.scope.llm_call_where`: an observation
belongs to the period of its own start and matches the team and environment
filters by its own ``team_id`` and ``environment``.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, false, select

from telemetry.filters import Grouping
from telemetry.models import Observation, ObservationKind, Trace
from telemetry.queries.buckets import integer
from telemetry.queries.scope import (
    Scope,
    in_period,
    llm_call_where,
    subject_conditions,
    team_conditions,
)
from telemetry.timeutil import US_PER_FIVE_MINUTES


def observation_where(scope: Scope, kinds: tuple[str, ...]) -> ColumnElement[bool]:
    """Observations of ``kinds`` started in the period, selected teams and environments."""
    conditions = [
        Observation.org_id == scope.org_id,
        *in_period(scope, Observation.start_day, Observation.start_us),
        Observation.kind.in_([str(kind) for kind in kinds]),
        *team_conditions(scope, Observation.team_id),
        *subject_conditions(scope, Observation),
    ]
    if scope.environments is not None:
        conditions.append(
            Observation.environment.in_(scope.environments) if scope.environments else false()
        )
    return and_(*conditions)


def tool_call_where(scope: Scope) -> ColumnElement[bool]:
    """Tool calls (``kind = tool``) of the scope."""
    return observation_where(scope, (ObservationKind.TOOL,))


def observation_bucket(grouping: Grouping) -> ColumnElement[int]:
    """The integer bucket of an observation's own start (as ``trace_bucket`` for traces)."""
    if grouping == Grouping.FIVE_MINUTES:
        return Observation.start_us // integer(US_PER_FIVE_MINUTES)
    if grouping == Grouping.HOUR:
        return Observation.start_hour
    if grouping == Grouping.WEEK:
        return (Observation.start_day + integer(3)) // integer(7)
    if grouping == Grouping.MONTH:
        return Observation.start_month
    return Observation.start_day


def trace_duration_us() -> ColumnElement[int]:
    """A trace's duration in whole microseconds (NULL while running): exact on every backend."""
    return Trace.end_us - Trace.start_us


def observation_duration_us() -> ColumnElement[int]:
    """An observation's duration in whole microseconds (NULL when it has not ended)."""
    return Observation.end_us - Observation.start_us


def llm_call_durations(scope: Scope) -> Select:
    """(provider, model, duration in microseconds) of each LLM call of the scope.

    For latency percentiles, which need every value: the WHERE clause is the one
    the partial LLM-call index was built for (:func:`~.scope.llm_call_where`).
    """
    return select(
        Observation.provider.label("provider"),
        Observation.model.label("model"),
        observation_duration_us().label("us"),
    ).where(llm_call_where(scope))
