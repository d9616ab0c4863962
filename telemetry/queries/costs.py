"""Tokens and cost (docs/metrics.md, "Tokens" and "Cost"): totals, per model, per team.

Token and cost figures sum LLM calls (generations and embeddings) by the
period of each call's own start; see :mod:`telemetry.queries.scope`. Input
tokens already include cached tokens; cache read/write are shown apart, never
added on top. They are read from the daily rollups (:mod:`telemetry.rollups`),
whose keys hold every dimension grouped or filtered on here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, Engine, func, select

from telemetry.filters import Filters
from telemetry.models import TOKEN_COLUMNS, CostSource, LlmDaily, Team, TraceDaily
from telemetry.queries.daily import total, total_cost, total_if
from telemetry.queries.rollup_scope import rollup_rows, rollup_where
from telemetry.queries.scope import NO_TEAM, Scope, Subject, cost_key, ratio, resolve_scope


@dataclass(frozen=True)
class UsageTotals:
    """Token and cost totals of the period's LLM calls.

    ``generations`` counts LLM calls (generations and embeddings);
    ``priced_generations`` those whose cost source is not ``unpriced``;
    ``priced_share`` = priced ÷ all, ``None`` when there were no calls.
    """

    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    cost_usd: float
    generations: int
    priced_generations: int
    priced_share: float | None

    @property
    def tokens(self) -> int:
        """Input + output tokens (input already includes cached ones)."""
        return self.input_tokens + self.output_tokens


def usage_totals(engine: Engine, filters: Filters, subject: Subject | None = None) -> UsageTotals:
    """The :class:`UsageTotals` of ``filters`` (narrowed to ``subject``): one aggregate."""
    with engine.connect() as conn:
        return usage_totals_in(conn, resolve_scope(conn, filters, subject))


def usage_totals_in(conn: Connection, scope: Scope) -> UsageTotals:
    calls = rollup_rows(scope, LlmDaily)
    row = conn.execute(
        select(
            *(total(getattr(calls, name)) for name in TOKEN_COLUMNS),
            total_cost(calls.cost_usd),
            total(calls.calls),
            total_if(calls.cost_source != str(CostSource.UNPRICED), calls.calls),
        ).where(rollup_where(scope, calls))
    ).one()
    tokens = {name: int(value) for name, value in zip(TOKEN_COLUMNS, row[:5], strict=True)}
    generations, priced = int(row[6]), int(row[7])
    return UsageTotals(
        **tokens,
        cost_usd=float(row[5]),
        generations=generations,
        priced_generations=priced,
        priced_share=ratio(priced, generations),
    )


COST_BY_MODEL_COLUMNS = [
    "provider",
    "model",
    "calls",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost_usd",
    "unpriced_calls",
]


def cost_by_model(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Calls, tokens and cost per provider and model, plus how many calls had no price.

    ``DataFrame[provider, model, calls, input_tokens, output_tokens,
    cache_read_tokens, cache_write_tokens, cost_usd, unpriced_calls]``, sorted
    by cost (most first), then calls (most first), then provider and model.
    """
    with engine.connect() as conn:
        return cost_by_model_in(conn, resolve_scope(conn, filters))


def cost_by_model_in(conn: Connection, scope: Scope) -> pd.DataFrame:
    calls = rollup_rows(scope, LlmDaily)
    rows = conn.execute(
        select(
            calls.provider,
            calls.model,
            total(calls.calls),
            *(total(getattr(calls, name)) for name in TOKEN_COLUMNS[:4]),
            total_cost(calls.cost_usd),
            total_if(calls.cost_source == str(CostSource.UNPRICED), calls.calls),
        )
        .where(rollup_where(scope, calls))
        .group_by(calls.provider, calls.model)
    ).all()
    records = [
        (row[0], row[1], *(int(v) for v in row[2:7]), float(row[7]), int(row[8])) for row in rows
    ]
    records.sort(key=lambda r: (-cost_key(r[7]), -r[2], r[0], r[1]))
    return pd.DataFrame(records, columns=COST_BY_MODEL_COLUMNS)


def by_team(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Active users, traces and cost per team: ``DataFrame[team, users_active, traces, cost_usd]``.

    Users and traces come from the period's traces (by the trace's team), cost
    from the period's LLM calls (by the call's team). Traces and calls with no
    team appear as ``"(no team)"``, which can only happen when no team filter is
    active. Teams with neither a trace nor a cost in the period are left out.
    Sorted by cost (most first), then traces (most first), then team name.
    """
    with engine.connect() as conn:
        return by_team_in(conn, resolve_scope(conn, filters))


def by_team_in(conn: Connection, scope: Scope) -> pd.DataFrame:
    traces = rollup_rows(scope, TraceDaily)
    runs = conn.execute(
        select(
            traces.team_id,
            func.count(func.distinct(traces.user_id)),
            total(traces.traces),
        )
        .where(rollup_where(scope, traces))
        .group_by(traces.team_id)
    ).all()
    calls = rollup_rows(scope, LlmDaily)
    costs = conn.execute(
        select(calls.team_id, total_cost(calls.cost_usd))
        .where(rollup_where(scope, calls))
        .group_by(calls.team_id)
    ).all()
    names = dict(conn.execute(select(Team.id, Team.name).where(Team.org_id == scope.org_id)).all())
    teams: dict[str, list] = {}
    for team_id, users, traces in runs:
        teams[names.get(team_id, NO_TEAM)] = [int(users), int(traces), 0.0]
    for team_id, cost in costs:
        teams.setdefault(names.get(team_id, NO_TEAM), [0, 0, 0.0])[2] = float(cost)
    records = [(team, *values) for team, values in teams.items()]
    records.sort(key=lambda r: (-cost_key(r[3]), -r[2], r[0]))
    return pd.DataFrame(records, columns=["team", "users_active", "traces", "cost_usd"])
