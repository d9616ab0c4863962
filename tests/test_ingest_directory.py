"""The native JSONL records and the user-directory CSV: users, teams, traces, audit events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import event, select

from telemetry.ingest.files import import_files
from telemetry.models import AuditEvent, Observation, Team, Trace, User
from telemetry.timeutil import parse_rfc3339, to_us
from tests.ingest_support import otlp_span, request_line, rollup_drift_of, trace_hex


def write(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def jsonl(path: Path, *records: dict | str) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    return write(path, "\n".join(lines))


def us(text: str) -> int:
    return to_us(parse_rfc3339(text))


def users(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(User, Team.name.label("team")).outerjoin(Team, Team.id == User.team_id)
        ).mappings()
        return {row["external_id"]: dict(row) for row in rows}


def teams_of_traces(engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(Trace.trace_id, Team.name).outerjoin(Team, Team.id == Trace.team_id)
        ).all()
    return dict(rows)


def teams_of_observations(engine) -> set[tuple[str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(Trace.trace_id, Team.name)
            .join(Observation, Observation.trace_pk == Trace.id)
            .outerjoin(Team, Team.id == Observation.team_id)
        ).all()
    return {tuple(row) for row in rows}


NATIVE = [
    {"type": "team", "name": "Platform"},
    {
        "type": "user",
        "id": "ada",
        "name": "Ada",
        "email": "ada@example.com",
        "company": "Acme",
        "team": "Platform",
        "status": "active",
    },
    {
        "type": "trace",
        "id": "t-1",
        "name": "/review",
        "start": "2025-06-01T12:00:00Z",
        "end": "2025-06-01T12:00:10Z",
        "status": "ok",
        "user": "ada",
        "session": "c-1",
        "module": "code-review",
        "agent": "reviewer",
        "environment": "staging",
        "task_outcome": "clean",
        "code_lines_added": 12,
        "code_lines_removed": 3,
    },
    {
        "type": "observation",
        "trace_id": "t-1",
        "id": "g1",
        "kind": "generation",
        "name": "chat",
        "start": "2025-06-01T12:00:01Z",
        "end": "2025-06-01T12:00:04Z",
        "model": "gpt-4o",
        "provider": "openai",
        "input_tokens": 1000,
        "cache_read_tokens": 200,
        "output_tokens": 100,
    },
    {
        "type": "observation",
        "trace_id": "t-1",
        "id": "tool1",
        "kind": "tool",
        "tool_name": "grep",
        "start": "2025-06-01T12:00:05Z",
        "end": "2025-06-01T12:00:06Z",
        "status": "error",
        "status_message": "exit 2",
    },
    {
        "type": "trace",
        "id": "t-2",
        "name": "/fix",
        "start": "2025-06-01T13:00:00+02:00",
        "end": "2025-06-01T13:00:30+02:00",
        "status": "timeout",
        "user": "bob",
    },
    {
        "type": "audit",
        "ts": "2025-06-01T12:30:00Z",
        "actor": "root",
        "action": "report.export",
        "target": "overview.pdf",
        "details": {"pages": 3},
    },
    {"type": "bogus"},
    {"type": "trace", "id": "t-3", "start": "2025-06-01 12:00:00", "end": "2025-06-01 12:01:00"},
]


def test_native_jsonl_stores_every_record_type(engine, tmp_path):
    path = jsonl(tmp_path / "native.jsonl", *NATIVE)
    report = import_files(engine, [path])

    assert [r.location for r in report.rejections] == [f"{path}:8", f"{path}:9"]
    assert "time zone" in report.rejections[1].reason
    review = {
        k: v
        for k, v in _trace(engine, "t-1").items()
        if k
        in (
            "name",
            "status",
            "module",
            "agent",
            "environment",
            "input_tokens",
            "cache_read_tokens",
            "output_tokens",
            "generations",
            "tool_calls",
            "tool_errors",
            "code_lines_added",
            "code_lines_removed",
            "task_outcome",
            "duration_ms",
        )
    }
    assert review == {
        "name": "/review",
        "status": "ok",
        "module": "code-review",
        "agent": "reviewer",
        "environment": "staging",
        "input_tokens": 1000,
        "cache_read_tokens": 200,
        "output_tokens": 100,
        "generations": 1,
        "tool_calls": 1,
        "tool_errors": 1,
        "code_lines_added": 12,
        "code_lines_removed": 3,
        "task_outcome": "clean",
        "duration_ms": 10_000.0,
    }
    assert _trace(engine, "t-1")["cost_usd"] == pytest.approx(
        (800 * 2.5 + 200 * 1.25 + 100 * 10) / 1e6
    )
    fix = _trace(engine, "t-2")
    assert (fix["status"], fix["error_type"], fix["start_us"]) == (
        "timeout",
        "timeout",
        us("2025-06-01T11:00:00Z"),
    )
    people = users(engine)
    assert (people["ada"]["team"], people["ada"]["company"], people["bob"]["team"]) == (
        "Platform",
        "Acme",
        "Unassigned",
    )
    assert teams_of_traces(engine) == {"t-1": "Platform", "t-2": "Unassigned"}
    with engine.connect() as conn:
        audit = conn.execute(select(AuditEvent)).mappings().one()
    assert (audit["actor"], audit["action"], json.loads(audit["details"])) == (
        "root",
        "report.export",
        {"pages": 3},
    )

    again = import_files(engine, [path])
    assert (again.spans_stored, again.audit_events, again.users_created) == (0, 0, 0)
    with engine.connect() as conn:
        assert len(conn.execute(select(AuditEvent.id)).all()) == 1
    assert rollup_drift_of(engine) == []


def _trace(engine, trace_id: str) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(select(Trace).where(Trace.trace_id == trace_id)).mappings().one())


def test_a_native_trace_without_end_is_running(engine, tmp_path):
    path = jsonl(
        tmp_path / "open.jsonl", {"type": "trace", "id": "t-9", "start": "2025-06-01T12:00:00Z"}
    )
    import_files(engine, [path])
    assert (_trace(engine, "t-9")["status"], _trace(engine, "t-9")["end_us"]) == ("running", None)


DIRECTORY = """
id,name,email,company,team,status
ada,Ada Lovelace,ada@example.com,Acme,Platform,active
bob,Bob,bob@example.com,Acme,Sales,Suspended
eve,Eve,,Acme,Sales,gone
dan,Dan
"""


def test_user_directory_csv_upserts_users_and_teams_and_reports_bad_rows(engine, tmp_path):
    path = write(tmp_path / "people.csv", DIRECTORY)
    report = import_files(engine, [path])
    assert [r.location for r in report.rejections] == [f"{path}:4", f"{path}:5"]
    assert "not one of" in report.rejections[0].reason
    assert "2 cells" in report.rejections[1].reason
    people = users(engine)
    assert {k: (v["name"], v["team"], v["status"]) for k, v in people.items()} == {
        "ada": ("Ada Lovelace", "Platform", "active"),
        "bob": ("Bob", "Sales", "suspended"),
    }
    assert (report.users_created, report.teams_created) == (2, 2)

    again = import_files(engine, [path])
    assert (again.users_created, again.users_updated) == (0, 0)


def test_empty_directory_cells_leave_stored_values_alone(engine, tmp_path):
    import_files(engine, [write(tmp_path / "a.csv", DIRECTORY.split("eve")[0])])
    update = "id,name,email,company,team,status\nada,,,,,\nbob,Robert,,,,active\n"
    report = import_files(engine, [write(tmp_path / "b.csv", update)])
    people = users(engine)
    assert (people["ada"]["email"], people["ada"]["team"]) == ("ada@example.com", "Platform")
    assert (people["bob"]["name"], people["bob"]["status"]) == ("Robert", "active")
    assert report.users_updated == 1


def test_a_csv_without_the_required_header_is_rejected_at_line_1(engine, tmp_path):
    path = write(tmp_path / "bad.csv", "user,mail\nada,ada@example.com")
    report = import_files(engine, [path])
    assert report.rejections[0].location == f"{path}:1"
    assert "missing: id, name, email, company, team, status" in report.rejections[0].reason
    assert users(engine) == {}


def test_moving_a_user_to_another_team_moves_the_traces_counted_under_the_old_one(engine, tmp_path):
    def turn(trace: int, **attrs) -> str:
        return request_line(
            [
                otlp_span(trace, 1, name="turn", attrs={"enduser.id": "carl", **attrs}),
                otlp_span(trace, 2, parent=1, attrs={"gen_ai.operation.name": "chat"}),
            ]
        )

    # First seen without a team: "Unassigned"; a later run names its team explicitly.
    import_files(engine, [write(tmp_path / "a.jsonl", turn(1, **{"user.email": "carl@x.io"}))])
    import_files(engine, [write(tmp_path / "b.jsonl", turn(2, **{"team.name": "Sales"}))])
    assert users(engine)["carl"]["team"] == "Unassigned"
    assert users(engine)["carl"]["email"] == "carl@x.io"

    directory = "id,name,email,company,team,status\ncarl,Carl,,Acme,Platform,active\n"
    import_files(engine, [write(tmp_path / "people.csv", directory)])
    assert users(engine)["carl"]["team"] == "Platform"
    assert teams_of_traces(engine) == {trace_hex(1): "Platform", trace_hex(2): "Sales"}
    assert teams_of_observations(engine) == {(trace_hex(1), "Platform"), (trace_hex(2), "Sales")}

    # New telemetry of carl now lands in Platform directly.
    import_files(engine, [write(tmp_path / "more.jsonl", turn(3))])
    assert teams_of_traces(engine)[trace_hex(3)] == "Platform"
    assert rollup_drift_of(engine) == []


def test_a_directory_moving_many_users_moves_them_all_in_one_statement_per_table(engine, tmp_path):
    def run(trace: int, user: str, start: float, **attrs) -> str:
        attrs = {"enduser.id": user, **attrs}
        return request_line(
            [
                otlp_span(trace, 1, name="turn", start_s=start, end_s=start + 9, attrs=attrs),
                otlp_span(trace, 2, parent=1, start_s=start + 1, end_s=start + 2, attrs=attrs),
            ]
        )

    # 30 users first seen without a team (Unassigned), with traces over three days;
    # then one run of each third user names team Sales, which the move must not touch.
    first = [run(n + 1, f"u{n}", n * 8_640) for n in range(30)]
    import_files(engine, [write(tmp_path / "runs.jsonl", "\n".join(first))])
    named = [
        run(n + 101, f"u{n}", n * 8_640 + 60, **{"team.name": "Sales"}) for n in range(0, 30, 3)
    ]
    import_files(engine, [write(tmp_path / "sales.jsonl", "\n".join(named))])
    assert set(teams_of_traces(engine).values()) == {"Unassigned", "Sales"}

    rows = [f"u{n},,,,{'Platform' if n % 2 else 'Support'},active" for n in range(30)]
    directory = "id,name,email,company,team,status\n" + "\n".join(rows) + "\n"
    statements: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.replace('"', "").split()).upper())

    event.listen(engine, "before_cursor_execute", remember)
    try:
        report = import_files(engine, [write(tmp_path / "people.csv", directory)])
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    assert report.users_updated == 30

    expected = {trace_hex(n + 1): "Platform" if n % 2 else "Support" for n in range(30)}
    expected |= {trace_hex(n + 101): "Sales" for n in range(0, 30, 3)}
    assert teams_of_traces(engine) == expected
    assert teams_of_observations(engine) == set(expected.items())
    moves = [s for s in statements if " TRACE SET TEAM_ID" in s or " OBSERVATION SET TEAM_ID" in s]
    assert len(moves) == 2, moves
    assert rollup_drift_of(engine) == []


def test_the_documented_jsonl_example_imports_cleanly(engine, tmp_path):
    text = (Path(__file__).parent.parent / "docs" / "jsonl.md").read_text()
    example = text.split("```jsonl\n", 1)[1].split("```", 1)[0]
    report = import_files(engine, [write(tmp_path / "example.jsonl", example)])
    assert report.rejections == []
    assert (report.spans_stored, report.users_created, report.audit_events) == (3, 1, 1)
    assert _trace(engine, "run-1")["tool_errors"] == 1
