"""SQLite query plans of lookups that turned slow when an unrelated index was added.

Without table statistics SQLite picks its plan from the schema alone, so the
plan on this small store is the plan on a million traces. A lookup that walks a
whole organization's index instead of seeking one user's day shows up here as
the wrong index, long before anyone times it (bench/ does the timing).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import event

from telemetry.ingest.directory import moved_team_update
from telemetry.queries import user_table
from telemetry.queries.observations import llm_call_durations
from telemetry.queries.scope import resolve_scope
from telemetry.rollup_deltas import key_delete_sql
from telemetry.rollup_tables import ROLLUPS
from telemetry.timeutil import day_number
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


def _plan_of(engine, statement) -> list[str]:
    compiled = statement.compile(dialect=engine.dialect)
    parameters = [compiled.params[name] for name in compiled.positiontup]
    return plan(engine, str(compiled), parameters)


def test_rollup_upkeep_touches_one_key_or_one_sessions_day(sqlite_engine):
    """The ingest writer's rollup statements seek a key, never a whole (busy) day."""
    ds = build_month(sqlite_engine)
    sessions = next(r for r in ROLLUPS if r.table.name == "session_daily")
    key = (day_number(date(2026, 3, 2)), ds.teams["alpha"], "production", "", ds.sessions["s1"])
    steps = _plan_of(sqlite_engine, sessions.aggregate_key(ds.org_id, key))
    assert any(
        "ix_trace_org_session_probe (org_id=? AND session_id=? AND start_us>?" in s for s in steps
    ), steps
    for rollup in ROLLUPS:
        keys = [f"{n}=?" if n not in rollup.nullable_keys else "<expr>=?" for n in rollup.key_names]
        row = (ds.org_id, key[0], *([1] * (len(keys) - 2)))
        steps = plan(sqlite_engine, key_delete_sql(rollup, "?"), row)
        table = rollup.table.name
        assert steps == [f"SEARCH {table} USING INDEX ux_{table}_key ({' AND '.join(keys)})"]


def test_team_moves_seek_the_moved_users_rows(sqlite_engine):
    """The directory's one UPDATE per table finds each moved user's rows by index."""
    ds = build_month(sqlite_engine)
    moves = [(ds.user_id("ana"), ds.teams["alpha"], ds.teams["beta"]), (ds.user_id("bob"), None, 3)]
    for table, index in (
        ("trace", "ix_trace_org_user_day_start"),
        ("observation", "ix_obs_org_user_day"),
    ):
        statement, parameters = moved_team_update(table, ds.org_id, moves)
        steps = _plan_of(sqlite_engine, statement.bindparams(**parameters))
        seek = f"SEARCH {table} USING COVERING INDEX {index} (org_id=? AND user_id=?)"
        assert seek in steps, steps
        assert not any(f"SCAN {table}" in step for step in steps), steps
