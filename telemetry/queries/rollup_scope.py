"""Which rows of any daily rollup a query reads, and whether a grouping can use them.

The rules of :mod:`telemetry.queries.daily` for every rollup table of
:mod:`telemetry.rollups` (they all carry ``org_id``, ``day``, ``team_id`` and
``environment``): rows of the organization, the period's days, the selected teams
and environments.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_

from telemetry.filters import Grouping
from telemetry.queries.daily import team_and_environment
from telemetry.queries.scope import Scope


def rollup_where(scope: Scope, table) -> ColumnElement[bool]:
    """The rows of rollup ``table`` (a model class) that belong to ``scope``."""
    return and_(
        table.org_id == scope.org_id,
        table.day >= scope.start_day,
        table.day <= scope.end_day,
        *team_and_environment(scope, table.team_id, table.environment),
    )


def daily_grouping(scope: Scope) -> bool:
    """True when the scope's timeline buckets are whole days (day, week, month)."""
    return scope.filters.grouping != Grouping.HOUR
