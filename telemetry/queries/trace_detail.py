"""One trace in full (the trace view): its row, its observations as a tree, events, errors.

Access: a trace is looked up by organization and trace id under the caller's
team and environment filters, but NOT the period: a deep link to a trace keeps
working whatever period the sidebar shows, while a trace of a team or
environment outside the filters is answered ``None``, exactly as a trace id that
does not exist, so nobody can probe other teams' ids.

Content (prompts, responses, tool arguments and results) is read from the store
only when ``include_content`` is true; otherwise it is not selected at all and
content-bearing event attributes are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, false, func, select

from telemetry.filters import Filters
from telemetry.models import Observation, Session, Team, Trace, TraceStatus, User
from telemetry.queries.scope import Scope, resolve_scope, team_conditions
from telemetry.queries.trace_tree import ObservationNode, TraceEvent, build_tree
from telemetry.store import trace_pk

__all__ = [
    "MAX_OBSERVATIONS",
    "ObservationNode",
    "TraceDetail",
    "TraceEvent",
    "TraceSummary",
    "build_tree",
    "trace_detail",
]

# Beyond this, the earliest observations are shown and the view says how many are stored.
MAX_OBSERVATIONS = 5_000


@dataclass(frozen=True)
class TraceSummary:
    """The trace row: who, where, when, how it ended, and its totals (docs/metrics.md)."""

    trace_id: str
    name: str
    status: str
    user: str
    team: str
    session: str
    agent: str
    module: str
    environment: str
    start_us: int
    end_us: int | None
    duration_ms: float | None
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    cost_usd: float
    generations: int
    tool_calls: int
    tool_errors: int
    error_type: str
    error_message: str
    user_name: str = ""  # the user's directory name ("" when none); ``user`` is the id

    @property
    def tokens(self) -> int:
        """Input (cached included) + output tokens of the trace's LLM calls."""
        return self.input_tokens + self.output_tokens

    @property
    def running(self) -> bool:
        return self.status == TraceStatus.RUNNING

    @property
    def failed(self) -> bool:
        return self.status in (TraceStatus.ERROR, TraceStatus.TIMEOUT)


@dataclass(frozen=True)
class TraceDetail:
    trace: TraceSummary
    observations: tuple[ObservationNode, ...]
    events: tuple[TraceEvent, ...]
    total_observations: int  # stored; more than shown when capped
    include_content: bool

    @property
    def truncated(self) -> bool:
        return self.total_observations > len(self.observations)

    @property
    def errors(self) -> list[ObservationNode]:
        return [node for node in self.observations if node.is_error]

    @property
    def failing_step(self) -> ObservationNode | None:
        """Where the run failed: the first errored step to end (an error bubbling up
        ends its parents later), deepest first on a tie; running ones last."""
        errors = self.errors
        if not errors:
            return None
        never = float("inf")
        return min(
            errors,
            key=lambda n: (never if n.end_us is None else n.end_us, -n.depth, n.step),
        )


def trace_detail(
    engine: Engine | Connection,
    filters_or_scope: Filters | Scope,
    trace_id: str,
    include_content: bool,
) -> TraceDetail | None:
    """The trace ``trace_id`` of the filters' organization, teams and environments
    (any period), or ``None`` when it does not exist or lies outside them.

    At most :data:`MAX_OBSERVATIONS` observations are returned (the earliest);
    ``total_observations`` says how many are stored.
    """
    if isinstance(engine, Connection):
        return _detail(engine, filters_or_scope, trace_id, include_content)
    with engine.connect() as conn:
        return _detail(conn, filters_or_scope, trace_id, include_content)


def _detail(
    conn: Connection, filters_or_scope: Filters | Scope, trace_id: str, include_content: bool
) -> TraceDetail | None:
    scope = (
        filters_or_scope
        if isinstance(filters_or_scope, Scope)
        else resolve_scope(conn, filters_or_scope)
    )
    found = _trace_row(conn, scope, trace_id)
    if found is None:
        return None
    trace_pk, summary = found
    rows = _observation_rows(conn, trace_pk, include_content)
    total = len(rows)
    if total > MAX_OBSERVATIONS:
        rows = rows[:MAX_OBSERVATIONS]
        total = conn.execute(
            select(func.count()).select_from(Observation).where(Observation.trace_pk == trace_pk)
        ).scalar_one()
    nodes, events = build_tree(rows, summary.start_us, include_content)
    return TraceDetail(summary, tuple(nodes), tuple(events), total, include_content)


def _trace_row(conn: Connection, scope: Scope, trace_id: str) -> tuple[int, TraceSummary] | None:
    # The row id first, by the lookup the writer uses: filtered by organization and
    # trace id at once, PostgreSQL may read all of a new organization's traces.
    pk = trace_pk(conn, scope.org_id, trace_id)
    if pk is None:
        return None
    conditions = [Trace.id == pk, *team_conditions(scope, Trace.team_id)]
    if scope.environments is not None:
        conditions.append(
            Trace.environment.in_(scope.environments) if scope.environments else false()
        )
    query = (
        select(
            *_TRACE_COLUMNS,
            func.coalesce(User.external_id, "").label("user"),
            func.coalesce(User.name, "").label("user_name"),
            func.coalesce(Team.name, "").label("team"),
            func.coalesce(Session.session_key, "").label("session"),
        )
        .outerjoin(User, User.id == Trace.user_id)
        .outerjoin(Team, Team.id == Trace.team_id)
        .outerjoin(Session, Session.id == Trace.session_id)
        .where(*conditions)
    )
    row = conn.execute(query).mappings().first()
    if row is None:
        return None
    fields = {name: row[name] for name in TraceSummary.__dataclass_fields__}
    return row["id"], TraceSummary(**fields)


_TRACE_COLUMNS = (
    Trace.id,
    *(
        getattr(Trace, name)
        for name in TraceSummary.__dataclass_fields__
        if name not in ("user", "user_name", "team", "session")
    ),
)


_METADATA_COLUMNS = tuple(
    column
    for column in Observation.__table__.columns
    if column.name not in ("id", "org_id", "trace_pk", "input_content", "output_content")
)
_CONTENT_COLUMNS = (Observation.input_content, Observation.output_content)


def _observation_rows(
    conn: Connection, trace_pk: int, include_content: bool
) -> list[Mapping[str, Any]]:
    # Content columns are not even selected for a caller who may not see them.
    columns = _METADATA_COLUMNS + (_CONTENT_COLUMNS if include_content else ())
    query = (
        select(*columns)
        .where(Observation.trace_pk == trace_pk)
        .order_by(Observation.start_us, Observation.span_id)
        .limit(MAX_OBSERVATIONS + 1)
    )
    return list(conn.execute(query).mappings())
