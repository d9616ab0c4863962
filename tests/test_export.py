"""Bulk export: files read back equal the seeded input (counts and sums), manifest, scoping."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import date, datetime

import pytest

from telemetry.accounts import Account
from telemetry.cli import main as cli_main
from telemetry.export import ExportRequest, export_records, scoped_for
from telemetry.filters import Filters
from telemetry.models import Score
from tests.factories import Dataset, generation, root, tool

PERIOD = Filters(start=date(2026, 3, 1), end=date(2026, 3, 31))
ALL = ("sessions", "traces", "generations", "tool_runs")
# Every span carries the content keys: the factory inserts the first span's keys only.
NO_CONTENT = {"input_content": "", "output_content": ""}


def _seed(engine) -> Dataset:
    ds = Dataset(engine)
    ds.user("ana", team="alpha")
    ds.user("bob", team="beta")
    for n in range(12):
        user = "ana" if n % 3 else "bob"
        model = "gpt-4o" if n % 2 else "claude-3"
        ds.trace(
            f"t{n}",
            user=user,
            session=f"s{n % 4}-{user}",
            agent="coder" if n % 4 else "helper",
            start=datetime(2026, 3, 1 + n * 2, 9, n),
            spans=[
                root("/ask", seconds=40, context=NO_CONTENT),
                generation(
                    model=model,
                    at=1,
                    input_tokens=100 + n,
                    output_tokens=10 * n,
                    cache_read_tokens=n,
                    cost_usd=0.125 * n,
                    context={"input_content": f"prompt {n}", "output_content": "=HYPERLINK(1)"},
                ),
                tool("=cmd|calc" if n == 5 else "search", at=5, context=NO_CONTENT),
            ],
        )
    ds.trace("outside", user="ana", start=datetime(2026, 4, 2, 9))  # after the period
    return ds


def _read(path, fmt: str) -> list[dict]:
    data = path.read_bytes()
    if fmt == "jsonl":
        return [json.loads(line) for line in data.decode().splitlines()]
    if fmt == "json":
        return json.loads(data)
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def _in_period(rows: list[dict]) -> list[dict]:
    return [row for row in rows if PERIOD.start_us <= row["start_us"] < PERIOD.end_us]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "json"])
def test_files_read_back_equal_the_seeded_records(engine, tmp_path, fmt):
    ds = _seed(engine)
    manifest = export_records(engine, ExportRequest(PERIOD, ALL, fmt), tmp_path)
    traces = _in_period(ds.traces)
    spans = _in_period(ds.observations)
    calls = [s for s in spans if s["kind"] == "generation"]
    tools = [s for s in spans if s["kind"] == "tool"]
    number = float if fmt != "csv" else lambda value: float(value)

    read = {kind: _read(tmp_path / entry["file"], fmt) for kind, entry in manifest["kinds"].items()}
    assert {kind: entry["rows"] for kind, entry in manifest["kinds"].items()} == {
        "sessions": len({t["session_id"] for t in traces}),
        "traces": len(traces),
        "generations": len(calls),
        "tool_runs": len(tools),
    }
    assert {kind: len(rows) for kind, rows in read.items()} == {
        kind: entry["rows"] for kind, entry in manifest["kinds"].items()
    }
    for entry in manifest["kinds"].values():
        digest = hashlib.sha256((tmp_path / entry["file"]).read_bytes()).hexdigest()
        assert entry["sha256"] == digest
    assert sum(number(r["cost_usd"]) for r in read["traces"]) == pytest.approx(
        sum(t["cost_usd"] for t in traces)
    )
    assert sum(int(r["output_tokens"]) for r in read["generations"]) == sum(
        c["output_tokens"] for c in calls
    )
    assert sum(int(r["cache_read_tokens"]) for r in read["generations"]) == sum(
        c["cache_read_tokens"] for c in calls
    )
    assert sum(int(r["traces"]) for r in read["sessions"]) == len(traces)
    assert {r["trace_id"] for r in read["traces"]} == {t["trace_id"] for t in traces}
    assert {r["user_id"] for r in read["traces"]} == {"ana", "bob"}
    assert "input_content" not in read["generations"][0]  # content only when asked
    if fmt == "csv":  # formula-like cells neutralised
        assert "'=cmd|calc" in {r["tool_name"] for r in read["tool_runs"]}
    manifest_file = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest_file["schema_version"] == 1 and manifest_file["kinds"] == manifest["kinds"]
    assert manifest_file["filters"]["from"] == "2026-03-01"


def test_filters_agent_model_and_content(engine, tmp_path):
    ds = _seed(engine)
    request = ExportRequest(
        PERIOD, ("traces", "generations"), "jsonl", content=True, agent="coder", model="gpt-4o"
    )
    manifest = export_records(engine, request, tmp_path)
    calls = [
        c
        for c in _in_period(ds.observations)
        if c["kind"] == "generation" and c["agent"] == "coder" and c["model"] == "gpt-4o"
    ]
    generations = _read(tmp_path / "generations.jsonl", "jsonl")
    assert len(generations) == len(calls) == manifest["kinds"]["generations"]["rows"]
    assert {g["input_content"] for g in generations} == {c["input_content"] for c in calls}
    traces = _read(tmp_path / "traces.jsonl", "jsonl")
    assert {t["trace_id"] for t in traces} == {
        t["trace_id"] for t in _in_period(ds.traces) if t["id"] in {c["trace_pk"] for c in calls}
    }


def test_manager_exports_only_their_teams_and_no_content(engine, tmp_path):
    ds = _seed(engine)
    manager = Account("mia", "Mia", "manager", (("default", ("alpha",)),))
    with pytest.raises(PermissionError, match="only admins"):
        scoped_for(manager, ExportRequest(PERIOD, ("traces",), content=True))
    asked = ExportRequest(Filters(PERIOD.start, PERIOD.end, teams=("beta",)), ("traces",))
    assert scoped_for(manager, asked).filters.teams == ()
    request = scoped_for(manager, ExportRequest(PERIOD, ("traces",)))
    export_records(engine, request, tmp_path)
    rows = _read(tmp_path / "traces.jsonl", "jsonl")
    alpha = [t for t in _in_period(ds.traces) if t["team_id"] == ds.teams["alpha"]]
    assert len(rows) == len(alpha) > 0 and {r["team"] for r in rows} == {"alpha"}


def test_unknown_kind_is_refused_before_anything_is_written(
    sqlite_engine, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("TELEMETRY_DATABASE_URL", str(sqlite_engine.url))
    out = tmp_path / "out"
    code = cli_main(
        [
            "export",
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-31",
            "--include",
            "traces,ratings",
            "-o",
            str(out),
        ]
    )
    assert code == 2
    assert "unknown kind 'ratings'" in capsys.readouterr().err
    assert not out.exists()


def test_scores_of_the_period_traces_with_comments_for_admins_only(engine, tmp_path):
    ds = _seed(engine)
    # A score on every other trace, the one after the period included.
    scored = [t for n, t in enumerate(ds.traces) if n % 2 == 0 or t["trace_id"] == "outside"]
    with engine.begin() as conn:
        for n, trace in enumerate(scored):
            conn.execute(
                Score.__table__.insert().values(
                    org_id=ds.org_id,
                    score_key=f"k{n}",
                    trace_id=trace["trace_id"],
                    name="relevance",
                    value=n / 4,
                    comment=f"=note {n}",
                    source="llm",
                    time_us=trace["start_us"],
                    trace_pk=trace["id"],
                    trace_day=trace["start_day"],
                )
            )
    expected = [(t["trace_id"], n / 4) for n, t in enumerate(scored) if t in _in_period(ds.traces)]
    manifest = export_records(engine, ExportRequest(PERIOD, ("scores",), "csv"), tmp_path)
    rows = _read(tmp_path / "scores.csv", "csv")
    assert manifest["kinds"]["scores"]["rows"] == len(rows) == len(expected) > 0
    assert sorted((r["trace_id"], float(r["value"])) for r in rows) == sorted(expected)
    assert "comment" not in rows[0]
    export_records(engine, ExportRequest(PERIOD, ("scores",), "csv", content=True), tmp_path)
    comments = {r["comment"] for r in _read(tmp_path / "scores.csv", "csv")}
    assert "'=note 0" in comments  # neutralised like every CSV cell
