"""Runs in progress (the Live runs page): traces whose root span has not ended yet.

The period filter does not apply: a live run is one that is running now. Runs
that started more than :data:`LIVE_WINDOW_US` ago and never ended are taken as
abandoned (their root span was lost) and left out; the Traces page still lists
them as running. Team and environment filters apply as everywhere.

"So far" figures are the trace row's own, which every ingest batch recomputes
from all the spans stored until then (``telemetry.derive.summarize_trace``):
tool calls counted over tool spans, tokens over LLM calls only.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import BigInteger, Connection, Engine, false, func, literal, select

from telemetry.filters import Filters
from telemetry.models import Team, Trace, TraceStatus, User
from telemetry.queries.scope import Scope, resolve_scope, team_conditions
from telemetry.timeutil import US_PER_DAY

LIVE_WINDOW_US = US_PER_DAY
LIVE_COLUMNS = (
    "trace_id",
    "name",
    "agent",
    "user",
    "user_name",
    "team",
    "environment",
    "status",
    "start_us",
    "elapsed_ms",
    "tool_calls",
    "tool_errors",
    "generations",
    "tokens",
    "cost_usd",
)


def live_runs(
    engine: Engine | Connection, filters: Filters | Scope, now_us: int, limit: int = 100
) -> pd.DataFrame:
    """Running traces started in the 24 hours before ``now_us``, newest first (``limit`` rows).

    Columns: :data:`LIVE_COLUMNS`; ``elapsed_ms`` = ``now_us`` − start, ``tokens`` =
    input (cached included) + output tokens of the LLM calls stored so far.
    """
    if isinstance(engine, Connection):
        return _live(engine, filters, now_us, limit)
    with engine.connect() as conn:
        return _live(conn, filters, now_us, limit)


def _live(conn: Connection, filters: Filters | Scope, now_us: int, limit: int) -> pd.DataFrame:
    scope = filters if isinstance(filters, Scope) else resolve_scope(conn, filters)
    now = literal(int(now_us), BigInteger)
    conditions = [
        Trace.org_id == scope.org_id,
        Trace.status == str(TraceStatus.RUNNING),
        Trace.start_us >= int(now_us) - LIVE_WINDOW_US,
        *team_conditions(scope, Trace.team_id),
    ]
    if scope.environments is not None:
        conditions.append(
            Trace.environment.in_(scope.environments) if scope.environments else false()
        )
    query = (
        select(
            Trace.trace_id,
            Trace.name,
            Trace.agent,
            func.coalesce(User.external_id, "").label("user"),
            func.coalesce(User.name, "").label("user_name"),
            func.coalesce(Team.name, "").label("team"),
            Trace.environment,
            Trace.status,
            Trace.start_us,
            ((now - Trace.start_us) / 1000.0).label("elapsed_ms"),
            Trace.tool_calls,
            Trace.tool_errors,
            Trace.generations,
            (Trace.input_tokens + Trace.output_tokens).label("tokens"),
            Trace.cost_usd,
        )
        .outerjoin(User, User.id == Trace.user_id)
        .outerjoin(Team, Team.id == Trace.team_id)
        .where(*conditions)
        .order_by(Trace.start_us.desc(), Trace.trace_id)
        .limit(limit)
    )
    rows = conn.execute(query).all()
    frame = pd.DataFrame([tuple(row) for row in rows], columns=list(LIVE_COLUMNS))
    return frame.astype(
        {
            "start_us": "int64",
            "elapsed_ms": "float64",
            "tool_calls": "int64",
            "tool_errors": "int64",
            "generations": "int64",
            "tokens": "int64",
            "cost_usd": "float64",
        }
    )
