"""The Sessions list and one session's traces (docs/metrics.md, "Entities" and "Session time").

A session is in the period when at least one of its traces is (a trace belongs
to the period its start falls in); its figures are taken over its traces of
the scope (:func:`telemetry.queries.scope.trace_where`: period, teams,
environments), so a manager's view of a session holds only their teams' traces
and a session with none of them does not exist for that manager.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import ColumnElement, Connection, Engine, false, func, or_, select
from sqlalchemy.orm import aliased

from telemetry.filters import Filters
from telemetry.models import (
    LLM_CALL_KINDS,
    Observation,
    Session,
    Team,
    Trace,
    TraceStatus,
    User,
)
from telemetry.queries.activity import NO_AGENT
from telemetry.queries.listing import (
    ListPage,
    capped_total,
    clean_search,
    list_frame,
    page_bounds,
)
from telemetry.queries.scope import Scope, count_if, resolve_scope, team_conditions, trace_where
from telemetry.queries.traces import COUNT_CAP, MAX_PAGE_SIZE, STATUSES

FIRST_MESSAGE_CHARS = 120

SESSION_COLUMNS = [
    "session",
    "user",
    "user_name",
    "team",
    "started",
    "duration_s",
    "traces",
    "cost_usd",
    "errors",
]
SESSION_TRACE_COLUMNS = [
    "trace_id",
    "name",
    "first_message",
    "agent",
    "status",
    "started",
    "duration_s",
    "cost_usd",
]


@dataclass(frozen=True)
class SessionSearch:
    """Which sessions to list; empty fields match every session.

    - ``text``: part of the session id, or of its user's id or name (case-insensitive).
    - ``user``: the user's external id, exactly.
    - ``agent`` / ``environment`` / ``status``: sessions with at least one trace of
      that agent (``"(no agent)"`` = none), environment or status.
    - ``has_errors``: sessions with at least one ``error`` trace.
    """

    text: str = ""
    user: str = ""
    agent: str = ""
    environment: str = ""
    status: str = ""
    has_errors: bool = False

    def __post_init__(self) -> None:
        clean_search(self, ("text", "user", "agent", "environment", "status"), STATUSES)

    @property
    def active(self) -> bool:
        return any((self.text, self.user, self.agent, self.environment, self.status)) or bool(
            self.has_errors
        )


@dataclass(frozen=True)
class SessionPage(ListPage):
    """One page of sessions (columns :data:`SESSION_COLUMNS`), newest first, and how many match.

    Per session, over its traces of the scope: ``started`` = earliest trace start
    (naive UTC); ``duration_s`` = latest trace end − earliest trace start (the
    session time of docs/metrics.md; traces still running have no end);
    ``traces``; ``cost_usd`` = cost of those traces' LLM calls; ``errors`` = traces
    with status ``error``. ``user`` / ``team`` are those of the session's traces
    (``user_name``: the user's directory name, "" when none).
    """


@dataclass(frozen=True)
class SessionDetail:
    """A session's traces of the scope in start order (columns :data:`SESSION_TRACE_COLUMNS`).

    ``first_message`` is the start of the trace's first user message (input of
    its first LLM call that has one, else of its root span), at most
    :data:`FIRST_MESSAGE_CHARS` characters; empty unless content was asked for
    (admins only). ``total_cost_usd`` sums the traces' cost.
    """

    session: str
    user: str
    rows: pd.DataFrame
    total_cost_usd: float
    user_name: str = ""  # the user's directory name ("" when none); ``user`` is the id

    @property
    def traces(self) -> int:
        return len(self.rows)


def session_list(
    engine: Engine,
    filters: Filters,
    search: SessionSearch = SessionSearch(),
    page: int = 1,
    page_size: int = 50,
) -> SessionPage:
    """Page ``page`` (from 1) of the sessions of ``filters`` matching ``search``, newest first.

    Newest = latest first trace start in the scope. The total is counted up to
    :data:`COUNT_CAP` (``total_capped`` beyond it).
    """
    page, page_size = page_bounds(page, page_size, MAX_PAGE_SIZE)
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        firsts = _first_traces(scope, search)
        total, capped = capped_total(conn, firsts, COUNT_CAP)
        chosen = conn.execute(
            firsts.order_by(Trace.start_us.desc(), Trace.id.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).scalars()
        rows = _page_rows(conn, scope, list(chosen))
    return SessionPage(
        rows=_session_frame(rows),
        total=total,
        total_capped=capped,
        page=page,
        page_size=page_size,
    )


def _in_scope(scope: Scope, trace) -> list[ColumnElement[bool]]:
    """The scope's traces for an aliased trace, the period as ``start_us`` bounds.

    Equivalent to :func:`trace_where` (a trace's day is the day of its start), but
    it lets a probe of one session's traces use (org_id, session_id, start_us, ...).
    """
    conditions = [
        trace.org_id == scope.org_id,
        trace.start_us >= scope.start_us,
        trace.start_us < scope.end_us,
        *team_conditions(scope, trace.team_id),
    ]
    if scope.environments is not None:
        conditions.append(
            trace.environment.in_(scope.environments) if scope.environments else false()
        )
    return conditions


def _first_traces(scope: Scope, search: SessionSearch):
    """The session id of each matching session's first trace in scope (one row per session).

    A trace is its session's first when no earlier trace of the session is in
    scope; walking those in start order pages sessions by their start without
    grouping every trace of the period.
    """
    earlier = aliased(Trace)
    # SELECT id, not SELECT *: SQLite then probes the covering session index.
    is_first = ~(
        select(earlier.id)
        .where(
            earlier.session_id == Trace.session_id,
            *_in_scope(scope, earlier),
            earlier.start_us <= Trace.start_us,
            or_(earlier.start_us < Trace.start_us, earlier.id < Trace.id),
        )
        .exists()
    )
    conditions = [trace_where(scope), *_in_scope(scope, Trace), Trace.session_id.is_not(None)]
    conditions += [is_first, *_search_conditions(scope, search)]
    return select(Trace.session_id).where(*conditions)


def _search_conditions(scope: Scope, search: SessionSearch) -> list[ColumnElement[bool]]:
    """Each asked-for field: the session has a trace in scope that matches it."""
    wanted = []
    if search.user:
        user_pks = select(User.id).where(
            User.org_id == scope.org_id, User.external_id == search.user
        )
        wanted.append(lambda trace: trace.user_id.in_(user_pks))
    if search.agent:
        agent = "" if search.agent == NO_AGENT else search.agent
        wanted.append(lambda trace: trace.agent == agent)
    if search.environment:
        wanted.append(lambda trace: trace.environment == search.environment)
    if search.status:
        wanted.append(lambda trace: trace.status == search.status)
    if search.has_errors:
        wanted.append(lambda trace: trace.status == str(TraceStatus.ERROR))
    conditions = []
    for condition in wanted:
        other = aliased(Trace)
        conditions.append(
            select(other.id)
            .where(other.session_id == Trace.session_id, *_in_scope(scope, other), condition(other))
            .exists()
        )
    if search.text:
        term = search.text
        keys = select(Session.id).where(
            Session.org_id == scope.org_id, Session.session_key.icontains(term, autoescape=True)
        )
        users = select(User.id).where(
            User.org_id == scope.org_id,
            or_(
                User.external_id.icontains(term, autoescape=True),
                User.name.icontains(term, autoescape=True),
            ),
        )
        conditions.append(or_(Trace.session_id.in_(keys), Trace.user_id.in_(users)))
    return conditions


def _page_rows(conn: Connection, scope: Scope, session_pks: list[int]) -> list:
    """The figures of the chosen sessions over their traces in scope, newest first."""
    if not session_pks:
        return []
    grouped = (
        select(
            Trace.session_id.label("session_pk"),
            func.max(Trace.user_id).label("user_pk"),
            func.max(Trace.team_id).label("team_pk"),
            func.min(Trace.start_us).label("started"),
            func.max(Trace.end_us).label("ended"),
            func.count().label("traces"),
            func.coalesce(func.sum(Trace.cost_usd), 0.0).label("cost"),
            count_if(Trace.status == str(TraceStatus.ERROR)).label("errors"),
        )
        # The period as start_us bounds: read through the session index, not the day range.
        .where(*_in_scope(scope, Trace), Trace.session_id.in_(session_pks))
        .group_by(Trace.session_id)
        .subquery("grouped")
    )
    rows = conn.execute(
        select(
            Session.session_key,
            User.external_id,
            User.name.label("user_name"),
            Team.name.label("team"),
            grouped,
        )
        .select_from(grouped)
        .join(Session, Session.id == grouped.c.session_pk)
        .outerjoin(User, User.id == grouped.c.user_pk)
        .outerjoin(Team, Team.id == grouped.c.team_pk)
    ).all()
    # In the page's own order (ties between equal starts included).
    position = {pk: index for index, pk in enumerate(session_pks)}
    return sorted(rows, key=lambda row: position[row.session_pk])


def session_traces(
    engine: Engine, filters: Filters, session_key: str, *, include_content: bool = False
) -> SessionDetail | None:
    """The traces of session ``session_key`` in the scope, or ``None`` when it has none there.

    ``include_content``: also read each trace's first user message (raw content:
    admins only). Without it no content column is even read.
    """
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        session = conn.execute(
            select(Session.id, User.external_id)
            .outerjoin(User, User.id == Session.user_id)
            .where(Session.org_id == scope.org_id, Session.session_key == session_key)
        ).first()
        if session is None:
            return None
        columns = [
            Trace.trace_id,
            Trace.name,
            Trace.agent,
            Trace.status,
            Trace.start_us,
            Trace.duration_ms,
            Trace.cost_usd,
            Trace.user_id,
        ]
        if include_content:
            columns.append(_first_message().label("first_message"))
        rows = conn.execute(
            select(*columns)
            .where(trace_where(scope), Trace.session_id == session.id)
            .order_by(Trace.start_us, Trace.id)
        ).all()
        if not rows:
            return None
        user = _trace_user(conn, rows) or session.external_id
        name = _user_name(conn, scope, user) if user else ""
    frame = _trace_frame(rows, include_content)
    return SessionDetail(
        session=session_key,
        user=user or "",
        user_name=name,
        rows=frame,
        total_cost_usd=float(sum(float(row.cost_usd) for row in rows)),
    )


def _first_message():
    """The trace's first LLM call input with content, else its root span's (truncated in SQL)."""
    content = func.substr(Observation.input_content, 1, FIRST_MESSAGE_CHARS)
    first_call = (
        select(content)
        .where(
            Observation.trace_pk == Trace.id,
            Observation.kind.in_(LLM_CALL_KINDS),
            Observation.input_content != "",
        )
        .order_by(Observation.start_us, Observation.id)
        .limit(1)
        .scalar_subquery()
    )
    root_input = (
        select(content)
        .where(
            Observation.trace_pk == Trace.id,
            Observation.parent_span_id == "",
            Observation.input_content != "",
        )
        .order_by(Observation.start_us, Observation.id)
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(first_call, root_input, "")


def _trace_user(conn: Connection, rows: list) -> str:
    user_pk = next((row.user_id for row in rows if row.user_id is not None), None)
    if user_pk is None:
        return ""
    return conn.execute(select(User.external_id).where(User.id == user_pk)).scalar_one_or_none()


def _user_name(conn: Connection, scope: Scope, external_id: str) -> str:
    found = conn.execute(
        select(User.name).where(User.org_id == scope.org_id, User.external_id == external_id)
    ).scalar_one_or_none()
    return found or ""


def _duration_s(started_us, ended_us) -> float | None:
    if started_us is None or ended_us is None:
        return None
    return (int(ended_us) - int(started_us)) / 1_000_000


def _session_frame(rows: list) -> pd.DataFrame:
    records = [
        {
            "session": row.session_key,
            "user": row.external_id or "",
            "user_name": row.user_name or "",
            "team": row.team or "",
            "started": pd.Timestamp(int(row.started), unit="us"),
            "duration_s": _duration_s(row.started, row.ended),
            "traces": int(row.traces),
            "cost_usd": float(row.cost),
            "errors": int(row.errors),
        }
        for row in rows
    ]
    return list_frame(records, SESSION_COLUMNS)


def _trace_frame(rows: list, include_content: bool) -> pd.DataFrame:
    records = [
        {
            "trace_id": row.trace_id,
            "name": row.name,
            "first_message": (row.first_message or "") if include_content else "",
            "agent": row.agent,
            "status": row.status,
            "started": pd.Timestamp(int(row.start_us), unit="us"),
            "duration_s": None if row.duration_ms is None else float(row.duration_ms) / 1000,
            "cost_usd": float(row.cost_usd),
        }
        for row in rows
    ]
    return list_frame(records, SESSION_TRACE_COLUMNS)
