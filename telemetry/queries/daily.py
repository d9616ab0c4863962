"""Which daily rollup rows a query reads (:mod:`telemetry.rollups`), and their time buckets.

The same rules as :mod:`telemetry.queries.scope`, on the rollup tables:
``trace_daily`` rows by the trace's start day, team and environment;
``llm_daily`` rows (LLM calls only) by the call's own start day, team and
environment. A rollup row holds whole days, so any grouping but the hour can be
read from it.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, case, false, func

from telemetry.filters import Filters, Grouping
from telemetry.models import LlmDaily, TraceDaily
from telemetry.queries.buckets import integer
from telemetry.queries.scope import Scope, month_of_day, team_conditions


def team_and_environment(scope: Scope, team_column, environment_column) -> list[ColumnElement]:
    """The scope's team and environment conditions on those columns ([] = no filter)."""
    conditions = team_conditions(scope, team_column)
    if scope.environments is not None:
        conditions.append(
            environment_column.in_(scope.environments) if scope.environments else false()
        )
    return conditions


def _in_scope(scope: Scope, table) -> ColumnElement[bool]:
    return and_(
        table.org_id == scope.org_id,
        table.day >= scope.start_day,
        table.day <= scope.end_day,
        *team_and_environment(scope, table.team_id, table.environment),
    )


def trace_daily_where(scope: Scope) -> ColumnElement[bool]:
    """``trace_daily`` rows of the scope (the rollup of :func:`~.scope.trace_where`)."""
    return _in_scope(scope, TraceDaily)


def llm_daily_where(scope: Scope) -> ColumnElement[bool]:
    """``llm_daily`` rows of the scope (the rollup of :func:`~.scope.llm_call_where`)."""
    return _in_scope(scope, LlmDaily)


def day_bucket(day_column, grouping: Grouping, period: Filters) -> ColumnElement[int]:
    """The bucket number of a day column for ``grouping`` (day, ISO week, month).

    Same numbers as :func:`~.scope.trace_bucket`; ``period`` is the period queried
    (months are told apart by comparing days with the month starts it crosses).
    Raises ``ValueError`` for hours, which days cannot give.
    """
    if grouping == Grouping.HOUR:
        raise ValueError("daily rollups cannot be grouped by hour; read the base table")
    if grouping == Grouping.WEEK:
        return (day_column + integer(3)) // integer(7)
    if grouping == Grouping.MONTH:
        return month_of_day(day_column, period)
    return day_column


def total(column) -> ColumnElement:
    """``SUM(column)``, 0 over no rows (a count or integer sum stays an integer)."""
    return func.coalesce(func.sum(column), 0)


def total_cost(column) -> ColumnElement[float]:
    """``SUM(column)`` of a float column, 0.0 over no rows."""
    return func.coalesce(func.sum(column), 0.0)


def total_if(condition: ColumnElement[bool], column) -> ColumnElement:
    """``SUM(column)`` over the rows meeting ``condition``, 0 when none does."""
    return func.coalesce(func.sum(case((condition, column), else_=0)), 0)
