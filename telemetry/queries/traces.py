"""The Traces list: the period's traces, searched, sorted and paginated in SQL.

Rows are the traces of the scope (:func:`telemetry.queries.scope.trace_where`):
started in the period, in the selected teams and environments. Search fields
narrow them; only one page of rows ever leaves the database, and the total is
counted up to :data:`COUNT_CAP` (beyond it the pager says "more than 100,000").
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import ColumnElement, Engine, and_, or_, select
from sqlalchemy.orm import aliased

from telemetry.filters import Filters
from telemetry.models import (
    LLM_CALL_KINDS,
    Observation,
    ObservationKind,
    SpanStatus,
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
from telemetry.queries.scope import Scope, resolve_scope, trace_where

# Lists count their matches exactly up to here (an indexed count of 100k rows is quick);
# beyond it the pager says "more than 100,000".
COUNT_CAP = 100_000
MAX_PAGE_SIZE = 500
STATUSES = tuple(status.value for status in TraceStatus)
# The sortable columns, by the name a page or URL uses; anything else is refused.
SORTS = {"start": Trace.start_us, "duration": Trace.duration_ms, "cost": Trace.cost_usd}

TRACE_COLUMNS = [
    "trace_id",
    "name",
    "user",
    "user_name",
    "team",
    "agent",
    "status",
    "started",
    "duration_s",
    "cost_usd",
    "tokens",
    "failed_step",
    "error",
]


@dataclass(frozen=True)
class TraceSearch:
    """What to look for among the period's traces; empty fields match everything.

    - ``text``: a trace id prefix, or a part of the trace's name (case-insensitive).
    - ``user``: the user's external id, exactly.
    - ``status``: one of ``ok``, ``error``, ``timeout``, ``running``.
    - ``agent``: the trace's agent, exactly (``"(no agent)"`` = traces without one).
    - ``model``: traces with an LLM call to this model.
    - ``tool``: traces with a call to this tool.
    """

    text: str = ""
    user: str = ""
    status: str = ""
    agent: str = ""
    model: str = ""
    tool: str = ""

    def __post_init__(self) -> None:
        clean_search(self, ("text", "user", "status", "agent", "model", "tool"), STATUSES)

    @property
    def active(self) -> bool:
        return any((self.text, self.user, self.status, self.agent, self.model, self.tool))


@dataclass(frozen=True)
class TracePage(ListPage):
    """One page of matching traces (columns :data:`TRACE_COLUMNS`) and how many match.

    ``user`` is the user's id, ``user_name`` their directory name ("" when none);
    ``started`` is naive UTC; ``duration_s`` is empty for running traces;
    ``cost_usd`` and ``tokens`` (input + output) are the trace's LLM calls;
    ``failed_step`` / ``error`` name the first observation with status ERROR
    (by start) and its error type and message, so the list says why a run failed.
    ``total`` is exact unless ``total_capped`` (then at least :data:`COUNT_CAP`).
    """


def trace_list(
    engine: Engine,
    filters: Filters,
    search: TraceSearch = TraceSearch(),
    sort: str = "start",
    descending: bool = True,
    page: int = 1,
    page_size: int = 50,
) -> TracePage:
    """Page ``page`` (from 1) of the traces of ``filters`` matching ``search``, sorted by ``sort``.

    ``sort`` is ``start``, ``duration`` or ``cost`` (:data:`SORTS`); ties go by
    start then store id, so pages never overlap. Running traces (no duration)
    sort last either way.
    """
    if sort not in SORTS:
        raise ValueError(f"cannot sort traces by {sort!r}; use one of {', '.join(SORTS)}")
    page, page_size = page_bounds(page, page_size, MAX_PAGE_SIZE)
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        where = and_(*trace_conditions(scope, search))
        total, capped = capped_total(conn, select(Trace.id).where(where), COUNT_CAP)
        chosen = (
            select(Trace.id.label("pk"))
            .where(where)
            .order_by(*_ordering(sort, descending))
            .limit(page_size)
            .offset((page - 1) * page_size)
            .subquery("chosen")
        )
        rows = conn.execute(_page_rows(chosen, sort, descending)).all()
    return TracePage(
        rows=_frame(rows),
        total=total,
        total_capped=capped,
        page=page,
        page_size=page_size,
    )


def trace_conditions(scope: Scope, search: TraceSearch) -> list[ColumnElement[bool]]:
    """The WHERE clauses of the scope's traces that match ``search``."""
    conditions = [
        trace_where(scope),
        # The same period on start_us, so the (org_id, start_us) index can serve the order.
        Trace.start_us >= scope.start_us,
        Trace.start_us < scope.end_us,
    ]
    if search.text:
        conditions.append(
            or_(
                Trace.trace_id.startswith(search.text, autoescape=True),
                Trace.name.icontains(search.text, autoescape=True),
            )
        )
    if search.user:
        conditions.append(
            Trace.user_id.in_(
                select(User.id).where(User.org_id == scope.org_id, User.external_id == search.user)
            )
        )
    if search.status:
        conditions.append(Trace.status == search.status)
    if search.agent:
        conditions.append(Trace.agent == ("" if search.agent == NO_AGENT else search.agent))
    if search.model:
        conditions.append(
            _has_step(Observation.model == search.model, Observation.kind.in_(LLM_CALL_KINDS))
        )
    if search.tool:
        conditions.append(
            _has_step(
                Observation.tool_name == search.tool,
                Observation.kind == str(ObservationKind.TOOL),
            )
        )
    return conditions


def _has_step(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return select(Observation.id).where(Observation.trace_pk == Trace.id, *conditions).exists()


def _ordering(sort: str, descending: bool) -> list:
    column = SORTS[sort]
    primary = column.desc() if descending else column.asc()
    ties = [Trace.start_us.desc(), Trace.id.desc()] if descending else [Trace.start_us, Trace.id]
    if sort == "start":
        return [primary, ties[1]]
    return [primary.nulls_last(), *ties]


def _page_rows(chosen, sort: str, descending: bool):
    """The shown columns of the chosen page, with each trace's first failing step."""
    step = aliased(Observation)
    failing = (
        select(step.id)
        .where(step.trace_pk == Trace.id, step.status == str(SpanStatus.ERROR))
        .order_by(step.start_us, step.id)
        .limit(1)
        .correlate(Trace)
        .scalar_subquery()
    )
    return (
        select(
            Trace.trace_id,
            Trace.name,
            User.external_id.label("user"),
            User.name.label("user_name"),
            Team.name.label("team"),
            Trace.agent,
            Trace.status,
            Trace.start_us,
            Trace.duration_ms,
            Trace.cost_usd,
            (Trace.input_tokens + Trace.output_tokens).label("tokens"),
            Observation.name.label("failed_step"),
            Observation.error_type,
            Observation.status_message,
        )
        .select_from(chosen)
        .join(Trace, Trace.id == chosen.c.pk)
        .outerjoin(User, User.id == Trace.user_id)
        .outerjoin(Team, Team.id == Trace.team_id)
        .outerjoin(Observation, Observation.id == failing)
        .order_by(*_ordering(sort, descending))
    )


def error_text(error_type: str | None, message: str | None) -> str:
    """``"Type: message"``, or whichever of the two is there."""
    return ": ".join(part for part in (error_type or "", message or "") if part)


def _frame(rows: list) -> pd.DataFrame:
    records = [
        {
            "trace_id": row.trace_id,
            "name": row.name,
            "user": row.user or "",
            "user_name": row.user_name or "",
            "team": row.team or "",
            "agent": row.agent,
            "status": row.status,
            "started": pd.Timestamp(int(row.start_us), unit="us"),
            "duration_s": None if row.duration_ms is None else float(row.duration_ms) / 1000,
            "cost_usd": float(row.cost_usd),
            "tokens": int(row.tokens),
            "failed_step": row.failed_step or "",
            "error": error_text(row.error_type, row.status_message),
        }
        for row in rows
    ]
    return list_frame(records, TRACE_COLUMNS)
