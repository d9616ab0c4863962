"""Reading the daily rollups (:mod:`telemetry.rollups`): their time buckets and sums.

Which rollup rows a query reads for a scope (the stored table, or a derived one
for a period with partial days) is decided in :mod:`telemetry.queries.rollup_scope`:
``trace_daily`` rows by the trace's start day, team and environment;
``llm_daily`` rows (LLM calls only) by the call's own start day, team and
environment. A rollup row holds whole days, so any grouping finer than a day
reads the base tables instead.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Float, case, cast, func

from telemetry.filters import Filters, Grouping
from telemetry.queries.buckets import integer
from telemetry.queries.scope import month_of_day, team_and_environment

__all__ = ["day_bucket", "team_and_environment", "total", "total_cost", "total_if"]


def day_bucket(day_column, grouping: Grouping, period: Filters) -> ColumnElement[int]:
    """The bucket number of a day column for ``grouping`` (day, ISO week, month).

    Same numbers as :func:`~.scope.trace_bucket`; ``period`` is the period queried
    (months are told apart by comparing days with the month starts it crosses).
    Raises ``ValueError`` for hours and 5 minutes, which days cannot give.
    """
    if grouping in (Grouping.HOUR, Grouping.FIVE_MINUTES):
        raise ValueError(f"daily rollups cannot be grouped by {grouping}; read the base table")
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


def total_duration(column) -> ColumnElement[float]:
    """``SUM(column)`` of microsecond duration sums, as a float: a BIGINT sum of a billion
    week-long spans would overflow (exact below 2^53 us, 285 years; see models)."""
    return func.coalesce(func.sum(cast(column, Float)), 0.0)


def total_if(condition: ColumnElement[bool], column) -> ColumnElement:
    """``SUM(column)`` over the rows meeting ``condition``, 0 when none does."""
    return func.coalesce(func.sum(case((condition, column), else_=0)), 0)
