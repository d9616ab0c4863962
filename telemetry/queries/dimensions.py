"""The agents, models, teams and users an organization's data names: for pickers and checks.

Read from the daily rollups (agents of traces and of LLM calls, models of LLM
calls) and the directory (teams, users). ``scope`` restricts them to a period,
teams and environments; ``org_values`` looks at every day the store holds.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from telemetry.models import LlmDaily, Team, TraceDaily, User
from telemetry.queries.rollup_scope import rollup_rows, rollup_where
from telemetry.queries.scope import Scope


def agents_in(conn: Connection, scope: Scope) -> list[str]:
    """Named agents with a trace or an LLM call in the scope, sorted."""
    found: set = set()
    for model in (TraceDaily, LlmDaily):
        rows = rollup_rows(scope, model)
        found |= set(conn.execute(select(rows.agent).where(rollup_where(scope, rows)).distinct()))
    return sorted(agent for (agent,) in found if agent)


def models_in(conn: Connection, scope: Scope) -> list[str]:
    """Named models with an LLM call in the scope, sorted."""
    rows = rollup_rows(scope, LlmDaily)
    found = conn.execute(select(rows.model).where(rollup_where(scope, rows)).distinct())
    return sorted(model for (model,) in found if model)


def org_values(conn: Connection, org_id: int, kind: str) -> list[str]:
    """Every ``team``, ``agent``, ``model`` or ``user`` (external id) the organization has."""
    if kind == "team":
        query = select(Team.name).where(Team.org_id == org_id)
    elif kind == "user":
        query = select(User.external_id).where(User.org_id == org_id)
    elif kind == "model":
        query = select(LlmDaily.model).where(LlmDaily.org_id == org_id).distinct()
    elif kind == "agent":
        traces = select(TraceDaily.agent).where(TraceDaily.org_id == org_id)
        calls = select(LlmDaily.agent).where(LlmDaily.org_id == org_id)
        query = traces.union(calls)
    else:
        raise ValueError(f"unknown dimension {kind!r}; use team, agent, model or user")
    return sorted(value for (value,) in conn.execute(query) if value)
