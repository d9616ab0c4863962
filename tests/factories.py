"""Build known datasets in a store for tests: teams, users, sessions, traces and their spans.

    ds = Dataset(engine)                      # organization "default" (created if missing)
    ds.team("alpha")
    ds.user("ana", team="alpha", created=datetime(2026, 1, 1))
    ds.trace("t1", user="ana", session="s1", start=datetime(2026, 3, 3, 23, 50), spans=[
        root("/review", seconds=1200),
        generation(at=60, input_tokens=1000, output_tokens=200, cost_usd=0.01),
        tool("search", at=120),
    ])

Datetimes without a zone are UTC. A span's ``at`` and ``seconds`` are offsets from
the trace's start. Each observation carries its trace's context (user, team,
session, environment, module, agent) unless the span overrides it; the trace row
is derived with :func:`telemetry.derive.summarize_trace`, the same function every
writer uses, and costs are stored as given. Every write updates the users'
first/last trace times, refreshes the daily rollups of the days it touched (as
every writer must, see :mod:`telemetry.rollups`) and bumps the organization's
data version.

``ds.users``, ``ds.traces`` and ``ds.observations`` keep the rows exactly as
written, so tests can compute expected values in plain Python over them.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, update

from telemetry.derive import summarize_trace
from telemetry.models import (
    CostSource,
    Observation,
    ObservationKind,
    Session,
    SpanStatus,
    Trace,
    User,
    UserStatus,
)
from telemetry.rollups import refresh_rollups
from telemetry.store import bump_data_version, ensure_org, ensure_team
from telemetry.timeutil import US_PER_SECOND, day_of_us, hour_of_us, month_of_us, to_us

ROOT = "root"
_USER_TEAM = object()  # default of Dataset.trace(team=...): the user's own team


@dataclass(frozen=True)
class SpanSpec:
    """One span of a trace, timed relative to the trace's start (seconds)."""

    name: str = "step"
    kind: str = ObservationKind.SPAN
    at: float = 0.0
    seconds: float | None = 1.0  # None: not ended yet
    span_id: str = ""  # "" = numbered automatically
    parent: str | None = ROOT  # None makes it a root span
    status: str = SpanStatus.UNSET
    error_type: str = ""
    status_message: str = ""
    operation: str = ""
    model: str = ""
    provider: str = ""
    tool_name: str = ""
    tool_type: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: float = 0.0
    cost_source: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)  # overrides, e.g. environment


def span(name: str = "step", **fields: Any) -> SpanSpec:
    """Any span; see :class:`SpanSpec` for the fields."""
    return SpanSpec(name=name, **fields)


def root(
    name: str = "run",
    *,
    seconds: float | None = 60.0,
    status: str = SpanStatus.OK,
    error_type: str = "",
    kind: str = ObservationKind.AGENT,
    **fields: Any,
) -> SpanSpec:
    """The root span: ``seconds=None`` leaves the trace running; ``status="error"``
    with ``error_type="timeout"`` makes it a timeout."""
    return SpanSpec(
        name=name,
        kind=kind,
        seconds=seconds,
        status=status,
        error_type=error_type,
        span_id=ROOT,
        parent=None,
        **fields,
    )


def generation(
    model: str = "gpt-4o",
    provider: str = "openai",
    *,
    at: float = 1.0,
    seconds: float = 2.0,
    cost_usd: float = 0.0,
    cost_source: str = CostSource.CATALOG,
    kind: str = ObservationKind.GENERATION,
    **fields: Any,
) -> SpanSpec:
    """An LLM call; its tokens and cost are stored exactly as given."""
    return SpanSpec(
        name=f"chat {model}",
        kind=kind,
        operation="embeddings" if kind == ObservationKind.EMBEDDING else "chat",
        at=at,
        seconds=seconds,
        model=model,
        provider=provider,
        cost_usd=cost_usd,
        cost_source=cost_source,
        **fields,
    )


def embedding(model: str = "text-embedding-3-small", provider: str = "openai", **fields: Any):
    return generation(model, provider, kind=ObservationKind.EMBEDDING, **fields)


def tool(
    name: str = "search",
    *,
    at: float = 1.0,
    seconds: float = 0.5,
    status: str = SpanStatus.OK,
    tool_type: str = "function",
    **fields: Any,
) -> SpanSpec:
    return SpanSpec(
        name=f"execute_tool {name}",
        kind=ObservationKind.TOOL,
        operation="execute_tool",
        at=at,
        seconds=seconds,
        status=status,
        tool_name=name,
        tool_type=tool_type,
        **fields,
    )


class Dataset:
    """Writes a known dataset into one organization of a store and remembers every row."""

    # The span builders, also reachable as ``ds.root(...)``, ``ds.generation(...)``...
    span = staticmethod(span)
    root = staticmethod(root)
    generation = staticmethod(generation)
    embedding = staticmethod(embedding)
    tool = staticmethod(tool)

    def __init__(self, engine: Engine, org: str = "default") -> None:
        self.engine = engine
        self.org = org
        with engine.begin() as conn:
            self.org_id = ensure_org(conn, org)
        self.teams: dict[str, int] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, int] = {}
        self.traces: list[dict[str, Any]] = []
        self.observations: list[dict[str, Any]] = []

    # --- directory ----------------------------------------------------------

    def team(self, name: str) -> int:
        if name not in self.teams:
            with self.engine.begin() as conn:
                self.teams[name] = ensure_team(conn, self.org_id, name)
                bump_data_version(conn, self.org_id)
        return self.teams[name]

    def user(
        self,
        external_id: str,
        *,
        team: str | None = None,
        status: str = UserStatus.ACTIVE,
        created: datetime | None = None,
        name: str = "",
        email: str = "",
        company: str = "",
    ) -> int:
        """Add a user; ``created=None`` means known since the epoch."""
        if external_id in self.users:
            raise ValueError(f"user {external_id!r} was already added to this dataset")
        row = {
            "org_id": self.org_id,
            "external_id": external_id,
            "name": name or external_id.title(),
            "email": email,
            "company": company,
            "team_id": self.team(team) if team is not None else None,
            "status": str(status),
            "created_us": 0 if created is None else to_us(created),
            "first_trace_us": None,
            "last_trace_us": None,
        }
        with self.engine.begin() as conn:
            row["id"] = conn.execute(insert(User).values(**row)).inserted_primary_key[0]
            bump_data_version(conn, self.org_id)
        self.users[external_id] = row
        return row["id"]

    def user_id(self, external_id: str) -> int:
        try:
            return self.users[external_id]["id"]
        except KeyError:
            raise KeyError(f"no user {external_id!r}; add it first with ds.user(...)") from None

    # --- telemetry ----------------------------------------------------------

    def trace(
        self,
        trace_id: str,
        *,
        start: datetime,
        user: str | None = None,
        team: Any = _USER_TEAM,
        session: str | None = None,
        environment: str = "production",
        module: str = "",
        agent: str = "",
        spans: list[SpanSpec] | None = None,
    ) -> dict[str, Any]:
        """Write one trace and its observations; return the trace row as stored.

        ``team`` defaults to the user's team; pass a name to record the trace
        under another team, or ``None`` for no team. ``spans`` defaults to one
        root span that ended fine after a minute.
        """
        user_id = self.user_id(user) if user is not None else None
        if team is _USER_TEAM:
            team_id = self.users[user]["team_id"] if user is not None else None
        else:
            team_id = self.team(team) if team is not None else None
        start_us = to_us(start)
        with self.engine.begin() as conn:
            session_id = self._session(conn, session, user_id, start_us)
            context = {
                "user_id": user_id,
                "team_id": team_id,
                "session_id": session_id,
                "environment": environment,
                "module": module,
                "agent": agent,
            }
            rows = [
                self._observation(spec, start_us, context)
                for spec in _numbered(spans if spans is not None else [root()])
            ]
            trace_row = {"org_id": self.org_id, "trace_id": trace_id, **summarize_trace(rows)}
            trace_row["id"] = conn.execute(insert(Trace).values(**trace_row)).inserted_primary_key[
                0
            ]
            for row in rows:
                row["trace_pk"] = trace_row["id"]
            conn.execute(insert(Observation), rows)
            days = {trace_row["start_day"], *(row["start_day"] for row in rows)}
            refresh_rollups(conn, self.org_id, days)
            self._touch_user(conn, user, trace_row["start_us"])
            bump_data_version(conn, self.org_id)
        self.traces.append(trace_row)
        self.observations.extend(rows)
        return trace_row

    def _session(self, conn, key: str | None, user_id: int | None, start_us: int) -> int | None:
        if key is None:
            return None
        if key not in self.sessions:
            self.sessions[key] = conn.execute(
                insert(Session).values(
                    org_id=self.org_id, session_key=key, user_id=user_id, created_us=start_us
                )
            ).inserted_primary_key[0]
        return self.sessions[key]

    def _observation(self, spec: SpanSpec, trace_start_us: int, context: dict) -> dict[str, Any]:
        start_us = trace_start_us + round(spec.at * US_PER_SECOND)
        end_us = None if spec.seconds is None else start_us + round(spec.seconds * US_PER_SECOND)
        return {
            "org_id": self.org_id,
            "span_id": spec.span_id,
            "parent_span_id": spec.parent or "",
            "name": spec.name,
            "kind": str(spec.kind),
            "operation": spec.operation,
            "status": str(spec.status),
            "status_message": spec.status_message,
            "error_type": spec.error_type,
            "start_us": start_us,
            "end_us": end_us,
            "duration_ms": None if end_us is None else (end_us - start_us) / 1000,
            "start_day": day_of_us(start_us),
            "start_hour": hour_of_us(start_us),
            "start_month": month_of_us(start_us),
            **context,
            **spec.context,
            "model": spec.model,
            "provider": spec.provider,
            "tool_name": spec.tool_name,
            "tool_type": spec.tool_type,
            "input_tokens": spec.input_tokens,
            "output_tokens": spec.output_tokens,
            "cache_read_tokens": spec.cache_read_tokens,
            "cache_write_tokens": spec.cache_write_tokens,
            "reasoning_tokens": spec.reasoning_tokens,
            "cost_usd": spec.cost_usd,
            "cost_source": str(spec.cost_source),
            "attributes": json.dumps(spec.attributes, sort_keys=True),
        }

    def _touch_user(self, conn, external_id: str | None, start_us: int) -> None:
        """Keep the user's first/last trace times as ingestion does (trace starts)."""
        if external_id is None:
            return
        row = self.users[external_id]
        first, last = row["first_trace_us"], row["last_trace_us"]
        row["first_trace_us"] = start_us if first is None else min(first, start_us)
        row["last_trace_us"] = start_us if last is None else max(last, start_us)
        conn.execute(
            update(User)
            .where(User.id == row["id"])
            .values(first_trace_us=row["first_trace_us"], last_trace_us=row["last_trace_us"])
        )


def _numbered(specs: list[SpanSpec]) -> list[SpanSpec]:
    """Give spans without an id a unique one (s1, s2, ...) within their trace."""
    counter = itertools.count(1)
    return [spec if spec.span_id else replace(spec, span_id=f"s{next(counter)}") for spec in specs]
