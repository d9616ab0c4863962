"""What each daily rollup table holds: its base rows' key columns and measures.

:mod:`telemetry.rollups` refreshes, rebuilds and checks the tables listed in
:data:`ROLLUPS` the same way; adding a rollup is adding an entry here (and its
table to :mod:`telemetry.models` and a migration).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, Table, case, func, or_, select

from telemetry.models import (
    LLM_CALL_KINDS,
    TOKEN_COLUMNS,
    CommandDaily,
    LlmDaily,
    Observation,
    ObservationKind,
    SessionDaily,
    SpanStatus,
    ToolDaily,
    Trace,
    TraceDaily,
    TraceHourly,
)

LLM_KINDS = [str(kind) for kind in LLM_CALL_KINDS]
_TOOL_KIND = str(ObservationKind.TOOL)
_OUTCOMES = ("clean", "revised", "regression")


def _sum(column) -> ColumnElement:
    return func.coalesce(func.sum(column), 0)


def _count_if(condition) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


@dataclass(frozen=True)
class Rollup:
    """One rollup table: its base rows' key columns and measures, matched by name."""

    table: Table
    keys: tuple[ColumnElement, ...]  # base columns, in rollup key order after org_id, day
    measures: tuple[tuple[str, ColumnElement], ...]
    day: ColumnElement[int]  # the base column holding the day
    org: ColumnElement[int]
    only: tuple[ColumnElement[bool], ...] = ()  # which base rows count at all

    @property
    def key_names(self) -> list[str]:
        return ["org_id", "day", *(column.name for column in self.keys)]

    @property
    def measure_names(self) -> list[str]:
        return [name for name, _ in self.measures]

    def aggregate(self, org_id: int, first: int | None, last: int | None) -> Select:
        """The rollup rows of ``org_id`` computed from the base table (days first..last)."""
        conditions = [self.org == org_id, *self.only]
        if first is not None:
            conditions += [self.day >= first, self.day <= last]
        return (
            select(self.org, self.day, *self.keys, *(value.label(n) for n, value in self.measures))
            .where(*conditions)
            .group_by(self.org, self.day, *self.keys)
        )


_TRACE_ROLLUP = Rollup(
    table=TraceDaily.__table__,
    keys=(
        Trace.team_id,
        Trace.environment,
        Trace.user_id,
        Trace.module,
        Trace.agent,
        Trace.status,
    ),
    measures=(
        ("traces", func.count()),
        ("traces_without_session", _count_if(Trace.session_id.is_(None))),
        ("timed_traces", func.count(Trace.end_us)),
        ("duration_us_sum", _sum(Trace.end_us - Trace.start_us)),
        ("generations", _sum(Trace.generations)),
        ("tool_calls", _sum(Trace.tool_calls)),
        ("tool_errors", _sum(Trace.tool_errors)),
        *((name, _sum(getattr(Trace, name))) for name in TOKEN_COLUMNS),
        ("cost_usd", func.coalesce(func.sum(Trace.cost_usd), 0.0)),
        (
            "traces_with_code",
            _count_if(
                or_(Trace.code_lines_added.is_not(None), Trace.code_lines_removed.is_not(None))
            ),
        ),
        ("code_lines_added", _sum(Trace.code_lines_added)),
        ("code_lines_removed", _sum(Trace.code_lines_removed)),
        ("traces_with_outcome", _count_if(Trace.task_outcome != "")),
        *((f"outcome_{name}", _count_if(Trace.task_outcome == name)) for name in _OUTCOMES),
    ),
    day=Trace.start_day,
    org=Trace.org_id,
)

_LLM_ROLLUP = Rollup(
    table=LlmDaily.__table__,
    keys=(
        Observation.team_id,
        Observation.environment,
        Observation.user_id,
        Observation.module,
        Observation.agent,
        Observation.kind,
        Observation.provider,
        Observation.model,
        Observation.cost_source,
    ),
    measures=(
        ("calls", func.count()),
        ("errors", _count_if(Observation.status == str(SpanStatus.ERROR))),
        ("timed_calls", func.count(Observation.end_us)),
        ("duration_us_sum", _sum(Observation.end_us - Observation.start_us)),
        *((name, _sum(getattr(Observation, name))) for name in TOKEN_COLUMNS),
        ("cost_usd", func.coalesce(func.sum(Observation.cost_usd), 0.0)),
        (
            "timed_output_tokens",
            _sum(case((Observation.end_us.is_not(None), Observation.output_tokens), else_=0)),
        ),
    ),
    day=Observation.start_day,
    org=Observation.org_id,
    only=(Observation.kind.in_(LLM_KINDS),),
)

_TOOL_ROLLUP = Rollup(
    table=ToolDaily.__table__,
    keys=(
        Observation.team_id,
        Observation.environment,
        Observation.user_id,
        Observation.agent,
        Observation.tool_type,
        Observation.tool_name,
    ),
    measures=(
        ("calls", func.count()),
        ("errors", _count_if(Observation.status == str(SpanStatus.ERROR))),
        ("timed_calls", func.count(Observation.end_us)),
        ("duration_us_sum", _sum(Observation.end_us - Observation.start_us)),
    ),
    day=Observation.start_day,
    org=Observation.org_id,
    only=(Observation.kind == _TOOL_KIND,),
)

_COMMAND_ROLLUP = Rollup(
    table=CommandDaily.__table__,
    keys=(Trace.team_id, Trace.environment, Trace.name, Trace.status),
    measures=(
        ("traces", func.count()),
        ("timed_traces", func.count(Trace.end_us)),
        ("duration_us_sum", _sum(Trace.end_us - Trace.start_us)),
    ),
    day=Trace.start_day,
    org=Trace.org_id,
)

_SESSION_ROLLUP = Rollup(
    table=SessionDaily.__table__,
    keys=(Trace.team_id, Trace.environment, Trace.agent, Trace.session_id),
    measures=(
        ("traces", func.count()),
        ("first_start_us", func.min(Trace.start_us)),
        ("last_end_us", func.max(Trace.end_us)),  # NULL while every trace still runs
    ),
    day=Trace.start_day,
    org=Trace.org_id,
    only=(Trace.session_id.is_not(None),),
)

_HOURLY_ROLLUP = Rollup(
    table=TraceHourly.__table__,
    keys=(Trace.start_hour, Trace.team_id, Trace.environment),
    measures=(
        ("traces", func.count()),
        ("input_tokens", _sum(Trace.input_tokens)),
        ("output_tokens", _sum(Trace.output_tokens)),
    ),
    day=Trace.start_day,
    org=Trace.org_id,
)

ROLLUPS = (
    _TRACE_ROLLUP,
    _LLM_ROLLUP,
    _TOOL_ROLLUP,
    _COMMAND_ROLLUP,
    _SESSION_ROLLUP,
    _HOURLY_ROLLUP,
)
