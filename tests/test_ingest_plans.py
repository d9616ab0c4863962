"""PostgreSQL: the writer's lookups (and the trace view's) stay one index probe per key,
whatever the statistics.

When the planner's statistics do not show an organization's rows (a new store before
autovacuum first analyzes it, a new organization in an analyzed table), it cannot tell
the indexes that start with org_id apart. The lookups of a batch's trace ids and
session keys are written so that the unique index of the key is the only one that
fits them; these tests look at what PostgreSQL does on such a store.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import IntegrityError

from telemetry.db import TRACE_ID_INDEX, init_store
from telemetry.filters import Filters
from telemetry.ingest.files import import_files
from telemetry.ingest.identities import _CREATE_SESSIONS_POSTGRESQL
from telemetry.ingest.spans import stored_trace_pks
from telemetry.queries.trace_detail import trace_detail
from telemetry.store import TRACE_PKS_POSTGRESQL
from tests.factories import Dataset
from tests.ingest_support import otlp_span, request_line, trace_hex

STORED = 3_000  # traces (one span, one session each) per organization
LOOKED_UP = 100  # trace ids per lookup: half stored, half unknown


@pytest.fixture
def store(postgresql_engine: Engine) -> Engine:
    """A PostgreSQL store whose trace and session tables are never analyzed behind our back."""
    with postgresql_engine.begin() as conn:
        for table in ("trace", "session"):
            conn.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
    return postgresql_engine


def _import(engine: Engine, tmp_path, org: str, first: int) -> int:
    """STORED one-span traces numbered from ``first``, each in session ``s<number>``,
    into a new organization ``org``; its id."""
    org_id = Dataset(engine, org=org).org_id
    path = tmp_path / f"{org}.jsonl"
    lines = []
    for start in range(first, first + STORED, 500):
        spans = [otlp_span(n, n, attrs={"session.id": f"s{n}"}) for n in range(start, start + 500)]
        lines.append(request_line(spans))
    path.write_text("\n".join(lines) + "\n")
    assert import_files(engine, [path], org=org).spans_stored == STORED
    return org_id


def _explain(conn, sql: str, params) -> dict:
    cursor = conn.connection.dbapi_connection.cursor()
    cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
    return cursor.fetchone()[0][0]


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _trace_lookup(conn, org_id: int, numbers: list[int]) -> tuple[dict[str, int], dict]:
    ids = [trace_hex(n) for n in numbers]
    found = stored_trace_pks(conn, org_id, ids)
    return found, _explain(conn, TRACE_PKS_POSTGRESQL, (ids, org_id))


def _assert_one_probe_per_id(plan: dict) -> None:
    scans = [node for node in _nodes(plan["Plan"]) if node.get("Relation Name") == "trace"]
    assert [node["Index Name"] for node in scans] == [TRACE_ID_INDEX]
    # A probe reads a page or two of the index and one of the table: a plan that read
    # the organization's traces for each id hit thousands of pages per id.
    assert plan["Plan"]["Shared Hit Blocks"] <= 4 * LOOKED_UP


def _wanted(first: int) -> list[int]:
    """Half of them stored (from ``first``), half never sent."""
    half = LOOKED_UP // 2
    return [*range(first, first + half), *range(10**9, 10**9 + half)]


def test_a_new_store_finds_stored_traces_one_probe_per_id(store, tmp_path):
    acme = _import(store, tmp_path, "acme", 1)
    with store.connect() as conn:
        analyzed = conn.execute(
            text(
                "SELECT last_analyze, last_autoanalyze FROM pg_stat_user_tables "
                "WHERE relname = 'trace'"
            )
        ).one()
        assert analyzed == (None, None)  # what a store looks like in its first minute
        found, plan = _trace_lookup(conn, acme, _wanted(1))
    assert sorted(found) == [trace_hex(n) for n in range(1, 1 + LOOKED_UP // 2)]
    _assert_one_probe_per_id(plan)


def test_a_new_organization_in_an_analyzed_store_finds_its_traces_one_probe_per_id(store, tmp_path):
    acme = _import(store, tmp_path, "acme", 1)
    with store.begin() as conn:
        conn.execute(text("ANALYZE trace"))  # statistics that know only acme
    newco = _import(store, tmp_path, "newco", 100_001)
    with store.connect() as conn:
        found, plan = _trace_lookup(conn, newco, _wanted(100_001))
        # The organization's condition holds: acme's trace ids are not newco's.
        found_in_acme, _plan = _trace_lookup(conn, acme, _wanted(100_001))
    assert sorted(found) == [trace_hex(n) for n in range(100_001, 100_001 + LOOKED_UP // 2)]
    assert found_in_acme == {}
    _assert_one_probe_per_id(plan)


def test_new_sessions_are_checked_one_probe_per_key(store, tmp_path):
    acme = _import(store, tmp_path, "acme", 1)
    keys = [f"s{n}" for n in range(1, 51)] + [f"new{n}" for n in range(50)]
    with store.connect() as conn:
        params = {"org": acme, "now": 1, "keys": keys, "owners": [None] * 100}
        plan = _explain(conn, _CREATE_SESSIONS_POSTGRESQL, params)
        created = conn.execute(text("SELECT count(*) FROM session")).scalar_one()
        conn.rollback()
    assert created == STORED + 50  # the EXPLAIN ANALYZE ran it: the new keys only
    scans = [
        node
        for node in _nodes(plan["Plan"])
        if node.get("Relation Name") == "session" and node["Node Type"].endswith("Scan")
    ]
    # Not a hash of all the organization's sessions: an index probe for each key.
    assert [node["Node Type"] for node in scans] in (["Index Only Scan"], ["Index Scan"])
    assert all(node["Actual Loops"] == len(keys) for node in scans)
    assert json.dumps(plan).count("Hash") == 0


def test_the_migration_rekeys_the_traces_of_an_existing_store(store, tmp_path):
    with store.begin() as conn:  # the store as the versions before m023 made it
        conn.execute(text(f"DROP INDEX {TRACE_ID_INDEX}"))
        conn.execute(
            text("ALTER TABLE trace ADD CONSTRAINT uq_trace_org_traceid UNIQUE (org_id, trace_id)")
        )
        conn.execute(
            text("DELETE FROM schema_migration WHERE name = 'm023_postgres_trace_id_first'")
        )
    acme = _import(store, tmp_path, "acme", 1)
    assert init_store(store) == ["m023_postgres_trace_id_first"]
    with store.connect() as conn:
        keys = conn.execute(
            text("SELECT conname FROM pg_constraint WHERE conrelid = 'trace'::regclass")
        ).scalars()
        assert "uq_trace_org_traceid" not in set(keys)
        found, plan = _trace_lookup(conn, acme, _wanted(1))
    assert sorted(found) == [trace_hex(n) for n in range(1, 1 + LOOKED_UP // 2)]
    _assert_one_probe_per_id(plan)
    # Still one row per (organization, trace id): sent again, every span is a duplicate;
    # the same trace id in another organization is that organization's own trace.
    path = tmp_path / "acme.jsonl"
    again = import_files(store, [path], org="acme")
    assert (again.spans_stored, again.duplicates) == (0, STORED)
    Dataset(store, org="other")
    assert import_files(store, [path], org="other").spans_stored == STORED
    with store.connect() as conn, pytest.raises(IntegrityError):
        conn.execute(
            text(
                "INSERT INTO trace (org_id, trace_id, name, status, has_root, start_us, "
                "duration_ms, start_day, start_hour, start_month) "
                "SELECT org_id, trace_id, name, status, has_root, start_us, duration_ms, "
                "start_day, start_hour, start_month FROM trace WHERE org_id = :org LIMIT 1"
            ),
            {"org": acme},
        )


def test_the_trace_view_finds_a_new_organizations_trace_without_reading_the_others(store, tmp_path):
    """The trace view looks its trace up as the writer does: read by organization and
    trace id at once, a new organization's trace may read all its traces."""
    _import(store, tmp_path, "acme", 1)
    with store.begin() as conn:
        conn.execute(text("ANALYZE trace"))  # statistics that know only acme
    _import(store, tmp_path, "newco", 100_001)
    statements: list[tuple[str, object]] = []

    def seen(_conn, _cursor, statement, parameters, _context, _many):
        if "trace" in statement and not statement.lstrip().startswith("EXPLAIN"):
            statements.append((statement, parameters))

    event.listen(store, "before_cursor_execute", seen)
    try:
        filters = Filters(start=date(2026, 1, 1), end=date(2026, 1, 1), org="newco")
        detail = trace_detail(store, filters, trace_hex(100_500), include_content=False)
    finally:
        event.remove(store, "before_cursor_execute", seen)
    assert detail is not None and detail.trace.trace_id == trace_hex(100_500)
    with store.connect() as conn:
        plans = [_explain(conn, sql, params)["Plan"] for sql, params in statements]
    read = [plan["Shared Hit Blocks"] + plan["Shared Read Blocks"] for plan in plans]
    # Each statement reads a few index and table pages; newco's traces span dozens.
    assert read and max(read) <= 20, (read, statements)
