"""Which rows of a daily rollup a query reads, for any period, and which groupings they serve.

A rollup row holds one whole UTC day (:mod:`telemetry.rollups`). For a period of
whole days a query reads the stored table itself. For a period with partial days
(a window such as the last hour, or "today so far") it reads, in place of the
table, a derived table with the same columns: the stored rows of the days wholly
inside the period UNION ALL the same aggregate (:meth:`Rollup.aggregate`)
computed from the base rows that start inside the period on its partial edge
days. So every query over rollups stays one definition and is exact for any
period; whole-day periods pay nothing for it.

Rows are those of the organization, the period, the selected teams and
environments (the rules of :mod:`telemetry.queries.scope`): every rollup table
carries ``org_id``, ``day``, ``team_id`` and ``environment``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, and_, select, union_all

from telemetry.filters import SUB_DAY_GROUPINGS
from telemetry.queries.scope import Scope, subject_conditions, team_and_environment
from telemetry.rollup_tables import ROLLUPS, Rollup
from telemetry.timeutil import US_PER_DAY, day_of_us

_ROLLUP_OF = {rollup.table.name: rollup for rollup in ROLLUPS}


class PartialDays:
    """A derived rollup table for a period with partial days, read like the model class.

    ``rows.traces``, ``rows.day``... are the derived table's columns, named as the
    rollup table's.
    """

    def __init__(self, table_name: str, derived: Subquery) -> None:
        self._table_name = table_name
        self._derived = derived
        names = [*_ROLLUP_OF[table_name].key_names, *_ROLLUP_OF[table_name].measure_names]
        # Matched by position: a UNION takes its column names from its first SELECT.
        self._columns = dict(zip(names, derived.c, strict=True))

    def __clause_element__(self) -> Subquery:
        """The derived table itself, for ``select_from`` and joins (as the model class is)."""
        return self._derived

    def __getattr__(self, name: str) -> ColumnElement:
        try:
            return self._columns[name]
        except KeyError:
            raise AttributeError(f"rollup {self._table_name} has no column {name!r}") from None


def rollup_rows(scope: Scope, model: Any) -> Any:
    """The rows of rollup ``model`` (a model class, e.g. ``TraceDaily``) to read for ``scope``.

    ``model`` itself for a period of whole days; else a :class:`PartialDays`
    with the same columns. Restrict either with :func:`rollup_where`.
    """
    if scope.whole_days:
        return model
    rollup = _ROLLUP_OF[model.__tablename__]
    parts = _whole_day_rows(scope, rollup) + _edge_rows(scope, rollup)
    derived = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery(
        f"{rollup.table.name}_partial"
    )
    return PartialDays(rollup.table.name, derived)


def _whole_days(scope: Scope) -> tuple[int, int]:
    """First and last day wholly inside the period (first > last when there is none)."""
    return -(-scope.start_us // US_PER_DAY), scope.end_us // US_PER_DAY - 1


def _whole_day_rows(scope: Scope, rollup: Rollup) -> list[Select]:
    first, last = _whole_days(scope)
    if first > last:
        return []
    table = rollup.table
    columns = [table.c[name] for name in (*rollup.key_names, *rollup.measure_names)]
    stored = table.c.org_id == scope.org_id, table.c.day >= first, table.c.day <= last
    scoped = team_and_environment(scope, table.c.team_id, table.c.environment)
    return [select(*columns).where(*stored, *scoped)]


def _edge_rows(scope: Scope, rollup: Rollup) -> list[Select]:
    """The rollup aggregate of the base rows started in the period's partial days."""
    first, last = _whole_days(scope)
    if first > last:
        edges = [(scope.start_us, scope.end_us)]
    else:
        edges = [(scope.start_us, first * US_PER_DAY), ((last + 1) * US_PER_DAY, scope.end_us)]
    base = rollup.org.class_  # Trace or Observation
    parts = []
    for low, high in edges:
        if low >= high:
            continue
        aggregate = rollup.aggregate(scope.org_id, day_of_us(low), day_of_us(high - 1))
        parts.append(
            aggregate.where(
                base.start_us >= low,
                base.start_us < high,
                *team_and_environment(scope, base.team_id, base.environment),
            )
        )
    return parts


def rollup_where(scope: Scope, rows: Any) -> ColumnElement[bool]:
    """The rows of ``rows`` (a rollup model or :func:`rollup_rows`' result) in ``scope``."""
    return and_(
        rows.org_id == scope.org_id,
        rows.day >= scope.start_day,
        rows.day <= scope.end_day,
        *team_and_environment(scope, rows.team_id, rows.environment),
        *subject_conditions(scope, rows),
    )


def daily_grouping(scope: Scope) -> bool:
    """True when the scope's timeline buckets are whole days (day, week, month)."""
    return scope.filters.grouping not in SUB_DAY_GROUPINGS
