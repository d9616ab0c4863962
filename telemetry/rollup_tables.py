"""What each daily rollup table holds: its base rows' key columns and measures.

Each measure is written twice, side by side: as the SQL aggregate over base rows
(what the rollup row *is*, and what :func:`telemetry.rollups.rollup_drift`
checks against) and as one base row's share of it (what an ingest batch adds or
takes back, see :mod:`telemetry.rollup_deltas`). Tests compare the two on random
rows. :mod:`telemetry.rollups` refreshes, rebuilds and checks the tables listed in
:data:`ROLLUPS` the same way; adding a rollup is adding an entry here (and its
table to :mod:`telemetry.models` and a migration creating its unique key index).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, Table, case, cast, func, or_, select

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
from telemetry.timeutil import US_PER_DAY

LLM_KINDS = [str(kind) for kind in LLM_CALL_KINDS]
_LLM_KIND_SET = frozenset(LLM_KINDS)
_TOOL_KIND = str(ObservationKind.TOOL)
_ERROR = str(SpanStatus.ERROR)
_OUTCOMES = ("clean", "revised", "regression")
# Observation kinds some rollup counts: other observations change no rollup.
ROLLED_UP_KINDS = frozenset((*LLM_KINDS, _TOOL_KIND))

Row = Mapping[str, Any]


def _sum(column) -> ColumnElement:
    return func.coalesce(func.sum(column), 0)


def _duration_sum(duration) -> ColumnElement[float]:
    """Durations (microseconds) summed as floats: bounded spans (7 days) of a billion calls
    would overflow a BIGINT sum. Exact below 2^53 us (285 years) per sum."""
    return func.coalesce(func.sum(cast(duration, Float)), 0.0)


_CALL_DURATION = Observation.end_us - Observation.start_us


def _count_if(condition) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _duration(row: Row) -> int:
    end = row["end_us"]
    return 0 if end is None else end - row["start_us"]


@dataclass(frozen=True)
class Measure:
    """One measure of a rollup row: the SQL aggregate, and one base row's share of it.

    ``combine`` says how shares add up: ``sum`` (counts and sums, which a write
    can also take back), or ``min`` / ``max`` (NULL shares are ignored, as SQL's
    MIN and MAX ignore NULLs).
    """

    name: str
    sql: ColumnElement
    share: Callable[[Row], Any]
    combine: str = "sum"


def _count() -> Measure:
    return Measure("", func.count(), lambda row: 1)


def _column_sum(name: str, column) -> Measure:
    return Measure(name, _sum(column), operator.itemgetter(name))


def _named(name: str, measure: Measure) -> Measure:
    return Measure(name, measure.sql, measure.share, measure.combine)


@dataclass(frozen=True, eq=False)  # identity: rollups are dictionary keys
class Rollup:
    """One rollup table: its base rows' key columns and measures, matched by name."""

    table: Table
    keys: tuple[ColumnElement, ...]  # base columns, in rollup key order after org_id, day
    measures: tuple[Measure, ...]  # the first one counts the base rows
    day: ColumnElement[int]  # the base column holding the day
    start: ColumnElement[int]  # the base column of the start time: day = start // US_PER_DAY
    org: ColumnElement[int]
    only: tuple[ColumnElement[bool], ...] = ()  # which base rows count at all
    accepts: Callable[[Row], bool] = field(default=lambda row: True)  # ``only`` for one row

    @property
    def key_names(self) -> list[str]:
        return ["org_id", "day", *(column.name for column in self.keys)]

    @property
    def measure_names(self) -> list[str]:
        return [measure.name for measure in self.measures]

    @property
    def base_table(self) -> str:
        """``trace`` or ``observation``: the table whose rows this rollup aggregates."""
        return self.org.table.name

    @cached_property
    def additive(self) -> bool:
        """Whether every measure is a sum, so that a base row's share can be taken back."""
        return all(measure.combine == "sum" for measure in self.measures)

    @cached_property
    def nullable_keys(self) -> frozenset[str]:
        """Key columns that may be NULL (teams and users): COALESCE(-1) in the unique index."""
        return frozenset(n for n in self.key_names if self.table.c[n].nullable)

    @cached_property
    def row_key(self) -> Callable[[Row], tuple]:
        """(day, *keys) of one base row."""
        return operator.itemgetter(self.day.name, *(column.name for column in self.keys))

    def shares(self, row: Row) -> list:
        """One base row's share of each measure, in ``measures`` order."""
        return [share(row) for share in self._share_functions]

    @cached_property
    def _share_functions(self) -> tuple[Callable[[Row], Any], ...]:
        return tuple(measure.share for measure in self.measures)

    def aggregate(self, org_id: int, first: int | None, last: int | None) -> Select:
        """The rollup rows of ``org_id`` computed from the base table (days first..last)."""
        conditions = [self.org == org_id, *self.only]
        if first is not None:
            conditions += [self.day >= first, self.day <= last]
        return self._grouped(conditions)

    def aggregate_key(self, org_id: int, key: tuple) -> Select:
        """The one rollup row of (day, *keys) ``key`` computed from the base table.

        The day is matched as a range of start times, so that an index leading with
        (organization, a key column, start) is used instead of one leading with the
        day, which would read every base row of a busy day.
        """
        day, *values = key
        conditions = [
            self.org == org_id,
            *self.only,
            self.start >= day * US_PER_DAY,
            self.start < (day + 1) * US_PER_DAY,
        ]
        for column, value in zip(self.keys, values, strict=True):
            conditions.append(column.is_(None) if value is None else column == value)
        return self._grouped(conditions)

    def _grouped(self, conditions: list) -> Select:
        return (
            select(self.org, self.day, *self.keys, *(m.sql.label(m.name) for m in self.measures))
            .where(*conditions)
            .group_by(self.org, self.day, *self.keys)
        )


def _is_llm_call(row: Row) -> bool:
    return row["kind"] in _LLM_KIND_SET


def _is_tool_call(row: Row) -> bool:
    return row["kind"] == _TOOL_KIND


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
        _named("traces", _count()),
        Measure(
            "traces_without_session",
            _count_if(Trace.session_id.is_(None)),
            lambda row: row["session_id"] is None,
        ),
        Measure("timed_traces", func.count(Trace.end_us), lambda row: row["end_us"] is not None),
        Measure("duration_us_sum", _duration_sum(Trace.end_us - Trace.start_us), _duration),
        _column_sum("generations", Trace.generations),
        _column_sum("tool_calls", Trace.tool_calls),
        _column_sum("tool_errors", Trace.tool_errors),
        *(_column_sum(name, getattr(Trace, name)) for name in TOKEN_COLUMNS),
        Measure(
            "cost_usd",
            func.coalesce(func.sum(Trace.cost_usd), 0.0),
            operator.itemgetter("cost_usd"),
        ),
        Measure(
            "traces_with_code",
            _count_if(
                or_(Trace.code_lines_added.is_not(None), Trace.code_lines_removed.is_not(None))
            ),
            lambda row: (
                row["code_lines_added"] is not None or row["code_lines_removed"] is not None
            ),
        ),
        Measure(
            "code_lines_added",
            _sum(Trace.code_lines_added),
            lambda row: row["code_lines_added"] or 0,
        ),
        Measure(
            "code_lines_removed",
            _sum(Trace.code_lines_removed),
            lambda row: row["code_lines_removed"] or 0,
        ),
        Measure(
            "traces_with_outcome",
            _count_if(Trace.task_outcome != ""),
            lambda row: row["task_outcome"] != "",
        ),
        *(
            Measure(
                f"outcome_{name}",
                _count_if(Trace.task_outcome == name),
                lambda row, name=name: row["task_outcome"] == name,
            )
            for name in _OUTCOMES
        ),
    ),
    day=Trace.start_day,
    start=Trace.start_us,
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
        _named("calls", _count()),
        Measure(
            "errors",
            _count_if(Observation.status == _ERROR),
            lambda row: row["status"] == _ERROR,
        ),
        Measure(
            "timed_calls", func.count(Observation.end_us), lambda row: row["end_us"] is not None
        ),
        Measure("duration_us_sum", _duration_sum(_CALL_DURATION), _duration),
        *(_column_sum(name, getattr(Observation, name)) for name in TOKEN_COLUMNS),
        Measure(
            "cost_usd",
            func.coalesce(func.sum(Observation.cost_usd), 0.0),
            operator.itemgetter("cost_usd"),
        ),
        Measure(
            "timed_output_tokens",
            _sum(case((Observation.end_us.is_not(None), Observation.output_tokens), else_=0)),
            lambda row: 0 if row["end_us"] is None else row["output_tokens"],
        ),
    ),
    day=Observation.start_day,
    start=Observation.start_us,
    org=Observation.org_id,
    only=(Observation.kind.in_(LLM_KINDS),),
    accepts=_is_llm_call,
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
        _named("calls", _count()),
        Measure(
            "errors",
            _count_if(Observation.status == _ERROR),
            lambda row: row["status"] == _ERROR,
        ),
        Measure(
            "timed_calls", func.count(Observation.end_us), lambda row: row["end_us"] is not None
        ),
        Measure("duration_us_sum", _duration_sum(_CALL_DURATION), _duration),
    ),
    day=Observation.start_day,
    start=Observation.start_us,
    org=Observation.org_id,
    only=(Observation.kind == _TOOL_KIND,),
    accepts=_is_tool_call,
)

_COMMAND_ROLLUP = Rollup(
    table=CommandDaily.__table__,
    keys=(Trace.team_id, Trace.environment, Trace.name, Trace.status),
    measures=(
        _named("traces", _count()),
        Measure("timed_traces", func.count(Trace.end_us), lambda row: row["end_us"] is not None),
        Measure("duration_us_sum", _duration_sum(Trace.end_us - Trace.start_us), _duration),
    ),
    day=Trace.start_day,
    start=Trace.start_us,
    org=Trace.org_id,
)

_SESSION_ROLLUP = Rollup(
    table=SessionDaily.__table__,
    keys=(Trace.team_id, Trace.environment, Trace.agent, Trace.session_id),
    measures=(
        _named("traces", _count()),
        Measure("first_start_us", func.min(Trace.start_us), operator.itemgetter("start_us"), "min"),
        # NULL while every trace still runs
        Measure("last_end_us", func.max(Trace.end_us), operator.itemgetter("end_us"), "max"),
    ),
    day=Trace.start_day,
    start=Trace.start_us,
    org=Trace.org_id,
    only=(Trace.session_id.is_not(None),),
    accepts=lambda row: row["session_id"] is not None,
)

_HOURLY_ROLLUP = Rollup(
    table=TraceHourly.__table__,
    keys=(Trace.start_hour, Trace.team_id, Trace.environment),
    measures=(
        _named("traces", _count()),
        _column_sum("input_tokens", Trace.input_tokens),
        _column_sum("output_tokens", Trace.output_tokens),
    ),
    day=Trace.start_day,
    start=Trace.start_us,
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
TRACE_ROLLUPS = tuple(rollup for rollup in ROLLUPS if rollup.base_table == "trace")
OBSERVATION_ROLLUPS = tuple(rollup for rollup in ROLLUPS if rollup.base_table == "observation")
