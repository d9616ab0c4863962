"""SQLite query plans of lookups that turned slow when an unrelated index was added.

Without table statistics SQLite picks its plan from the schema alone, so the
plan on this small store is the plan on a million traces. A lookup that walks a
whole organization's index instead of seeking one user's day shows up here as
the wrong index, long before anyone times it (bench/ does the timing).
"""

from __future__ import annotations

from sqlalchemy import event

from telemetry.queries import user_table
from telemetry.queries.observations import llm_call_durations
from telemetry.queries.scope import resolve_scope
from tests.users_billing_data import MARCH, build_month


def statements_of(engine, call) -> list[tuple[str, tuple]]:
    """Every SELECT that ``call`` sends, with its parameters."""
    seen: list[tuple[str, tuple]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def plan(engine, statement: str, parameters) -> list[str]:
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        return [row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]


def test_users_first_and_last_seen_seek_one_users_day(sqlite_engine):
    build_month(sqlite_engine)
    statements = statements_of(sqlite_engine, lambda: user_table(sqlite_engine, MARCH))
    listing = next(s for s in statements if "first_us" in s[0])
    steps = plan(sqlite_engine, *listing)
    subqueries = [step for step in steps if "trace" in step and "SEARCH" in step]
    assert subqueries, steps
    # Both correlated MIN/MAX(start_us) lookups use the user/day index, never the
    # organization-wide (org_id, start_us) index of the traces list.
    assert not any("ix_trace_org_start" in step for step in steps), steps
    seeks = [step for step in steps if "ix_trace_org_user_day_start" in step]
    assert len(seeks) >= 2, steps


def test_llm_call_latencies_are_read_from_an_index_alone(sqlite_engine):
    build_month(sqlite_engine)
    with sqlite_engine.connect() as conn:
        latencies = llm_call_durations(resolve_scope(conn, MARCH))
    statement = str(latencies.compile(sqlite_engine, compile_kwargs={"literal_binds": True}))
    steps = plan(sqlite_engine, statement, ())
    assert any("COVERING INDEX ix_obs_llm_latency" in step for step in steps), steps
