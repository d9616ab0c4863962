"""The daily rollup tables stay equal to the traces and LLM calls they summarise."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import date, datetime

import pytest
from sqlalchemy import Engine, delete, event, insert, inspect, select, text, update
from sqlalchemy.exc import IntegrityError

from telemetry.cli import main
from telemetry.db import init_store
from telemetry.derive import summarize_trace
from telemetry.ingest.files import import_files
from telemetry.ingest.limits import Limits
from telemetry.models import (
    LLM_CALL_KINDS,
    CommandDaily,
    LlmDaily,
    Observation,
    SessionDaily,
    ToolDaily,
    Trace,
    TraceDaily,
    TraceHourly,
    User,
)
from telemetry.queries import (
    activity_timeline,
    adoption,
    agent_runs,
    billing_period,
    breakdown_timeline,
    by_team,
    code_and_outcomes,
    commands,
    cost_by_model,
    cost_by_user,
    cost_per_day_by_model,
    model_runs,
    module_usage,
    overview_kpis,
    peak_usage,
    run_statistics,
    tool_runs,
    top_agents,
    trends,
    usage_totals,
)
from telemetry.queries import percentiles as percentiles_module
from telemetry.rollups import rebuild_rollups, refresh_rollups, rollup_drift, trace_days
from telemetry.store import org_id
from telemetry.timeutil import day_number, day_of_us, hour_of_us, month_of_us, to_us
from tests.edge_case_week import build_edge_case_week, week
from tests.factories import Dataset, embedding, generation, root, tool
from tests.ingest_support import otlp_span, request_line

TRACE_KEY = ("start_day", "team_id", "environment", "user_id", "module", "agent", "status")
LLM_KEY = (
    "start_day",
    "team_id",
    "environment",
    "user_id",
    "module",
    "agent",
    "kind",
    "provider",
    "model",
    "cost_source",
)
TOOL_KEY = ("start_day", "team_id", "environment", "user_id", "agent", "tool_type", "tool_name")
COMMAND_KEY = ("start_day", "team_id", "environment", "name", "status")
SESSION_KEY = ("start_day", "team_id", "environment", "agent", "session_id")
HOURLY_KEY = ("start_day", "start_hour", "team_id", "environment")
KEYS = {
    TraceDaily: TRACE_KEY,
    LlmDaily: LLM_KEY,
    ToolDaily: TOOL_KEY,
    CommandDaily: COMMAND_KEY,
    SessionDaily: SESSION_KEY,
    TraceHourly: HOURLY_KEY,
}
TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
MARCH_2 = date(2026, 3, 2)


# --- what the rollups should hold, computed in plain Python over the written rows ----------


def expected_trace_rollup(traces: list[dict]) -> dict[tuple, Counter]:
    rows: dict[tuple, Counter] = {}
    for trace in traces:
        row = rows.setdefault(tuple(trace[k] for k in TRACE_KEY), Counter())
        row["traces"] += 1
        row["traces_without_session"] += trace["session_id"] is None
        if trace["end_us"] is not None:
            row["timed_traces"] += 1
            row["duration_us_sum"] += trace["end_us"] - trace["start_us"]
        for name in ("generations", "tool_calls", "tool_errors", *TOKENS, "reasoning_tokens"):
            row[name] += trace[name]
        row["cost_usd"] += trace["cost_usd"]
        added, removed = trace["code_lines_added"], trace["code_lines_removed"]
        row["traces_with_code"] += added is not None or removed is not None
        row["code_lines_added"] += added or 0
        row["code_lines_removed"] += removed or 0
        row["traces_with_outcome"] += trace["task_outcome"] != ""
        for outcome in ("clean", "revised", "regression"):
            row[f"outcome_{outcome}"] += trace["task_outcome"] == outcome
    return rows


def expected_llm_rollup(observations: list[dict]) -> dict[tuple, Counter]:
    rows: dict[tuple, Counter] = {}
    for call in observations:
        if call["kind"] not in LLM_CALL_KINDS:
            continue
        row = rows.setdefault(tuple(call[k] for k in LLM_KEY), Counter())
        row["calls"] += 1
        row["errors"] += call["status"] == "error"
        if call["end_us"] is not None:
            row["timed_calls"] += 1
            row["duration_us_sum"] += call["end_us"] - call["start_us"]
            row["timed_output_tokens"] += call["output_tokens"]
        for name in (*TOKENS, "reasoning_tokens"):
            row[name] += call[name]
        row["cost_usd"] += call["cost_usd"]
    return rows


def expected_tool_rollup(observations: list[dict]) -> dict[tuple, Counter]:
    rows: dict[tuple, Counter] = {}
    for call in (o for o in observations if o["kind"] == "tool"):
        row = rows.setdefault(tuple(call[k] for k in TOOL_KEY), Counter())
        row["calls"] += 1
        row["errors"] += call["status"] == "error"
        if call["end_us"] is not None:
            row["timed_calls"] += 1
            row["duration_us_sum"] += call["end_us"] - call["start_us"]
    return rows


def expected_command_rollup(traces: list[dict]) -> dict[tuple, Counter]:
    rows: dict[tuple, Counter] = {}
    for trace in traces:
        row = rows.setdefault(tuple(trace[k] for k in COMMAND_KEY), Counter())
        row["traces"] += 1
        if trace["end_us"] is not None:
            row["timed_traces"] += 1
            row["duration_us_sum"] += trace["end_us"] - trace["start_us"]
    return rows


def expected_session_rollup(traces: list[dict]) -> dict[tuple, dict]:
    groups: dict[tuple, list[dict]] = {}
    for trace in (t for t in traces if t["session_id"] is not None):
        groups.setdefault(tuple(trace[k] for k in SESSION_KEY), []).append(trace)
    rows = {}
    for key, members in groups.items():
        ends = [t["end_us"] for t in members if t["end_us"] is not None]
        rows[key] = {
            "traces": len(members),
            "first_start_us": min(t["start_us"] for t in members),
            "last_end_us": max(ends) if ends else None,
        }
    return rows


def expected_hourly_rollup(traces: list[dict]) -> dict[tuple, Counter]:
    rows: dict[tuple, Counter] = {}
    for trace in traces:
        row = rows.setdefault(tuple(trace[k] for k in HOURLY_KEY), Counter())
        row["traces"] += 1
        row["input_tokens"] += trace["input_tokens"]
        row["output_tokens"] += trace["output_tokens"]
    return rows


def expected_rollups(traces: list[dict], observations: list[dict]) -> dict:
    """Every rollup table -> its rows, computed in plain Python from the base rows."""
    return {
        TraceDaily: expected_trace_rollup(traces),
        LlmDaily: expected_llm_rollup(observations),
        ToolDaily: expected_tool_rollup(observations),
        CommandDaily: expected_command_rollup(traces),
        SessionDaily: expected_session_rollup(traces),
        TraceHourly: expected_hourly_rollup(traces),
    }


def stored_rollup(engine: Engine, table, org_id: int) -> dict[tuple, dict]:
    """The rollup rows of an organization: key (day first) -> measures."""
    key_names = ("day", *KEYS[table][1:])
    with engine.connect() as conn:
        rows = conn.execute(select(table).where(table.org_id == org_id)).mappings().all()
    found = {}
    for row in rows:
        key = tuple(row[name] for name in key_names)
        assert key not in found, f"rollup key stored twice: {key}"
        skip = {"id", "org_id", *key_names}
        found[key] = {name: value for name, value in row.items() if name not in skip}
    return found


def assert_rollups_match(engine: Engine, ds: Dataset) -> None:
    assert_stored_rollups_are(engine, ds.org_id, expected_rollups(ds.traces, ds.observations))


def assert_stored_rollups_are(engine: Engine, org_id: int, expected_tables: dict) -> None:
    for table, expected in expected_tables.items():
        stored = stored_rollup(engine, table, org_id)
        assert set(stored) == set(expected), table.__tablename__
        for key, want in expected.items():
            got = stored[key]
            if "cost_usd" in got:
                assert got["cost_usd"] == pytest.approx(want["cost_usd"], abs=1e-12), key
            exact = {
                name: None if value is None else int(value)
                for name, value in got.items()
                if name != "cost_usd"
            }
            assert exact == {name: want[name] for name in exact}, (table.__tablename__, key)


# --- a small month with the cases the rollups must keep apart ------------------------------


def write_month(ds: Dataset, order: str) -> None:
    ds.team("alpha")
    ds.team("beta")
    ds.user("ana", team="alpha")
    ds.user("bob", team="beta")
    traces = [
        ("a1", dict(user="ana", session="s1", start=datetime(2026, 3, 2, 9), module="ide")),
        (
            "a2",
            dict(
                user="ana",
                session="s1",
                start=datetime(2026, 3, 2, 10),
                module="ide",
                agent="coder",
                spans=[
                    root(attributes={"task.outcome": "clean", "code.lines_added": 12}),
                    generation(input_tokens=100, output_tokens=20, cost_usd=0.01),
                    tool("search", status="error"),
                ],
            ),
        ),
        (
            "a3",  # its generation starts after midnight: counted on the next day
            dict(
                user="ana",
                start=datetime(2026, 3, 2, 23, 59),
                agent="coder",
                spans=[
                    root(seconds=300, attributes={"code.lines_removed": 3}),
                    generation(at=120, input_tokens=7, output_tokens=3, cost_usd=0.002),
                ],
            ),
        ),
        (
            "b1",
            dict(
                user="bob",
                session="s2",
                start=datetime(2026, 3, 3, 8),
                environment="staging",
                spans=[
                    root(status="error", attributes={"task.outcome": "regression"}),
                    generation("claude", "anthropic", cost_source="unpriced", status="error"),
                    embedding(input_tokens=50, cost_usd=0.0001),
                ],
            ),
        ),
        ("b2", dict(user="bob", start=datetime(2026, 3, 3, 9), spans=[root(seconds=None)])),
        (
            "x1",  # no user and no team: NULL keys
            dict(
                team=None,
                start=datetime(2026, 3, 3, 12),
                spans=[root(), generation(input_tokens=5, output_tokens=5, cost_usd=0.5)],
            ),
        ),
        ("x2", dict(team=None, start=datetime(2026, 3, 5, 12), session="s3")),
    ]
    if order == "reverse":
        traces.reverse()
    elif order == "shuffled":
        random.Random(5).shuffle(traces)
    for trace_id, kwargs in traces:
        ds.trace(trace_id, **kwargs)


@pytest.mark.parametrize("order", ["forward", "reverse", "shuffled"])
def test_rollups_equal_the_stored_rows_written_in_any_order(engine, order):
    ds = Dataset(engine, org=f"month-{order}")
    write_month(ds, order)
    assert_rollups_match(engine, ds)
    with engine.connect() as conn:
        assert rollup_drift(conn, ds.org_id) == []


def test_rollups_of_the_edge_case_week_equal_a_rebuild_from_scratch(engine):
    forward = build_edge_case_week(engine, "forward")
    backward = build_edge_case_week(engine, "backward", reverse=True)
    for ds in (forward, backward):
        assert_rollups_match(engine, ds)
        before = {t: stored_rollup(engine, t, ds.org_id) for t in (TraceDaily, LlmDaily)}
        with engine.begin() as conn:
            rebuild_rollups(conn, ds.org_id)
        assert {t: stored_rollup(engine, t, ds.org_id) for t in (TraceDaily, LlmDaily)} == before


def test_refreshing_one_day_leaves_the_other_days_untouched(engine):
    ds = Dataset(engine)
    write_month(ds, "forward")
    with engine.connect() as conn:
        ids_before = dict(conn.execute(select(TraceDaily.id, TraceDaily.day)).all())
    with engine.begin() as conn:
        # Every trace changes, but only 2 March is refreshed.
        conn.execute(update(Trace).values(tool_calls=Trace.tool_calls + 10))
        refresh_rollups(conn, ds.org_id, [day_number(MARCH_2)])
    with engine.connect() as conn:
        rows = conn.execute(select(TraceDaily.id, TraceDaily.day, TraceDaily.tool_calls)).all()
        drift = rollup_drift(conn, ds.org_id)
    march_2 = [row for row in rows if row.day == day_number(MARCH_2)]
    others = [row for row in rows if row.day != day_number(MARCH_2)]
    assert sum(row.tool_calls for row in march_2) == 3 * 10 + 1  # a1, a2 (one tool), a3
    assert {row.id: row.day for row in others} == {
        pk: day for pk, day in ids_before.items() if day != day_number(MARCH_2)
    }
    assert sum(row.tool_calls for row in others) == 0
    stale = {line.split(" ")[1] for line in drift}
    assert stale == {"day=2026-03-03", "day=2026-03-05"}


def test_a_trace_whose_start_moves_to_the_previous_day_updates_both_days(engine):
    ds = Dataset(engine)
    ds.user("ana")
    trace = ds.trace(
        "late",
        user="ana",
        start=datetime(2026, 3, 3, 0, 10),
        spans=[root(seconds=60), tool("search", at=5)],
    )
    early = to_us(datetime(2026, 3, 2, 23, 50))

    def earlier_span_arrives(conn, refreshed_days) -> None:
        """As an ingest writer: store the span, re-derive the trace, refresh the days."""
        stored = conn.execute(
            select(Observation).where(
                Observation.trace_pk == trace["id"], Observation.span_id == "root"
            )
        )
        span = dict(stored.mappings().one())
        span.pop("id")
        span.update(
            span_id="early",
            parent_span_id="root",
            name="chat gpt-4o",
            kind="generation",
            model="gpt-4o",
            provider="openai",
            cost_source="catalog",
            start_us=early,
            end_us=early + 1_000_000,
            start_day=day_of_us(early),
            start_hour=hour_of_us(early),
            start_month=month_of_us(early),
            input_tokens=4,
            cost_usd=0.02,
        )
        conn.execute(insert(Observation).values(**span))
        spans = conn.execute(select(Observation).where(Observation.trace_pk == trace["id"]))
        summary = summarize_trace([dict(row) for row in spans.mappings()])
        conn.execute(update(Trace).where(Trace.id == trace["id"]).values(**summary))
        refresh_rollups(conn, ds.org_id, refreshed_days(conn))

    # Refreshing only the days the trace has after the write leaves it on its old day too.
    with engine.connect() as conn, conn.begin() as transaction:
        earlier_span_arrives(conn, lambda c: trace_days(c, [trace["id"]]))
        drift = rollup_drift(conn, ds.org_id)
        transaction.rollback()
    # Every rollup keyed by the trace's start day keeps the trace on its old day.
    assert sorted(line.split(":")[0].split(" ")[:2] for line in drift) == [
        ["command_daily", "day=2026-03-03"],
        ["trace_daily", "day=2026-03-03"],
        ["trace_hourly", "day=2026-03-03"],
    ]

    with engine.begin() as conn:
        old_days = trace_days(conn, [trace["id"]])
        earlier_span_arrives(conn, lambda c: old_days | trace_days(c, [trace["id"]]))
    with engine.connect() as conn:
        traced = conn.execute(select(TraceDaily.day, TraceDaily.traces, TraceDaily.cost_usd)).all()
        called = conn.execute(select(LlmDaily.day, LlmDaily.calls, LlmDaily.input_tokens)).all()
        assert rollup_drift(conn, ds.org_id) == []
    assert [(day, traces) for day, traces, _ in traced] == [(day_number(MARCH_2), 1)]
    assert traced[0].cost_usd == pytest.approx(0.02)
    assert called == [(day_number(MARCH_2), 1, 4)]


def test_drift_names_the_day_and_the_figure_until_a_rebuild(engine):
    ds = Dataset(engine)
    write_month(ds, "forward")
    with engine.begin() as conn:
        conn.execute(
            update(Observation).where(Observation.kind == "embedding").values(cost_usd=1.5)
        )
        drift = rollup_drift(conn, ds.org_id)
        assert len(drift) == 1
        assert drift[0].startswith("llm_daily day=2026-03-03 team_id=")
        assert "cost_usd is 0.0001, the base rows give 1.5" in drift[0]
        rebuild_rollups(conn, ds.org_id)
        assert rollup_drift(conn, ds.org_id) == []


def test_references_are_checked_by_sqlite_and_by_rollups_check(engine):
    """SQLite checks every reference of traces and observations by foreign keys; on
    PostgreSQL none is (m022, m025, m026) and `rollups check` says when one is astray."""
    ds = Dataset(engine)
    write_month(ds, "forward")

    def checked(table: str) -> set[str]:
        keys = inspect(engine).get_foreign_keys(table)
        return {column for key in keys for column in key["constrained_columns"]}

    postgresql = engine.dialect.name == "postgresql"
    if postgresql:
        assert checked("observation") == checked("trace") == set()
    else:
        assert checked("observation") == {"org_id", "trace_pk", "user_id", "team_id", "session_id"}
        assert checked("trace") == {"org_id", "user_id", "team_id", "session_id"}
    with engine.begin() as conn:
        users = sorted(conn.execute(select(User.id).where(User.org_id == ds.org_id)).scalars())
        first = conn.execute(
            select(Observation.id, Observation.user_id)
            .where(Observation.org_id == ds.org_id, Observation.user_id.is_not(None))
            .order_by(Observation.id)
        ).first()
        other = next(user for user in users if user != first.user_id)
        conn.execute(update(Observation).where(Observation.id == first.id).values(user_id=other))
        drift = rollup_drift(conn, ds.org_id)
        assert drift[0].startswith("1 observations whose user_id is not their trace's")
        conn.execute(
            update(Observation).where(Observation.id == first.id).values(user_id=first.user_id)
        )
        assert rollup_drift(conn, ds.org_id) == []

    # Another organization's user exists, so no foreign key objects (on either backend).
    other = Dataset(engine, "other")
    zed = other.user("zed")
    with engine.begin() as conn:
        a1_user = conn.execute(
            select(Trace.user_id).where(Trace.org_id == ds.org_id, Trace.trace_id == "a1")
        ).scalar_one()
        astray = update(Trace).where(Trace.org_id == ds.org_id, Trace.trace_id == "a1")
        conn.execute(astray.values(user_id=zed))
        drift = rollup_drift(conn, ds.org_id)
        assert (
            drift[0] == "1 traces whose user is missing or another organization's (e.g. trace a1)"
        )
        conn.execute(astray.values(user_id=a1_user))
        assert rollup_drift(conn, ds.org_id) == []

    stray = {**ds.observations[0], "span_id": "stray", "trace_pk": 10**9}
    missing = {"user_id": "user", "team_id": "team", "session_id": "session"}
    if not postgresql:
        for statement in (
            insert(Observation).values(stray),
            *(update(Trace).where(Trace.trace_id == "a1").values({c: 10**9}) for c in missing),
        ):
            with pytest.raises(IntegrityError), engine.begin() as conn:
                conn.execute(statement)
        return
    with engine.begin() as conn:
        conn.execute(insert(Observation).values(stray))
        assert rollup_drift(conn, ds.org_id) == [
            "1 observations whose trace is missing (e.g. trace row id 1000000000)"
        ]
        conn.execute(delete(Observation).where(Observation.span_id == "stray"))
        a1 = conn.execute(
            select(Trace).where(Trace.org_id == ds.org_id, Trace.trace_id == "a1")
        ).one()
        for column, what in missing.items():
            assert getattr(a1, column) is not None
            conn.execute(update(Trace).where(Trace.id == a1.id).values({column: 10**9}))
            drift = rollup_drift(conn, ds.org_id)
            assert drift[0] == (
                f"1 traces whose {what} is missing or another organization's (e.g. trace a1)"
            ), drift
            restored = {column: getattr(a1, column)}
            conn.execute(update(Trace).where(Trace.id == a1.id).values(restored))
        assert rollup_drift(conn, ds.org_id) == []


def test_rollup_rows_name_their_organization_without_a_check_on_postgresql(engine):
    """m024: on PostgreSQL no foreign key checks a rollup row's organization; SQLite keeps
    its checks, and a store made before the migration loses them when it runs."""
    from telemetry.db import foreign_keys
    from telemetry.rollup_tables import ROLLUPS

    def checked() -> dict[str, set[str]]:
        inspector = inspect(engine)
        return {
            rollup.table.name: {
                column
                for key in inspector.get_foreign_keys(rollup.table.name)
                for column in key["constrained_columns"]
            }
            for rollup in ROLLUPS
        }

    if engine.dialect.name != "postgresql":
        assert checked() == {rollup.table.name: {"org_id"} for rollup in ROLLUPS}
        return
    assert checked() == {rollup.table.name: set() for rollup in ROLLUPS}
    with engine.begin() as conn:
        for rollup in ROLLUPS:  # the shape of a store made before m024
            conn.execute(
                text(
                    f'ALTER TABLE "{rollup.table.name}" ADD FOREIGN KEY (org_id) '
                    "REFERENCES organization (id)"
                )
            )
        assert all(foreign_keys(conn, rollup.table.name) for rollup in ROLLUPS)
        conn.execute(
            text(
                "DELETE FROM schema_migration "
                "WHERE name = 'm024_postgres_rollup_organization_checks'"
            )
        )
    assert init_store(engine) == ["m024_postgres_rollup_organization_checks"]
    assert checked() == {rollup.table.name: set() for rollup in ROLLUPS}
    ds = Dataset(engine)
    write_month(ds, "forward")
    assert_rollups_match(engine, ds)


def test_the_migration_fills_the_rollups_of_data_stored_before_it(engine):
    ds = Dataset(engine)
    write_month(ds, "forward")
    with engine.begin() as conn:
        TraceDaily.__table__.drop(conn)
        LlmDaily.__table__.drop(conn)
        conn.execute(text("DELETE FROM schema_migration WHERE name = 'm006_daily_rollups'"))
    assert init_store(engine) == ["m006_daily_rollups"]
    assert_rollups_match(engine, ds)


def test_rollups_cli_checks_and_rebuilds(engine, monkeypatch, capsys):
    ds = Dataset(engine, org="acme")
    write_month(ds, "forward")
    monkeypatch.setenv("TELEMETRY_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    assert main(["rollups", "check", "--org", "acme"]) == 0
    assert "acme: rollups match" in capsys.readouterr().out
    with engine.begin() as conn:
        conn.execute(delete(TraceDaily).where(TraceDaily.org_id == ds.org_id))
    assert main(["rollups", "check"]) == 1
    out = capsys.readouterr().out
    assert "acme: rollups differ" in out
    assert "default: rollups match" in out
    assert "trace_daily day=2026-03-05 team_id=None environment='production' user_id=None" in out
    assert main(["rollups", "rebuild", "--org", "acme"]) == 0
    assert "acme: rebuilt 7 trace rollup rows" in capsys.readouterr().out
    assert main(["rollups", "check", "--org", "acme"]) == 0
    assert main(["rollups", "check", "--org", "nope"]) == 2
    assert "organization 'nope' does not exist" in capsys.readouterr().err


def test_dashboard_aggregates_read_the_rollups_not_millions_of_rows(sqlite_engine):
    """Statement check, not timing: only the distinct session count reads the trace table."""
    build_edge_case_week(sqlite_engine)
    statements: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    filters = week(teams=("alpha",), environments=("production",))
    event.listen(sqlite_engine, "before_cursor_execute", remember)
    for query in (
        overview_kpis,
        adoption,
        module_usage,
        activity_timeline,
        top_agents,
        usage_totals,
        cost_by_model,
        by_team,
        billing_period,
        cost_by_user,
        cost_per_day_by_model,
    ):
        query(sqlite_engine, filters)
    event.remove(sqlite_engine, "before_cursor_execute", remember)
    base = [s for s in statements if re.search(r"\bFROM (trace|observation)\b(?!_)", s)]
    assert base, "the session count reads the traces"
    for statement in base:
        assert "FROM observation" not in statement
        assert "count(distinct(trace.session_id))" in statement


def test_the_analytics_migration_fills_the_new_rollups_of_data_stored_before_it(engine):
    ds = Dataset(engine)
    write_month(ds, "forward")
    with engine.begin() as conn:
        for table in (ToolDaily, CommandDaily, SessionDaily, TraceHourly):
            table.__table__.drop(conn)
        conn.execute(text("ALTER TABLE llm_daily DROP COLUMN timed_output_tokens"))
        conn.execute(text("DELETE FROM schema_migration WHERE name = 'm007_analytics_rollups'"))
    assert init_store(engine) == ["m007_analytics_rollups"]
    assert_rollups_match(engine, ds)


# --- ingestion in several batches ----------------------------------------------------------


def _tool(trace: int, span: int, name: str, start_s: float, **kwargs) -> dict:
    attrs = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name}
    attrs["gen_ai.tool.type"] = "function"
    return otlp_span(trace, span, parent=1, name=name, start_s=start_s, attrs=attrs, **kwargs)


def _chat(trace: int, span: int, start_s: float, output: int, **kwargs) -> dict:
    attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 10 * output,
        "gen_ai.usage.output_tokens": output,
    }
    return otlp_span(trace, span, parent=1, name="chat", start_s=start_s, attrs=attrs, **kwargs)


def _root(trace: int, start_s: float, end_s: float | None, **attrs) -> dict:
    return otlp_span(
        trace, 1, name=attrs.pop("name", "turn"), start_s=start_s, end_s=end_s, attrs=attrs
    )


def batched_export() -> list[str]:
    """OTLP lines (12:00 UTC + seconds) whose traces arrive over several lines and batches.

    Trace 3 first arrives after midnight, then an earlier span moves it to the day
    before; trace 4 is still running; tools fail or never end; sessions span days.
    """
    hour = 3600
    who = {"enduser.id": "ana", "session.id": "s1", "gen_ai.agent.name": "coder"}
    return [
        request_line([_root(1, 0, 60, name="/review", **who), _tool(1, 2, "search", 5, end_s=6)]),
        request_line([_chat(1, 3, 10, 7, end_s=12), _tool(1, 4, "grep", 20, end_s=None)]),
        request_line(
            [
                _root(2, 11 * hour, 11 * hour + 50, name="/fix", **who),
                _tool(2, 2, "run_tests", 11 * hour + 1, end_s=11 * hour + 9, status=2),
                _chat(2, 3, 12 * hour + 30, 5, end_s=12 * hour + 40),  # after midnight
            ]
        ),
        request_line(
            [_root(3, 12 * hour + 100, 12 * hour + 200, **{**who, "session.id": "s2"})],
            resource={"deployment.environment.name": "staging"},
        ),
        request_line(
            [_chat(3, 2, 11 * hour + 3000, 9, end_s=11 * hour + 3100)],  # 23:50, day before
            resource={"deployment.environment.name": "staging"},
        ),
        request_line([_root(4, 13 * hour, None, **{"enduser.id": "bob", "session.id": "s1"})]),
        request_line([_tool(4, 2, "search", 13 * hour + 1, end_s=13 * hour + 2)]),
        request_line(
            [_root(5, 36 * hour, 36 * hour + 5), _chat(5, 2, 36 * hour + 1, 3, end_s=None)]
        ),
    ]


def base_rows(engine: Engine, org: int) -> tuple[list[dict], list[dict]]:
    with engine.connect() as conn:
        traces = conn.execute(select(Trace).where(Trace.org_id == org)).mappings().all()
        calls = conn.execute(select(Observation).where(Observation.org_id == org))
        return [dict(row) for row in traces], [dict(row) for row in calls.mappings().all()]


@pytest.mark.parametrize("batch_spans", [1, 2, 5])
def test_rollups_stay_equal_to_a_recomputation_after_ingest_in_several_batches(
    engine, tmp_path, batch_spans
):
    path = tmp_path / "export.jsonl"
    lines = batched_export()
    # Two imports: the later lines land in a store already holding the earlier ones.
    path.write_text("\n".join(lines[:4]) + "\n", encoding="utf-8")
    import_files(engine, [path], limits=Limits(batch_spans=batch_spans))
    path.write_text("\n".join(lines[4:]) + "\n", encoding="utf-8")
    import_files(engine, [path], limits=Limits(batch_spans=batch_spans))
    with engine.connect() as conn:
        org = org_id(conn, "default")
        assert rollup_drift(conn, org) == []
    traces, observations = base_rows(engine, org)
    assert len(traces) == 5 and len(observations) == 13
    assert {t["start_day"] for t in traces if t["trace_id"].endswith("3")} == {
        day_number(date(2025, 6, 1))
    }
    assert_stored_rollups_are(engine, org, expected_rollups(traces, observations))


# --- which tables the Analytics page reads -------------------------------------------------


def test_analytics_queries_read_base_rows_only_for_percentiles(sqlite_engine, monkeypatch):
    """Statement check, not timing: with day buckets only medians and p95 read base rows."""
    build_edge_case_week(sqlite_engine)
    statements: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    real_plain_rows = percentiles_module._plain_rows

    def plain_rows(conn, query):  # percentile values bypass SQLAlchemy's cursor events
        statements.append(str(query.compile(dialect=conn.dialect)))
        return real_plain_rows(conn, query)

    monkeypatch.setattr(percentiles_module, "_plain_rows", plain_rows)
    filters = week(teams=("alpha",), environments=("production",))
    event.listen(sqlite_engine, "before_cursor_execute", remember)
    for query in (trends, run_statistics, tool_runs, peak_usage, code_and_outcomes):
        query(sqlite_engine, filters)
    for dimension in ("team", "agent", "model", "tool"):
        for measure in ("runs", "errors", "tokens"):
            breakdown_timeline(sqlite_engine, filters, dimension=dimension, measure=measure)
    assert not [s for s in statements if re.search(r"\bFROM (trace|observation)\b(?!_)", s)]
    for query in (commands, agent_runs, model_runs):
        statements.clear()
        query(sqlite_engine, filters)
        base = [s for s in statements if re.search(r"\bFROM (trace|observation)\b(?!_)", s)]
        assert len(base) == 1, query.__name__  # the durations of the percentiles
        assert "GROUP BY" not in base[0] and "end_us -" in base[0]
    event.remove(sqlite_engine, "before_cursor_execute", remember)
