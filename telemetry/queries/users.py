"""The Users page (docs/metrics.md, "Users page"): the period's header figures and one row per user.

Which users are listed for a scope: every user with a trace or an LLM call in
the scope's period, plus the directory users of the selected teams (by the
user's own team; all users when no team filter) that exist on the period's last
day and are not ``removed`` (the "total users" of the Overview). Trace figures
come from the period's traces (by the trace's team and environment), tokens and
cost from the period's LLM calls (by each call's own start); see
:mod:`telemetry.queries.scope`. A user's team name is shown only when that team
is in the scope, so a manager never reads another team's name.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, Engine, and_, case, func, or_, select
from sqlalchemy.sql import Select

from telemetry.filters import Filters, Grouping
from telemetry.models import (
    CostSource,
    LlmDaily,
    Team,
    Trace,
    TraceDaily,
    TraceStatus,
    User,
    UserStatus,
)
from telemetry.queries.adoption import user_counts_in
from telemetry.queries.daily import day_bucket, team_and_environment, total, total_cost, total_if
from telemetry.queries.rollup_scope import rollup_rows, rollup_where
from telemetry.queries.scope import (
    Scope,
    ratio,
    resolve_scope,
    team_conditions,
    trace_where,
    within_instants,
)
from telemetry.timeutil import week_number_of_day

USER_TABLE_LIMIT = 1_000
OTHER_TEAM = "(other team)"
# Up to this many days the activity sparkline has one point per day, beyond it one per ISO week.
DAILY_SPARKLINE_DAYS = 92

# The cost column's roll-ups (the selector above the Users table).
SUM, AVG, MEDIAN = "SUM", "AVG", "MEDIAN"
ROLLUPS = (SUM, AVG, MEDIAN)

USER_COLUMNS = [
    "user_pk",
    "external_id",
    "name",
    "email",
    "company",
    "team",
    "status",
    "first_seen",
    "last_seen",
    "activity",
    "traces",
    "sessions",
    "errored_sessions",
    "errored_session_rate",
    "tokens",
    "active_days",
    "cost_usd",
    "calls",
    "priced_share",
]


@dataclass(frozen=True)
class UsersHeader:
    """The Users page header for a period.

    - ``users_active``: unique users, i.e. distinct users among the period's traces.
    - ``users_new``: of those, users whose first trace ever falls in the period
      (the Overview's "new users").
    - ``traces``: the period's traces; ``traces_with_user`` those that carry a user id.
    - ``user_share``: ``traces_with_user`` ÷ ``traces`` (``None`` without traces).
    - ``traces_per_user``: ``traces_with_user`` ÷ ``users_active`` (``None`` without users):
      traces without a user id belong to nobody, so they are not spread over users.
    """

    users_active: int
    users_new: int
    traces: int
    traces_with_user: int
    user_share: float | None
    traces_per_user: float | None


def users_header(engine: Engine, filters: Filters) -> UsersHeader:
    """The :class:`UsersHeader` of ``filters``."""
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        daily = rollup_rows(scope, TraceDaily)
        traces, with_user, users = conn.execute(
            select(
                total(daily.traces),
                total_if(daily.user_id.is_not(None), daily.traces),
                func.count(func.distinct(daily.user_id)),
            ).where(rollup_where(scope, daily))
        ).one()
        users_new = user_counts_in(conn, scope).users_new
    traces, with_user, users = int(traces), int(with_user), int(users)
    return UsersHeader(
        users_active=users,
        users_new=users_new,
        traces=traces,
        traces_with_user=with_user,
        user_share=ratio(with_user, traces),
        traces_per_user=ratio(with_user, users),
    )


@dataclass(frozen=True)
class UserTable:
    """One row per listed user (columns :data:`USER_COLUMNS`), at most ``limit`` of ``matched``.

    Per user, over the period: ``first_seen`` / ``last_seen`` = earliest / latest
    trace start (naive UTC, empty without a trace); ``activity`` = traces per day
    (per ISO week beyond :data:`DAILY_SPARKLINE_DAYS` days), oldest first;
    ``traces``; ``sessions`` = distinct session ids of those traces;
    ``errored_sessions`` = those with at least one ``error`` trace, and
    ``errored_session_rate`` = errored ÷ sessions; ``tokens`` = input + output of
    the user's LLM calls; ``active_days`` = distinct UTC days with a trace;
    ``cost_usd`` = cost of the LLM calls, ``calls`` how many, ``priced_share`` =
    priced ÷ calls. Rows are sorted by cost, then traces (most first), then id:
    when capped, the costliest users are the ones shown. ``user_pk`` is the
    store's id, for the detail view.
    """

    rows: pd.DataFrame
    matched: int
    limit: int

    @property
    def complete(self) -> bool:
        return len(self.rows) >= self.matched


def user_table(
    engine: Engine,
    filters: Filters,
    *,
    search: str = "",
    companies: tuple[str, ...] = (),
    statuses: tuple[str, ...] = (),
    inactive_only: bool = False,
    limit: int = USER_TABLE_LIMIT,
) -> UserTable:
    """The listed users of ``filters`` that match the search and filters (see :class:`UserTable`).

    ``search`` matches id, name, email and company, case-insensitively, as a
    substring. ``companies`` / ``statuses`` keep users with one of those values
    (empty = any). ``inactive_only`` keeps directory users (not removed) without
    a trace in the period: the Overview's "inactive users".
    """
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        listed = _Listed(scope)
        conditions = listed.matching(search, companies, statuses, inactive_only)
        rows = conn.execute(listed.rows(conditions, max(limit, 0))).all()
        if rows:
            matched = int(rows[0].matched)
        else:  # no row to carry the count: either nothing matches or the limit is 0
            count = select(func.count()).select_from(listed.joined()).where(*conditions)
            matched = int(conn.execute(count).scalar_one()) if limit <= 0 else 0
        activity = _activity(conn, scope, [row.user_pk for row in rows])
    return UserTable(rows=_frame(rows, activity), matched=matched, limit=limit)


def user_companies(engine: Engine, filters: Filters) -> list[str]:
    """The distinct non-empty companies of the listed users, sorted (the company filter)."""
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        traces, calls = rollup_rows(scope, TraceDaily), rollup_rows(scope, LlmDaily)
        traced = select(traces.user_id).where(
            rollup_where(scope, traces), traces.user_id.is_not(None)
        )
        called = select(calls.user_id).where(rollup_where(scope, calls), calls.user_id.is_not(None))
        listed = or_(
            in_directory(scope),
            User.id.in_(traced.distinct()),
            User.id.in_(called.distinct()),
        )
        found = conn.execute(
            select(User.company)
            .distinct()
            .where(User.org_id == scope.org_id, User.company != "", listed)
        ).scalars()
        return sorted(found)


def in_directory(scope: Scope):
    """Directory users of the scope's teams, not removed, that exist on the period's last day."""
    return and_(
        User.status != str(UserStatus.REMOVED),
        or_(User.created_us < scope.end_us, User.first_trace_us < scope.end_us),
        *team_conditions(scope, User.team_id),
    )


class _Listed:
    """The SQL pieces that select a scope's listed users with their period figures.

    Per-user counts, days and costs come from the daily rollups (the user and the
    day are keys there); sessions from the traces, since a session spans days.
    """

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        daily = rollup_rows(scope, TraceDaily)
        self.runs = (
            select(
                daily.user_id.label("user_id"),
                total(daily.traces).label("traces"),
                func.min(daily.day).label("first_day"),
                func.max(daily.day).label("last_day"),
                func.count(func.distinct(daily.day)).label("active_days"),
            )
            .where(rollup_where(scope, daily), daily.user_id.is_not(None))
            .group_by(daily.user_id)
            .subquery("runs")
        )
        is_error = Trace.status == str(TraceStatus.ERROR)
        self.sessions = (
            select(
                Trace.user_id.label("user_id"),
                func.count(func.distinct(Trace.session_id)).label("sessions"),
                func.count(func.distinct(case((is_error, Trace.session_id)))).label("errored"),
            )
            .where(trace_where(scope), Trace.user_id.is_not(None))
            .group_by(Trace.user_id)
            .subquery("sessions")
        )
        calls = rollup_rows(scope, LlmDaily)
        priced = calls.cost_source != str(CostSource.UNPRICED)
        self.calls = (
            select(
                calls.user_id.label("user_id"),
                total(calls.calls).label("calls"),
                total_if(priced, calls.calls).label("priced"),
                total(calls.input_tokens + calls.output_tokens).label("tokens"),
                total_cost(calls.cost_usd).label("cost"),
            )
            .where(rollup_where(scope, calls), calls.user_id.is_not(None))
            .group_by(calls.user_id)
            .subquery("calls")
        )

    def joined(self):
        return (
            User.__table__.outerjoin(self.runs, self.runs.c.user_id == User.id)
            .outerjoin(self.sessions, self.sessions.c.user_id == User.id)
            .outerjoin(self.calls, self.calls.c.user_id == User.id)
            .outerjoin(Team, Team.id == User.team_id)
        )

    def in_directory(self):
        return in_directory(self.scope)

    def visible(self):
        active = or_(self.runs.c.user_id.is_not(None), self.calls.c.user_id.is_not(None))
        return and_(User.org_id == self.scope.org_id, or_(active, self.in_directory()))

    def matching(
        self,
        search: str,
        companies: Sequence[str],
        statuses: Sequence[str],
        inactive_only: bool,
    ) -> list:
        conditions = [self.visible()]
        term = search.strip()
        if term:
            columns = (User.external_id, User.name, User.email, User.company)
            conditions.append(or_(*(c.icontains(term, autoescape=True) for c in columns)))
        if companies:
            conditions.append(User.company.in_(list(companies)))
        if statuses:
            conditions.append(User.status.in_(list(statuses)))
        if inactive_only:
            conditions += [self.runs.c.user_id.is_(None), self.in_directory()]
        return conditions

    def seen(self, aggregate, day):
        """The earliest/latest trace start of the user on ``day`` (their first/last day).

        The period's GROUP BY reads only the daily rollup, which holds days but
        not times; the exact time is then looked up among one day's traces per user.
        ``day`` is inside the period, so the period's own day range is left out:
        with it, SQLite would read all the user's traces of the period instead. A
        period with partial days keeps its instants (that day's traces outside the
        window are not the user's first or last of the period).
        """
        scope = self.scope
        return (
            select(aggregate(Trace.start_us))
            .where(
                Trace.org_id == scope.org_id,
                Trace.user_id == User.id,
                Trace.start_day == day,
                *within_instants(scope, Trace.start_us),
                *team_and_environment(scope, Trace.team_id, Trace.environment),
            )
            .scalar_subquery()
        )

    def rows(self, conditions: list, limit: int) -> Select:
        runs, calls = self.runs.c, self.calls.c
        cost = func.coalesce(calls.cost, 0.0)
        traces = func.coalesce(runs.traces, 0)
        return (
            select(
                User.id.label("user_pk"),
                User.external_id,
                User.name,
                User.email,
                User.company,
                scoped_team_name(self.scope).label("team"),
                User.status,
                self.seen(func.min, runs.first_day).label("first_us"),
                self.seen(func.max, runs.last_day).label("last_us"),
                traces.label("traces"),
                func.coalesce(self.sessions.c.sessions, 0).label("sessions"),
                func.coalesce(self.sessions.c.errored, 0).label("errored_sessions"),
                func.coalesce(calls.tokens, 0).label("tokens"),
                func.coalesce(runs.active_days, 0).label("active_days"),
                cost.label("cost_usd"),
                func.coalesce(calls.calls, 0).label("calls"),
                func.coalesce(calls.priced, 0).label("priced"),
                func.count().over().label("matched"),
            )
            .select_from(self.joined())
            .where(*conditions)
            .order_by(cost.desc(), traces.desc(), User.external_id, User.id)
            .limit(limit)
        )


def scoped_team_name(scope: Scope):
    """The user's team name (``User`` joined to ``Team``) when the scope may see that team.

    Under a team filter, a listed user whose own team is not selected (they were
    listed for telemetry recorded under a selected team) shows as ``"(other
    team)"``: a manager never reads the name of a team that is not theirs.
    """
    shown = team_conditions(scope, User.team_id)
    if not shown:
        return Team.name
    return case((and_(*shown), Team.name), (User.team_id.is_(None), None), else_=OTHER_TEAM)


def sparkline_grouping(scope: Scope) -> Grouping:
    """Day buckets for periods up to :data:`DAILY_SPARKLINE_DAYS` days, ISO weeks beyond."""
    return Grouping.DAY if scope.filters.days <= DAILY_SPARKLINE_DAYS else Grouping.WEEK


def _bucket_numbers(scope: Scope) -> range:
    if sparkline_grouping(scope) == Grouping.DAY:
        return range(scope.start_day, scope.end_day + 1)
    return range(week_number_of_day(scope.start_day), week_number_of_day(scope.end_day) + 1)


def _activity(conn: Connection, scope: Scope, user_pks: list[int]) -> dict[int, list[int]]:
    """Traces per bucket of every listed user, from ONE grouped query, zero-filled."""
    if not user_pks:
        return {}
    daily = rollup_rows(scope, TraceDaily)
    bucket = day_bucket(daily.day, sparkline_grouping(scope), scope.filters).label("bucket")
    found = conn.execute(
        select(daily.user_id, bucket, total(daily.traces))
        .where(rollup_where(scope, daily), daily.user_id.in_(user_pks))
        .group_by(daily.user_id, "bucket")
    ).all()
    numbers = _bucket_numbers(scope)
    series = {pk: [0] * len(numbers) for pk in user_pks}
    for user_pk, number, traces in found:
        series[user_pk][int(number) - numbers.start] = int(traces)
    return series


def _timestamp(us: int | None) -> pd.Timestamp | None:
    return None if us is None else pd.Timestamp(int(us), unit="us")


def _frame(rows: list, activity: dict[int, list[int]]) -> pd.DataFrame:
    records = []
    for row in rows:
        sessions, calls = int(row.sessions), int(row.calls)
        records.append(
            {
                "user_pk": int(row.user_pk),
                "external_id": row.external_id,
                "name": row.name,
                "email": row.email,
                "company": row.company,
                "team": row.team or "",
                "status": row.status,
                "first_seen": _timestamp(row.first_us),
                "last_seen": _timestamp(row.last_us),
                "activity": activity.get(row.user_pk, []),
                "traces": int(row.traces),
                "sessions": sessions,
                "errored_sessions": int(row.errored_sessions),
                "errored_session_rate": ratio(int(row.errored_sessions), sessions),
                "tokens": int(row.tokens),
                "active_days": int(row.active_days),
                "cost_usd": float(row.cost_usd),
                "calls": calls,
                "priced_share": ratio(int(row.priced), calls),
            }
        )
    frame = pd.DataFrame(records, columns=USER_COLUMNS)
    for column in ("first_seen", "last_seen"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def cost_rollup(costs: Sequence[float], how: str) -> float | None:
    """The cost column's roll-up over the shown users: ``SUM``, ``AVG`` (mean) or ``MEDIAN``.

    ``None`` for AVG and MEDIAN over no users (SUM of none is 0). The median of
    an even count is the mean of the two middle values.
    """
    values = [float(cost) for cost in costs]
    if how == SUM:
        return float(sum(values))
    if how not in (AVG, MEDIAN):
        raise ValueError(f"unknown cost roll-up {how!r}; use one of {', '.join(ROLLUPS)}")
    if not values:
        return None
    return statistics.fmean(values) if how == AVG else float(statistics.median(values))
