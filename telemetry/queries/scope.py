"""Turn a :class:`Filters` into database ids and the WHERE clauses every query shares.

The rules, in one place (docs/metrics.md, "Time and periods"):

- A trace belongs to the period its start falls in: ``trace.start_day`` within
  ``[filters.start_day, filters.end_day]``, and for a period that is not whole
  days (a window, "today so far") also ``trace.start_us`` within
  ``[filters.start_us, filters.end_us)``; it matches the team filter by
  ``trace.team_id`` and the environment filter by ``trace.environment``.
- Tokens and cost come from LLM calls only (``LLM_CALL_KINDS``: agent spans
  often repeat their children's usage) and an observation belongs to the period
  its OWN start falls in (``observation.start_day``), so a generation just after
  midnight counts on the next day even when its trace started the day before.
  Team and environment match on the observation's own ``team_id`` and
  ``environment`` (the trace's context, copied onto each observation at write time).
- ``Filters.teams`` / ``Filters.environments``: ``None`` = no restriction, an
  empty tuple = nothing. A team name that does not exist matches nothing;
  rows with no team are left out whenever a team filter is active.
- A :class:`Subject` (optional) narrows further to one agent, model and/or end
  user, on the row's own ``agent``, ``model`` and ``user_id`` columns. Traces
  have no model: a model subject applies to LLM-call figures only, and a query
  over rows without the column refuses it (``ValueError``) rather than ignore it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Integer,
    and_,
    bindparam,
    case,
    false,
    func,
    literal_column,
    select,
)

from telemetry.filters import Filters, Grouping
from telemetry.models import LLM_CALL_KINDS, Observation, Team, Trace, User
from telemetry.store import org_id
from telemetry.timeutil import US_PER_FIVE_MINUTES, day_number, month_number, month_start

NO_TEAM = "(no team)"


@dataclass(frozen=True)
class Subject:
    """One agent, model and/or end user (external id) to narrow a scope to; ``None`` = any.

    Alert rules, budgets and exports use it; the sidebar filters do not.
    """

    agent: str | None = None
    model: str | None = None
    user: str | None = None

    def __bool__(self) -> bool:
        return any(value is not None for value in (self.agent, self.model, self.user))


@dataclass(frozen=True)
class Scope:
    """A resolved :class:`Filters`: organization id, team ids and the period as buckets.

    ``subject`` and ``user_pk`` (the subject's user as a database id, ``None``
    when that user does not exist) narrow it further; see :func:`subject_conditions`.
    """

    filters: Filters
    org_id: int
    team_ids: tuple[int, ...] | None
    environments: tuple[str, ...] | None
    subject: Subject | None = None
    user_pk: int | None = None

    @property
    def start_day(self) -> int:
        return self.filters.start_day

    @property
    def end_day(self) -> int:
        return self.filters.end_day

    @property
    def start_us(self) -> int:
        return self.filters.start_us

    @property
    def end_us(self) -> int:
        """Exclusive: the first microsecond after the period."""
        return self.filters.end_us

    @property
    def whole_days(self) -> bool:
        """True when the daily rollups answer the period as stored (no partial day)."""
        return self.filters.whole_days

    @property
    def team_filtered(self) -> bool:
        return self.team_ids is not None


def resolve_scope(
    engine: Engine | Connection, filters: Filters, subject: Subject | None = None
) -> Scope:
    """Look up the organization and team ids of ``filters`` (and the user of ``subject``).

    Raises :class:`telemetry.store.UnknownOrganization` (a ``LookupError`` naming
    the known organizations) when the organization does not exist. Unknown team
    names are dropped: they match nothing; so does an unknown subject user.
    """
    if isinstance(engine, Connection):
        return _resolve(engine, filters, subject)
    with engine.connect() as conn:
        return _resolve(conn, filters, subject)


def _resolve(conn: Connection, filters: Filters, subject: Subject | None) -> Scope:
    org = org_id(conn, filters.org)
    team_ids = None
    if filters.teams is not None:
        found = conn.execute(
            select(Team.id).where(Team.org_id == org, Team.name.in_(filters.teams))
        ).scalars()
        team_ids = tuple(sorted(found))
    user_pk = None
    if subject and subject.user is not None:
        user_pk = conn.execute(
            select(User.id).where(User.org_id == org, User.external_id == subject.user)
        ).scalar()
    return Scope(
        filters=filters,
        org_id=org,
        team_ids=team_ids,
        environments=filters.environments,
        subject=subject or None,
        user_pk=user_pk,
    )


def subject_conditions(scope: Scope, rows) -> list[ColumnElement[bool]]:
    """The scope's subject conditions on ``rows`` (a table model or a rollup), ``[]`` without one.

    Matches the rows' own ``agent``, ``model`` and ``user_id`` columns. Raises
    ``ValueError`` when ``rows`` lack a column the subject needs (traces have no
    model), so a figure is never silently computed over more than was asked.
    """
    subject = scope.subject
    if not subject:
        return []
    wanted = (
        ("agent", "agent", subject.agent),
        ("model", "model", subject.model),
        ("user", "user_id", scope.user_pk if subject.user is not None else None),
    )
    conditions: list[ColumnElement[bool]] = []
    for field, name, value in wanted:
        if getattr(subject, field) is None:
            continue
        column = getattr(rows, name, None)
        if column is None:
            table = getattr(rows, "__tablename__", type(rows).__name__)
            raise ValueError(f"{table} rows have no {field}: a {field} scope cannot apply to them")
        conditions.append(false() if value is None else column == value)
    return conditions


def team_conditions(scope: Scope, team_column) -> list[ColumnElement[bool]]:
    """``[team_column IN selected teams]``, or ``[]`` when no team filter is active."""
    if scope.team_ids is None:
        return []
    return [team_column.in_(scope.team_ids) if scope.team_ids else false()]


def team_and_environment(scope: Scope, team_column, environment_column) -> list[ColumnElement]:
    """The scope's team and environment conditions on those columns ([] = no filter)."""
    conditions = team_conditions(scope, team_column)
    if scope.environments is not None:
        conditions.append(
            environment_column.in_(scope.environments) if scope.environments else false()
        )
    return conditions


# Rendered as literals, not bound parameters: the partial LLM-call indexes
# (ix_obs_llm_user, ix_obs_llm_latency) are only chosen when the query repeats
# their WHERE clause verbatim.
_LLM_KINDS_INLINE = bindparam(
    "llm_call_kinds", [str(kind) for kind in LLM_CALL_KINDS], expanding=True, literal_execute=True
)


def in_period(scope: Scope, day_column, start_column) -> list[ColumnElement[bool]]:
    """Rows started in the scope's period: its days, and its instants when not whole days.

    The day range stays even for a window: the covering indexes lead with the day.
    """
    return [
        day_column >= scope.start_day,
        day_column <= scope.end_day,
        *within_instants(scope, start_column),
    ]


def within_instants(scope: Scope, start_column) -> list[ColumnElement[bool]]:
    """``start_us`` inside a period with partial days; ``[]`` for whole days (the day suffices)."""
    if scope.whole_days:
        return []
    return [start_column >= scope.start_us, start_column < scope.end_us]


def trace_where(scope: Scope) -> ColumnElement[bool]:
    """Traces of the scope: started in the period, selected teams and environments."""
    return and_(
        Trace.org_id == scope.org_id,
        *in_period(scope, Trace.start_day, Trace.start_us),
        *team_and_environment(scope, Trace.team_id, Trace.environment),
        *subject_conditions(scope, Trace),
    )


def llm_call_where(scope: Scope) -> ColumnElement[bool]:
    """LLM calls of the scope: generations and embeddings started in the period."""
    return and_(
        Observation.org_id == scope.org_id,
        *in_period(scope, Observation.start_day, Observation.start_us),
        Observation.kind.in_(_LLM_KINDS_INLINE),
        *team_and_environment(scope, Observation.team_id, Observation.environment),
        *subject_conditions(scope, Observation),
    )


def trace_bucket(grouping: Grouping, period: Filters | None = None) -> ColumnElement[int]:
    """The integer time bucket of a trace for ``grouping`` (no per-row date functions).

    Weeks: ISO weeks starting Monday, ``(start_day + 3) // 7`` since day 0 was a
    Thursday. Integer ``/`` truncates on SQLite and PostgreSQL alike, and day
    numbers are positive, so truncation equals floor. Constants are inlined
    (not bound) so that PostgreSQL sees the same expression in SELECT and GROUP BY.
    Months: given the ``period`` being queried, the month is derived from
    ``start_day`` (see :func:`month_of_day`), which the covering index holds;
    without it, the ``start_month`` column is read from the table. Five
    minutes: ``start_us // 300_000_000`` (5-minute periods since the epoch).
    """
    if grouping == Grouping.FIVE_MINUTES:
        return Trace.start_us // _integer(US_PER_FIVE_MINUTES)
    if grouping == Grouping.HOUR:
        return Trace.start_hour
    if grouping == Grouping.WEEK:
        return (Trace.start_day + _integer(3)) // _integer(7)
    if grouping == Grouping.MONTH:
        return Trace.start_month if period is None else month_of_day(Trace.start_day, period)
    return Trace.start_day


def month_of_day(day_column, period: Filters) -> ColumnElement[int]:
    """The month number (``year * 12 + month - 1``) of a day number inside ``period``.

    A CASE over the month boundaries the period crosses: integer comparisons on an
    indexed column instead of a date function or a table lookup per row. Only
    valid for rows already restricted to the period.
    """
    first, last = month_number(period.start), month_number(period.end)
    if first == last:
        return _integer(first)
    steps = [
        (day_column < _integer(day_number(month_start(month + 1))), _integer(month))
        for month in range(first, last)
    ]
    return case(*steps, else_=_integer(last))


def _integer(value: int) -> ColumnElement[int]:
    # Typed as Integer so that ``//`` stays integer division (``/`` would become
    # true division with a NUMERIC cast on PostgreSQL).
    return literal_column(str(int(value)), Integer)


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many rows meet ``condition`` (0, not NULL, over no rows); portable SQL."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def cost_key(cost_usd: float) -> float:
    """A cost rounded for sorting, so float noise between backends cannot reorder rows."""
    return round(cost_usd, 9)


def ratio(part: int, whole: int) -> float | None:
    """``part / whole``, or ``None`` when there is nothing to divide by."""
    return part / whole if whole else None
