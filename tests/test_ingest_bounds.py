"""Ingest bounds (docs/ingest.md, "Limits"): values at a limit are stored, beyond it refused;
sums cannot overflow at the limits and a billion spans; file imports and
``telemetry.capture`` follow the same rules; ``rollups check`` reports values out of range.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select, text, update

import telemetry
from telemetry.apikeys import create_key
from telemetry.cli import main
from telemetry.db import DATABASE_URL_ENV
from telemetry.ingest.bounds import (
    COST_MAX_USD,
    DURATION_MAX_US,
    EARLIEST_US,
    TOKENS_MAX,
    OutOfBounds,
    check_record,
)
from telemetry.ingest.files import import_files
from telemetry.ingest.mapping import RECORD_TEMPLATE
from telemetry.models import IngestError, LlmDaily, Observation, Trace
from telemetry.queries.costs import usage_totals
from telemetry.queries.llm_calls import llm_call_totals
from telemetry.queries.runs import run_statistics
from telemetry.rollup_ranges import range_problems
from telemetry.store import org_id
from telemetry.timeutil import US_PER_DAY, now_us
from tests.ingest_support import (
    SECOND_NS,
    T0_NS,
    otlp_span,
    request_line,
    rollup_drift_of,
    running_server,
)

NOW = now_us()
DAY_OF_T0 = date(2025, 6, 1)
BILLION = 1_000_000_000


def record(**values) -> dict:
    start = values.pop("start_us", EARLIEST_US)
    return {**RECORD_TEMPLATE, "start_us": start, "attributes": {}, **values}


@pytest.mark.parametrize(
    "values",
    [
        {"start_us": EARLIEST_US},
        {"start_us": NOW + US_PER_DAY},
        {"end_us": EARLIEST_US + DURATION_MAX_US},
        {"input_tokens": TOKENS_MAX, "reasoning_tokens": TOKENS_MAX},
        {"cost_usd": COST_MAX_USD},
        {"attributes": {"code.lines_added": 10_000_000, "code.lines_removed": "n/a"}},
    ],
    ids=["earliest", "a-day-ahead", "seven-days", "tokens", "cost", "code-lines"],
)
def test_values_at_a_limit_are_accepted(values):
    check_record(record(**values), NOW)


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"start_us": EARLIEST_US - 1}, "start_us"),
        ({"start_us": NOW + US_PER_DAY + 1}, "start_us"),
        ({"end_us": EARLIEST_US + DURATION_MAX_US + 1}, "days"),
        ({"end_us": EARLIEST_US - 1}, "end_us"),
        ({"cache_write_tokens": TOKENS_MAX + 1}, "cache_write_tokens"),
        ({"output_tokens": -1}, "output_tokens"),
        ({"cost_usd": COST_MAX_USD * 1.0001}, "cost_usd"),
        ({"cost_usd": float("nan")}, "cost_usd"),
        ({"attributes": {"code.lines_removed": 10_000_001}}, "code.lines_removed"),
        ({"attributes": {"code.lines_added": -3}}, "code.lines_added"),
        ({"events": [{"name": "e", "time_us": 5, "attributes": {}}]}, "events[0]"),
    ],
)
def test_values_beyond_a_limit_are_refused_naming_the_field(values, named):
    with pytest.raises(OutOfBounds, match=named.replace("[", r"\[")):
        check_record(record(**values), NOW)


def test_text_is_repaired_and_flagged():
    repaired = record(
        name="a\x00b",
        attributes={"k\x00": ["x\ud800", 2**70], 5: {"deep": [[[[["x"]]]]]}},
    )
    check_record(repaired, NOW)
    assert repaired["name"] == "a\ufffdb"
    assert repaired["attributes"] == {
        "k\ufffd": ["x\ufffd", str(2**70)],
        "5": {"deep": [[[[["x"]]]]]},
        "telemetry.ingest.cleaned": ["attributes", "name"],
    }
    clean = record(name="fine", attributes={"a": 1})
    check_record(clean, NOW)
    assert clean["attributes"] == {"a": 1}


# --- a billion spans at the limits -------------------------------------------------------

LIMIT_ATTRS = {
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.usage.input_tokens": TOKENS_MAX,
    "gen_ai.usage.output_tokens": TOKENS_MAX,
    "gen_ai.usage.cache_read.input_tokens": TOKENS_MAX,
    "gen_ai.usage.reasoning.output_tokens": TOKENS_MAX,
    "gen_ai.usage.cost": COST_MAX_USD,
}
WEEK_S = DURATION_MAX_US / 1_000_000


def longest_run(trace: int) -> list[dict]:
    """A 7-day run: its root, an LLM call and a tool call, every number at its limit."""
    return [
        otlp_span(trace, 1, name="run", end_s=WEEK_S),
        otlp_span(trace, 2, parent=1, name="chat", end_s=WEEK_S, attrs=LIMIT_ATTRS),
        otlp_span(
            trace,
            3,
            parent=1,
            name="tool",
            end_s=WEEK_S,
            attrs={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "sh"},
        ),
    ]


def scale_rollups(conn, org: int, factor: int) -> None:
    """Multiply every summed rollup measure of ``org``: as if each row had ``factor`` times
    as many rows behind it."""
    for table, columns in {
        "llm_daily": "calls timed_calls duration_us_sum input_tokens output_tokens "
        "cache_read_tokens cache_write_tokens reasoning_tokens cost_usd timed_output_tokens",
        "trace_daily": "traces traces_without_session timed_traces duration_us_sum generations "
        "tool_calls input_tokens output_tokens cache_read_tokens reasoning_tokens cost_usd",
        "tool_daily": "calls timed_calls duration_us_sum",
        "command_daily": "traces timed_traces duration_us_sum",
        "trace_hourly": "traces input_tokens output_tokens",
    }.items():
        sets = ", ".join(f"{c} = {c} * {factor}" for c in columns.split())
        conn.execute(text(f"UPDATE {table} SET {sets} WHERE org_id = :org"), {"org": org})


def test_sums_do_not_overflow_at_the_limits_and_a_billion_spans(engine, tmp_path):
    path = tmp_path / "longest.jsonl"
    path.write_text(request_line(longest_run(1)) + "\n")
    assert import_files(engine, [path]).rejected == 0
    with engine.begin() as conn:  # the rollups now stand for a billion minus one such runs
        scale_rollups(conn, org_id(conn, "default"), BILLION - 1)
    path.write_text(request_line(longest_run(2)) + "\n")
    assert import_files(engine, [path]).spans_stored == 3  # the upserts add one more of each

    day = usage_totals(engine, _day())
    assert (day.input_tokens, day.output_tokens) == (BILLION * TOKENS_MAX,) * 2
    assert (day.cache_read_tokens, day.reasoning_tokens) == (BILLION * TOKENS_MAX,) * 2
    assert day.cost_usd == pytest.approx(BILLION * COST_MAX_USD)
    calls = llm_call_totals(engine, _day(), percentile=False)
    assert (calls.calls, calls.timed_calls) == (BILLION, BILLION)
    assert calls.latency_avg_ms == pytest.approx(DURATION_MAX_US / 1000)
    runs = run_statistics(engine, _day())
    assert (runs.traces, runs.tool_calls) == (BILLION, BILLION)
    assert runs.average_duration_ms == pytest.approx(DURATION_MAX_US / 1000)
    assert runs.tokens == 2 * BILLION * TOKENS_MAX
    with engine.connect() as conn:
        assert range_problems(conn, org_id(conn, "default")) == []


def _day():
    from telemetry.filters import Filters

    return Filters(start=DAY_OF_T0, end=DAY_OF_T0)


# --- rollups check --------------------------------------------------------------------------


def test_rollups_check_reports_values_out_of_range(engine, tmp_path, monkeypatch, capsys):
    path = tmp_path / "run.jsonl"
    attrs = {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 10}
    path.write_text(request_line([otlp_span(1, 1, attrs={**attrs, "gen_ai.usage.cost": 0.5})]))
    assert import_files(engine, [path]).spans_stored == 1
    assert rollup_drift_of(engine) == []
    with engine.begin() as conn:  # as a store written before the bounds could hold
        conn.execute(update(Observation).values(input_tokens=2**40))
        conn.execute(update(Trace).values(input_tokens=2**40))
        conn.execute(update(LlmDaily).values(input_tokens=2**40, cost_usd=-1.0))

    monkeypatch.setenv(DATABASE_URL_ENV, engine.url.render_as_string(hide_password=False))
    assert main(["rollups", "check"]) == 1
    out = capsys.readouterr().out
    assert "observation: 1 rows with input_tokens outside 0..1_000_000_000" in out
    assert "llm_daily: 1 rows with negative cost_usd, e.g. day=2025-06-01" in out
    assert "llm_daily: 1 rows with input_tokens over calls x 1_000_000_000" in out
    assert "trace: 1 rows with input_tokens over generations x 1_000_000_000" in out


# --- the same limits for file imports and telemetry.capture ----------------------------------


def test_file_imports_refuse_out_of_range_lines_by_line_and_import_the_rest(engine, tmp_path):
    big = {**LIMIT_ATTRS, "gen_ai.usage.input_tokens": 2**63 - 1}
    otlp = tmp_path / "export.jsonl"
    otlp.write_text(
        "\n".join(
            [
                request_line([otlp_span(1, 1, name="fine")]),
                request_line([otlp_span(2, 1, attrs=big)]),
                request_line([otlp_span(3, 1, name="nul\x00name")]),
            ]
        )
        + "\n"
    )
    native = tmp_path / "native.jsonl"
    start = "2025-06-01T12:00:00Z"
    native.write_text(
        "\n".join(
            json.dumps(line)
            for line in [
                {"type": "trace", "id": "n-1", "start": start, "end": "2025-06-01T12:01:00Z"},
                {"type": "trace", "id": "n-2", "start": "1999-12-31T23:59:59Z", "end": start},
                {
                    "type": "observation",
                    "trace_id": "n-1",
                    "id": "call",
                    "kind": "generation",
                    "start": start,
                    "input_tokens": TOKENS_MAX + 1,
                },
                {"type": "trace", "id": "n-3\x00", "name": "a\x00b", "start": start},
            ]
        )
        + "\n"
    )
    report = import_files(engine, [otlp, native])

    reasons = sorted((r.location, r.reason) for r in report.rejections)
    assert [location for location, _reason in reasons] == [
        f"{otlp}:2 resourceSpans[0].scopeSpans[0].spans[0]",
        f"{native}:2",
        f"{native}:3",
    ]
    assert "gen_ai.usage.input_tokens is 9223372036854775807" in reasons[0][1]
    assert "start is 1999-12-31T23:59:59Z, before 2000-01-01" in reasons[1][1]
    assert "input_tokens is 1000000001" in reasons[2][1]
    with engine.connect() as conn:
        traces = dict(conn.execute(select(Trace.trace_id, Trace.name)).all())
        quarantined = conn.execute(select(IngestError.location)).scalars().all()
    assert traces == {
        f"{1:032x}": "fine",
        f"{3:032x}": "nul\ufffdname",
        "n-1": "",
        "n-3\ufffd": "a\ufffdb",
    }
    assert len(quarantined) == 3
    assert rollup_drift_of(engine) == []


def test_capture_follows_the_same_limits(engine):
    key, _ = create_key(engine, "default")
    with running_server(engine) as url:
        provider = telemetry.configure(url, key, "bot", set_global=False)
        telemetry.capture("fine", lambda: 1, tracer_provider=provider)
        telemetry.capture(
            "huge",
            lambda: 2,
            attributes={**LIMIT_ATTRS, "gen_ai.usage.output_tokens": 2**62},
            tracer_provider=provider,
        )
        telemetry.capture("nul\x00", lambda: 3, user_id="u\x00", tracer_provider=provider)
        provider.shutdown()
    with engine.connect() as conn:
        names = sorted(conn.execute(select(Trace.name)).scalars())
        reasons = conn.execute(select(IngestError.reason)).scalars().all()
    assert names == ["fine", "nul\ufffd"]
    assert len(reasons) == 1 and "gen_ai.usage.output_tokens is 4611686018427387904" in reasons[0]
    assert rollup_drift_of(engine) == []


def test_t0_is_inside_the_window():  # the fixtures above rely on it
    assert EARLIEST_US < T0_NS // 1000 < NOW and SECOND_NS == 10**9


def test_m018_widens_older_postgresql_columns(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps any integer in 64 bits; its sums cast to REAL")
    from telemetry.db import m018_overflow_safe_sums

    types = text(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE column_name IN ('duration_us_sum', 'code_lines_added') ORDER BY 1, 2"
    )
    with engine.begin() as conn:  # as the tables were before m018
        conn.execute(text("ALTER TABLE llm_daily ALTER COLUMN duration_us_sum TYPE bigint"))
        conn.execute(text("ALTER TABLE trace ALTER COLUMN code_lines_added TYPE integer"))
        m018_overflow_safe_sums(conn)
        m018_overflow_safe_sums(conn)  # idempotent
        found = {(table, column): kind for table, column, kind in conn.execute(types)}
    assert found == {
        ("command_daily", "duration_us_sum"): "double precision",
        ("llm_daily", "duration_us_sum"): "double precision",
        ("tool_daily", "duration_us_sum"): "double precision",
        ("trace", "code_lines_added"): "bigint",
        ("trace_daily", "code_lines_added"): "bigint",
        ("trace_daily", "duration_us_sum"): "double precision",
    }


def test_directory_and_audit_records_with_nul_are_stored_repaired(engine, tmp_path):
    from telemetry.models import AuditEvent, Team, User

    lines = tmp_path / "people.jsonl"
    lines.write_text(
        "\n".join(
            json.dumps(line)
            for line in [
                {"type": "user", "id": "u\x00", "name": "n\x00", "team": "t\x00"},
                {"type": "team", "name": "x\x00"},
                {"type": "audit", "ts": "2025-06-01T12:00:00Z", "actor": "a\x00", "action": "b"},
            ]
        )
        + "\n"
    )
    directory = tmp_path / "directory.csv"
    directory.write_bytes(b"id,name,email,company,team,status\nv\x00,Bo,b@x,c,t\x00,active\n")
    report = import_files(engine, [lines, directory])

    assert report.rejected == 0
    with engine.connect() as conn:
        users = set(conn.execute(select(User.external_id, User.name)).all())
        teams = set(conn.execute(select(Team.name)).scalars())
        actors = set(conn.execute(select(AuditEvent.actor)).scalars())
    assert users == {("u\ufffd", "n\ufffd"), ("v\ufffd", "Bo")}
    assert {"t\ufffd", "x\ufffd"} <= teams
    assert "a\ufffd" in actors
