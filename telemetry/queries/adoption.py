"""Adoption (docs/metrics.md, "Adoption"): who uses the agents, who is new, which modules."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd
from sqlalchemy import Connection, Engine, and_, case, func, or_, select

from telemetry.filters import Filters
from telemetry.models import TraceDaily, User, UserStatus
from telemetry.queries.daily import total
from telemetry.queries.rollup_scope import rollup_rows, rollup_where
from telemetry.queries.scope import (
    Scope,
    count_if,
    ratio,
    resolve_scope,
    team_conditions,
)

NO_MODULE = "(no module)"


@dataclass(frozen=True)
class Adoption:
    """The adoption numbers of a period.

    - ``users_total``: users in the directory (``end_user``) of the selected teams
      (by the user's own team; every user when no team filter), status not
      ``removed``, that exist on the period's last day: created, or first seen
      in a trace, before its end. The environment filter does not apply: the
      directory has no environment.
    - ``users_active``: distinct users among the period's traces (team and
      environment filters on the trace). Trace-based, so it also counts a user
      whose traces are kept after they were removed or moved to another team.
    - ``users_new``: active users whose first trace ever (any environment, any
      team) falls in the period.
    - ``users_inactive``: users counted in ``users_total`` who have no trace in
      the period. Defined as ``users_total`` minus the active users *who are in
      users_total* (not minus ``users_active``), so it never goes negative when
      removed users or users of other teams have traces.
    - ``users_activated``: users of ``users_total`` whose first trace is before
      the end of the period; ``activation_rate`` = ``users_activated`` ÷
      ``users_total``, ``None`` when ``users_total`` is 0.
    - ``active_modules``: distinct non-empty modules (``service.name``) among
      the period's traces.
    """

    users_total: int
    users_active: int
    users_new: int
    users_inactive: int
    activation_rate: float | None
    active_modules: int
    users_activated: int = 0


def adoption(engine: Engine, filters: Filters) -> Adoption:
    """The :class:`Adoption` numbers for ``filters`` (see the class for definitions)."""
    with engine.connect() as conn:
        return adoption_in(conn, resolve_scope(conn, filters))


def adoption_in(conn: Connection, scope: Scope) -> Adoption:
    """:func:`adoption` on an open connection and a resolved scope."""
    # Module is a key of the daily trace rollup: distinct modules there are the traces'.
    rows = rollup_rows(scope, TraceDaily)
    modules = conn.execute(
        select(func.count(func.distinct(case((rows.module != "", rows.module), else_=None)))).where(
            rollup_where(scope, rows)
        )
    ).scalar_one()
    return replace(user_counts_in(conn, scope), active_modules=int(modules))


def user_counts_in(conn: Connection, scope: Scope) -> Adoption:
    """Every :class:`Adoption` number but ``active_modules`` (left 0): one query.

    The period's distinct active users (read from the daily trace rollup, where the
    user is a key) are joined once to the (small) directory: no correlated subquery
    per user. ``users_active`` is counted on that join, which is exact because
    every ``trace.user_id`` is a user of the trace's own organization.
    """
    rows = rollup_rows(scope, TraceDaily)
    active = (
        select(rows.user_id.label("user_id"))
        .where(rollup_where(scope, rows), rows.user_id.is_not(None))
        .distinct()
        .subquery("active")
    )
    is_active = active.c.user_id.is_not(None)
    exists_by_end = or_(User.created_us < scope.end_us, User.first_trace_us < scope.end_us)
    in_directory = and_(
        User.status != str(UserStatus.REMOVED),
        exists_by_end,
        *team_conditions(scope, User.team_id),
    )
    first_in_period = and_(
        User.first_trace_us >= scope.start_us, User.first_trace_us < scope.end_us
    )
    row = conn.execute(
        select(
            count_if(in_directory),
            count_if(is_active),
            count_if(and_(is_active, first_in_period)),
            count_if(and_(in_directory, is_active)),
            count_if(and_(in_directory, User.first_trace_us < scope.end_us)),
        )
        .select_from(User)
        .outerjoin(active, active.c.user_id == User.id)
        .where(User.org_id == scope.org_id)
    ).one()
    users_total, users_active, users_new, active_in_total, activated = (int(v) for v in row)
    return Adoption(
        users_total=users_total,
        users_active=users_active,
        users_new=users_new,
        users_inactive=users_total - active_in_total,
        activation_rate=ratio(activated, users_total),
        active_modules=0,
        users_activated=activated,
    )


def module_usage(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Traces and active users per module: ``DataFrame[module, traces, users_active]``.

    Trace-based (see :mod:`telemetry.queries.scope`); traces with no module are
    shown as ``"(no module)"``. Sorted by traces, most first, then module name.
    """
    with engine.connect() as conn:
        return module_usage_in(conn, resolve_scope(conn, filters))


def module_usage_in(conn: Connection, scope: Scope) -> pd.DataFrame:
    daily = rollup_rows(scope, TraceDaily)
    rows = conn.execute(
        select(
            daily.module.label("module"),
            total(daily.traces).label("traces"),
            func.count(func.distinct(daily.user_id)).label("users_active"),
        )
        .where(rollup_where(scope, daily))
        .group_by(daily.module)
    ).all()
    frame = pd.DataFrame(
        [(row.module or NO_MODULE, int(row.traces), int(row.users_active)) for row in rows],
        columns=["module", "traces", "users_active"],
    )
    return frame.sort_values(
        ["traces", "module"], ascending=[False, True], ignore_index=True, kind="stable"
    )
