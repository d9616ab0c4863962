"""Generated or modified code and task outcomes (docs/metrics.md), by agent or by team.

Both are attributes that only some agents report (``code.lines_added`` /
``code.lines_removed`` and ``task.outcome`` on their spans, kept on the trace
row). Over the traces started in the period: ``traces_with_code`` = traces
reporting either line count, ``lines_added`` / ``lines_removed`` their sums,
``lines_changed`` = added + removed; ``traces_with_outcome`` = traces with a
``task.outcome``, counted as ``clean``, ``revised``, ``regression`` and
``other_outcome`` (any other value). Groups with no report at all are left
out, so an empty frame means no agent reported either. Read from the daily trace
rollup (``trace_daily`` keeps these counts per agent and team).
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, select

from telemetry.filters import Filters
from telemetry.models import Team, TraceDaily
from telemetry.queries.activity import NO_AGENT
from telemetry.queries.daily import total
from telemetry.queries.rollup_scope import rollup_rows, rollup_where
from telemetry.queries.scope import NO_TEAM, resolve_scope

OUTCOMES = ("clean", "revised", "regression")
GROUPINGS = ("agent", "team")
OUTCOME_COLUMNS = [
    "traces_with_code",
    "lines_added",
    "lines_removed",
    "lines_changed",
    "traces_with_outcome",
    *OUTCOMES,
    "other_outcome",
]


def code_and_outcomes(engine: Engine, filters: Filters, *, by: str = "agent") -> pd.DataFrame:
    """``DataFrame[agent | team, OUTCOME_COLUMNS...]``, most changed lines first.

    ``by`` is ``"agent"`` (the trace's agent, ``"(no agent)"`` when none) or
    ``"team"`` (the trace's team, ``"(no team)"`` when none).
    """
    if by not in GROUPINGS:
        raise ValueError(f"cannot group code and outcomes by {by!r}; use one of {GROUPINGS}")
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        daily = rollup_rows(scope, TraceDaily)
        group = daily.agent if by == "agent" else daily.team_id
        reported = total(daily.traces_with_code) + total(daily.traces_with_outcome)
        rows = conn.execute(
            select(
                group,
                total(daily.traces_with_code),
                total(daily.code_lines_added),
                total(daily.code_lines_removed),
                total(daily.traces_with_outcome),
                *(total(getattr(daily, f"outcome_{outcome}")) for outcome in OUTCOMES),
            )
            .where(rollup_where(scope, daily))
            .group_by(group)
            .having(reported > 0)  # groups without any report are left out
        ).all()
        teams = dict(
            conn.execute(select(Team.id, Team.name).where(Team.org_id == scope.org_id)).all()
        )
    records = []
    for key, with_code, added, removed, with_outcome, *counts in rows:
        name = (key or NO_AGENT) if by == "agent" else teams.get(key, NO_TEAM)
        counts = [int(count) for count in counts]
        added, removed = int(added), int(removed)
        other = int(with_outcome) - sum(counts)
        records.append(
            (
                name,
                int(with_code),
                added,
                removed,
                added + removed,
                int(with_outcome),
                *counts,
                other,
            )
        )
    records.sort(key=lambda r: (-r[4], -r[5], r[0]))
    return pd.DataFrame(records, columns=[by, *OUTCOME_COLUMNS])
