"""The record kinds an export can hold: each one query, its columns and which are content.

Adding a kind is one entry in :data:`KINDS`: a name and
a function building the SELECT of its rows for a :class:`~telemetry.queries.scope.Scope`.
Rows belong to the period their own start falls in (a span by its own start, as
in every figure of the dashboard); team, environment, agent and model filters
apply to the row's own columns, and a model filter narrows trace-level kinds to
traces with an LLM call of that model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, select

from telemetry.models import (
    LLM_CALL_KINDS,
    Observation,
    ObservationKind,
    Score,
    Session,
    Team,
    Trace,
    User,
)
from telemetry.queries.scope import Scope, in_period, team_and_environment

LLM_KINDS = [str(kind) for kind in LLM_CALL_KINDS]


@dataclass(frozen=True)
class Column:
    name: str
    sql: ColumnElement
    content: bool = False  # prompts, responses, tool arguments, messages: admins only
    time: bool = False  # epoch microseconds, written as RFC 3339


@dataclass(frozen=True)
class ExportKind:
    name: str
    title: str
    columns: Callable[[], list[Column]]
    base: Callable[[Scope, list[ColumnElement]], Select]  # SELECT of the chosen columns

    def query(self, scope: Scope, *, content: bool) -> tuple[list[Column], Select]:
        chosen = [column for column in self.columns() if content or not column.content]
        return chosen, self.base(scope, [column.sql.label(column.name) for column in chosen])


def _model_traces(scope: Scope, trace_pk) -> list[ColumnElement[bool]]:
    model = scope.subject.model if scope.subject else None
    if model is None:
        return []
    call = exists().where(
        Observation.trace_pk == trace_pk,
        Observation.kind.in_(LLM_KINDS),
        Observation.model == model,
    )
    return [call]


def _agent(scope: Scope, column) -> list[ColumnElement[bool]]:
    agent = scope.subject.agent if scope.subject else None
    return [] if agent is None else [column == agent]


def _trace_scope(scope: Scope) -> ColumnElement[bool]:
    return and_(
        Trace.org_id == scope.org_id,
        *in_period(scope, Trace.start_day, Trace.start_us),
        *team_and_environment(scope, Trace.team_id, Trace.environment),
        *_agent(scope, Trace.agent),
        *_model_traces(scope, Trace.id),
    )


def _trace_columns() -> list[Column]:
    return [
        Column("trace_id", Trace.trace_id),
        Column("name", Trace.name),
        Column("start", Trace.start_us, time=True),
        Column("end", Trace.end_us, time=True),
        Column("duration_ms", Trace.duration_ms),
        Column("status", Trace.status),
        Column("user_id", User.external_id),
        Column("team", Team.name),
        Column("environment", Trace.environment),
        Column("module", Trace.module),
        Column("agent", Trace.agent),
        Column("session_id", Session.session_key),
        Column("input_tokens", Trace.input_tokens),
        Column("output_tokens", Trace.output_tokens),
        Column("cache_read_tokens", Trace.cache_read_tokens),
        Column("cache_write_tokens", Trace.cache_write_tokens),
        Column("reasoning_tokens", Trace.reasoning_tokens),
        Column("cost_usd", Trace.cost_usd),
        Column("generations", Trace.generations),
        Column("tool_calls", Trace.tool_calls),
        Column("tool_errors", Trace.tool_errors),
        Column("error_type", Trace.error_type),
        Column("error_message", Trace.error_message, content=True),
    ]


def _traces(scope: Scope, columns: list[ColumnElement]) -> Select:
    return (
        select(*columns)
        .select_from(Trace)
        .outerjoin(User, User.id == Trace.user_id)
        .outerjoin(Team, Team.id == Trace.team_id)
        .outerjoin(Session, Session.id == Trace.session_id)
        .where(_trace_scope(scope))
        .order_by(Trace.start_us, Trace.id)
    )


def _span_columns(extra: list[Column]) -> list[Column]:
    return [
        Column("trace_id", Trace.trace_id),
        Column("span_id", Observation.span_id),
        Column("parent_span_id", Observation.parent_span_id),
        Column("name", Observation.name),
        Column("start", Observation.start_us, time=True),
        Column("end", Observation.end_us, time=True),
        Column("duration_ms", Observation.duration_ms),
        Column("status", Observation.status),
        Column("error_type", Observation.error_type),
        Column("user_id", User.external_id),
        Column("team", Team.name),
        Column("environment", Observation.environment),
        Column("agent", Observation.agent),
        *extra,
        Column("input_content", Observation.input_content, content=True),
        Column("output_content", Observation.output_content, content=True),
    ]


def _generation_columns() -> list[Column]:
    return _span_columns(
        [
            Column("kind", Observation.kind),
            Column("provider", Observation.provider),
            Column("model", Observation.model),
            Column("input_tokens", Observation.input_tokens),
            Column("output_tokens", Observation.output_tokens),
            Column("cache_read_tokens", Observation.cache_read_tokens),
            Column("cache_write_tokens", Observation.cache_write_tokens),
            Column("reasoning_tokens", Observation.reasoning_tokens),
            Column("cost_usd", Observation.cost_usd),
            Column("cost_source", Observation.cost_source),
        ]
    )


def _tool_columns() -> list[Column]:
    return _span_columns(
        [Column("tool_name", Observation.tool_name), Column("tool_type", Observation.tool_type)]
    )


def _spans(kinds: list[str], *, model_on_row: bool):
    def build(scope: Scope, columns: list[ColumnElement]) -> Select:
        model = scope.subject.model if scope.subject else None
        if model is None:
            by_model = []
        elif model_on_row:
            by_model = [Observation.model == model]
        else:
            by_model = _model_traces(scope, Observation.trace_pk)
        return (
            select(*columns)
            .select_from(Observation)
            .join(Trace, Trace.id == Observation.trace_pk)
            .outerjoin(User, User.id == Observation.user_id)
            .outerjoin(Team, Team.id == Observation.team_id)
            .where(
                Observation.org_id == scope.org_id,
                *in_period(scope, Observation.start_day, Observation.start_us),
                Observation.kind.in_(kinds),
                *team_and_environment(scope, Observation.team_id, Observation.environment),
                *_agent(scope, Observation.agent),
                *by_model,
            )
            .order_by(Observation.start_us, Observation.id)
        )

    return build


def _session_columns() -> list[Column]:
    return [
        Column("session_id", Session.session_key),
        Column("user_id", func.max(User.external_id)),
        Column("first_start", func.min(Trace.start_us), time=True),
        Column("last_end", func.max(Trace.end_us), time=True),
        Column("traces", func.count(Trace.id)),
        Column("error_traces", func.sum(case((Trace.status == "error", 1), else_=0))),
        Column("input_tokens", func.sum(Trace.input_tokens)),
        Column("output_tokens", func.sum(Trace.output_tokens)),
        Column("cost_usd", func.sum(Trace.cost_usd)),
    ]


def _sessions(scope: Scope, columns: list[ColumnElement]) -> Select:
    """Sessions with a trace in the scope, summed over those traces."""
    return (
        select(*columns)
        .select_from(Trace)
        .join(Session, Session.id == Trace.session_id)
        .outerjoin(User, User.id == Session.user_id)
        .where(_trace_scope(scope))
        .group_by(Session.id, Session.session_key)
        .order_by(func.min(Trace.start_us), Session.id)
    )


def _score_columns() -> list[Column]:
    return [
        Column("trace_id", Score.trace_id),
        Column("span_id", Score.span_id),
        Column("name", Score.name),
        Column("value", Score.value),
        Column("label", Score.label),
        Column("source", Score.source),
        Column("author", Score.author),
        Column("time", Score.time_us, time=True),
        Column("user_id", User.external_id),
        Column("team", Team.name),
        Column("comment", Score.comment, content=True),
    ]


def _scores(scope: Scope, columns: list[ColumnElement]) -> Select:
    """Scores of the traces in the scope (a score belongs to its trace's period)."""
    return (
        select(*columns)
        .select_from(Score)
        .join(Trace, Trace.id == Score.trace_pk)
        .outerjoin(User, User.id == Trace.user_id)
        .outerjoin(Team, Team.id == Trace.team_id)
        .where(Score.org_id == scope.org_id, _trace_scope(scope))
        .order_by(Trace.start_us, Score.id)
    )


KINDS: dict[str, ExportKind] = {
    kind.name: kind
    for kind in (
        ExportKind("sessions", "Sessions", _session_columns, _sessions),
        ExportKind("traces", "Traces", _trace_columns, _traces),
        ExportKind(
            "generations",
            "Generations (LLM calls)",
            _generation_columns,
            _spans(LLM_KINDS, model_on_row=True),
        ),
        ExportKind(
            "tool_runs",
            "Tool runs",
            _tool_columns,
            _spans([str(ObservationKind.TOOL)], model_on_row=False),
        ),
        ExportKind("scores", "Scores", _score_columns, _scores),
    )
}
