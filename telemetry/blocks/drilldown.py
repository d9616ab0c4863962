"""The drill-down lists' tables (Traces, Sessions, a session's traces, Live runs): page-only.

Their rows come from the paginated list queries; the specs say the columns: key
columns (who, status, cost, errors) first so they stay in view at 1440 px, the
user's name where the directory has one, the raw ids last (and in the CSV).
"""

from __future__ import annotations

import pandas as pd

from telemetry.blocks.common import display_names
from telemetry.blocks.formats import COUNT, DATETIME, DATETIME_SECONDS, SECONDS, USD, USD_FINE
from telemetry.blocks.model import BlockSpec, Column

# What the lists say above their search fields (so not a block caption under them).
TRACES_CAPTION = (
    "Every run that started in the period, newest first. Search by the start of a trace id or "
    "part of its name, or narrow by exact user id, status, agent, model (runs with an LLM call "
    "to it) or tool (runs that called it). Click a trace id to open its steps; the Error column "
    "shows the first failing step and why."
)
SESSIONS_CAPTION = (
    "A session is the runs (traces) that share a session id; it is listed when one of its runs "
    "started in the period, with its figures over those runs: duration = last run's end − "
    "first run's start, cost = its LLM calls, errors = runs with status error. Search matches "
    "part of the session id, user id or user name; pick a row (or a session below) to see its "
    "runs; the page's URL then opens it (?session=...)."
)
USER_HELP = "The user's name (their id where the directory has none); the id is the last column."


def with_user_label(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with a ``user_label`` column: the user's name, else their id."""
    if "user_name" not in rows:
        return rows.assign(user_label=rows["user"])
    return rows.assign(user_label=display_names(rows["user_name"], rows["user"]))


def _listed(data) -> pd.DataFrame:
    return with_user_label(data.rows)


TRACES = BlockSpec(
    "traces.list",
    "Traces",
    "table",
    "The period's runs, newest first.",
    query="trace_list",
    columns=(
        Column("user_label", "User", key=True, help=USER_HELP),
        Column("status", "Status", key=True),
        Column("cost_usd", "Cost (USD)", USD_FINE, key=True),
        Column("error", "Error", key=True, width="medium"),
        Column("started", "Started (UTC)", DATETIME_SECONDS),
        Column("name", "Name"),
        Column("agent", "Agent"),
        Column("team", "Team"),
        Column("duration_s", "Duration", SECONDS, help="Empty while the run is in progress."),
        Column("tokens", "Tokens", COUNT),
        Column("failed_step", "Failed step"),
        Column("user", "User id"),
        Column("trace_id", "Trace id"),
    ),
    rows=_listed,
)
SESSIONS = BlockSpec(
    "sessions.list",
    "Sessions",
    "table",
    "The period's sessions, newest first.",
    query="session_list",
    columns=(
        Column("session", "Session", key=True),
        Column("user_label", "User", key=True, help=USER_HELP),
        Column("cost_usd", "Cost (USD)", USD, key=True),
        Column("errors", "Errors", COUNT, key=True),
        Column("traces", "Traces", COUNT),
        Column("started", "Started (UTC)", DATETIME),
        Column("duration_s", "Duration", SECONDS),
        Column("team", "Team"),
        Column("user", "User id"),
    ),
    rows=_listed,
)
SESSION_TRACES = BlockSpec(
    "sessions.traces",
    "A session's traces",
    "table",
    "One session's runs in start order.",
    query="session_traces",
    columns=(
        Column("name", "Name", key=True),
        Column("status", "Status", key=True),
        Column("cost_usd", "Cost (USD)", USD_FINE, key=True),
        Column("started", "Started (UTC)", DATETIME_SECONDS),
        Column("duration_s", "Duration", SECONDS),
        Column("agent", "Agent"),
        Column("first_message", "First user message", width="large"),
        Column("trace_id", "Trace id"),
    ),
)
LIVE = BlockSpec(
    "live.runs",
    "Live runs",
    "table",
    "Runs in progress.",
    query="live_runs",
    columns=(
        Column("user_label", "User", key=True, help=USER_HELP),
        Column("elapsed_s", "Elapsed", SECONDS, key=True, help="Now minus the run's start."),
        Column("tokens", "Tokens so far", COUNT, key=True),
        Column("cost_usd", "Cost so far (USD)", USD_FINE, key=True),
        Column("name", "Name"),
        Column("agent", "Agent"),
        Column("team", "Team"),
        Column("started", "Started (UTC)", DATETIME_SECONDS),
        Column("tool_calls", "Tool calls so far", COUNT),
        Column("tool_errors", "Tool errors", COUNT),
        Column("generations", "LLM calls so far", COUNT),
        Column("user", "User id"),
        Column("trace_id", "Trace id"),
    ),
    rows=lambda runs: with_user_label(runs).assign(
        started=pd.to_datetime(runs["start_us"], unit="us"),
        # A clock that lags the agent's can put a start in the future: never a negative time.
        elapsed_s=(runs["elapsed_ms"].clip(lower=0) // 1000).astype("int64"),
    ),
)

PAGE_BLOCKS = (TRACES, SESSIONS, SESSION_TRACES, LIVE)
