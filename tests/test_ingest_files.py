"""File import: OTLP JSON lines or one request per file, bad lines, re-runs, interrupted runs."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from telemetry.cli import main
from telemetry.db import DATABASE_URL_ENV
from telemetry.ingest import files as files_module
from telemetry.ingest import parallel as parallel_module
from telemetry.ingest import writer as writer_module
from telemetry.ingest.files import FileImporter, import_files
from telemetry.ingest.limits import Limits
from telemetry.models import IngestError, Observation, Organization, Trace, User
from telemetry.store import ensure_org
from tests.ingest_support import (
    T0_NS,
    counts,
    observation_rows,
    otlp_request,
    otlp_span,
    request_line,
    rollup_drift_of,
    span_hex,
    trace_hex,
    trace_row,
)

DATA = Path(__file__).parent / "data"
AZURE_SAMPLE = DATA / "azure_llm_code_sample.csv"
AZURE_FULL = Path("/work/shared/data/azure-llm-inference-2023/AzureLLMInferenceTrace_code.csv")


def small_trace(trace: int, user: str = "u-1", **root_attrs) -> list[dict]:
    return [
        otlp_span(trace, 1, name="turn", end_s=5, attrs={"enduser.id": user, **root_attrs}),
        otlp_span(
            trace,
            2,
            parent=1,
            start_s=1,
            end_s=2,
            attrs={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 100 * trace,
                "gen_ai.usage.output_tokens": trace,
            },
        ),
    ]


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_malformed_line_is_reported_with_file_and_line_and_the_rest_is_stored(engine, tmp_path):
    path = write_lines(
        tmp_path / "export.jsonl",
        [request_line(small_trace(1)), '{"resourceSpans": [ broken', request_line(small_trace(2))],
    )
    report = import_files(engine, [path])
    assert [(r.location, "not valid JSON" in r.reason) for r in report.rejections] == [
        (f"{path}:2", True)
    ]
    assert (report.spans_stored, report.traces_created) == (4, 2)
    with engine.connect() as conn:
        kept = conn.execute(select(IngestError)).mappings().one()
    assert (kept["source"], kept["location"], kept["raw"]) == (
        str(path),
        f"{path}:2",
        '{"resourceSpans": [ broken',
    )


def test_importing_the_same_file_twice_gives_the_same_totals(engine, tmp_path):
    path = write_lines(
        tmp_path / "export.jsonl",
        [request_line(small_trace(n)) for n in (1, 2, 3)] + ["not json"],
    )
    first = import_files(engine, [path])
    rows = [trace_row(engine, n) for n in (1, 2, 3)]
    before = counts(engine)
    again = import_files(engine, [path])
    assert counts(engine) == before == {"traces": 3, "observations": 6, "quarantined": 1}
    assert [trace_row(engine, n) for n in (1, 2, 3)] == rows
    assert (first.spans_stored, first.duplicates) == (6, 0)
    assert (again.spans_stored, again.duplicates, again.rejected) == (0, 6, 1)


def test_an_interrupted_import_run_again_completes_without_duplicates(
    engine, tmp_path, monkeypatch
):
    path = write_lines(
        tmp_path / "export.jsonl", [request_line(small_trace(n)) for n in range(1, 7)]
    )
    limits = Limits(batch_spans=4)  # two traces per transaction
    real_write = writer_module.SpanWriter.write
    calls = []

    def dies_on_the_third_batch(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(writer_module.SpanWriter, "write", dies_on_the_third_batch)
    with pytest.raises(KeyboardInterrupt):
        import_files(engine, [path], limits=limits)
    assert counts(engine)["traces"] == 4  # two whole batches, nothing of the third
    monkeypatch.setattr(writer_module.SpanWriter, "write", real_write)

    report = import_files(engine, [path], limits=limits)
    assert (report.spans_stored, report.duplicates) == (4, 8)
    assert counts(engine) == {"traces": 6, "observations": 12, "quarantined": 0}
    with engine.connect() as conn:
        assert conn.execute(select(func.sum(Trace.input_tokens))).scalar() == 100 * sum(range(1, 7))
    assert rollup_drift_of(engine) == []


def test_one_pretty_printed_request_per_file_is_imported(engine, tmp_path):
    path = tmp_path / "request.json"
    path.write_text(json.dumps(otlp_request(small_trace(1)), indent=2))
    report = import_files(engine, [path])
    assert (report.spans_stored, report.rejected) == (2, 0)


def test_each_attribute_dialect_gives_the_same_trace_row(engine, tmp_path):
    dialects = {
        1: {  # current OpenTelemetry GenAI names
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.provider.name": "openai",
            "gen_ai.usage.input_tokens": 1000,
            "gen_ai.usage.output_tokens": 50,
            "gen_ai.usage.cache_read.input_tokens": 400,
            "gen_ai.conversation.id": "s-1",
            "enduser.id": "u-1",
        },
        2: {  # older names (OpenLLMetry)
            "llm.request.type": "chat",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.system": "openai",
            "gen_ai.usage.prompt_tokens": 1000,
            "gen_ai.usage.completion_tokens": 50,
            "gen_ai.usage.cache_read.input_tokens": 400,
            "gen_ai.conversation.id": "s-1",
            "enduser.id": "u-1",
        },
        3: {  # OpenInference
            "openinference.span.kind": "LLM",
            "llm.model_name": "gpt-4o",
            "llm.provider": "openai",
            "llm.token_count.prompt": 1000,
            "llm.token_count.completion": 50,
            "llm.token_count.prompt_details.cache_read": 400,
            "session.id": "s-1",
            "user.id": "u-1",
        },
    }
    lines = [
        request_line([otlp_span(n, 1, name="ask", end_s=2), otlp_span(n, 2, parent=1, attrs=a)])
        for n, a in dialects.items()
    ]
    import_files(engine, [write_lines(tmp_path / "dialects.jsonl", lines)])
    rows = [trace_row(engine, n) for n in dialects]
    fields = ("input_tokens", "output_tokens", "cache_read_tokens", "cost_usd", "generations")
    expected_cost = (600 * 2.50 + 400 * 1.25 + 50 * 10) / 1e6  # gpt-4o list prices
    for row in rows:
        assert {f: row[f] for f in fields} == {
            "input_tokens": 1000,
            "output_tokens": 50,
            "cache_read_tokens": 400,
            "cost_usd": pytest.approx(expected_cost),
            "generations": 1,
        }
    # The user and session sit on the child span: the trace takes them from there.
    assert len({(r["user_id"], r["session_id"]) for r in rows}) == 1
    assert rows[0]["user_id"] is not None and rows[0]["session_id"] is not None


# --- a real production token file ----------------------------------------------------


def azure_rows(path: Path, limit: int | None = None) -> list[tuple[datetime, int, int]]:
    with path.open(newline="") as handle:
        rows = []
        for row in csv.DictReader(handle):
            stamp = datetime.fromisoformat(row["TIMESTAMP"]).replace(tzinfo=UTC)
            rows.append((stamp, int(row["ContextTokens"]), int(row["GeneratedTokens"])))
            if limit and len(rows) == limit:
                break
    return rows


def azure_otlp_file(rows, path: Path, per_line: int = 100) -> Path:
    """One trace per request (one LLM call), 100 requests per OTLP/JSON line."""
    lines = []
    for start in range(0, len(rows), per_line):
        spans = []
        for index, (stamp, context_tokens, generated) in enumerate(rows[start : start + per_line]):
            number = start + index + 1
            start_ns = int(stamp.timestamp() * 1_000_000) * 1000
            spans.append(
                {
                    "traceId": trace_hex(number),
                    "spanId": span_hex(1),
                    "name": "code completion",
                    "startTimeUnixNano": str(start_ns),
                    "endTimeUnixNano": str(start_ns + 500_000_000),
                    "status": {"code": 1},
                    "attributes": [
                        {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                        {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                        {"key": "gen_ai.usage.input_tokens", "value": {"intValue": context_tokens}},
                        {"key": "gen_ai.usage.output_tokens", "value": {"intValue": generated}},
                    ],
                }
            )
        lines.append(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}))
    return write_lines(path, lines)


def assert_imports_exactly_once(engine, rows, path: Path) -> None:
    expected = (len(rows), sum(r[1] for r in rows), sum(r[2] for r in rows))
    for _ in range(3):
        import_files(engine, [path])
        with engine.connect() as conn:
            stored = conn.execute(
                select(func.count(), func.sum(Trace.input_tokens), func.sum(Trace.output_tokens))
            ).one()
        assert tuple(stored) == expected
        assert counts(engine)["observations"] == len(rows)


def test_a_production_token_file_imports_exactly_once_however_often(engine, tmp_path):
    rows = azure_rows(AZURE_SAMPLE)
    assert len(rows) == 300
    assert_imports_exactly_once(engine, rows, azure_otlp_file(rows, tmp_path / "azure.jsonl"))


@pytest.mark.skipif(not AZURE_FULL.exists(), reason="the full Azure trace is not on this machine")
def test_the_full_production_token_file_imports_exactly_once(sqlite_engine, tmp_path):
    rows = azure_rows(AZURE_FULL)
    assert_imports_exactly_once(sqlite_engine, rows, azure_otlp_file(rows, tmp_path / "a.jsonl"))


# --- the command line ---------------------------------------------------------


def cli(engine, monkeypatch, capsys, *args) -> tuple[int, str]:
    monkeypatch.setenv(DATABASE_URL_ENV, engine.url.render_as_string(hide_password=False))
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_ingest_command_prints_a_summary_and_exits_2_when_something_was_rejected(
    engine, tmp_path, monkeypatch, capsys
):
    clean = write_lines(tmp_path / "clean.jsonl", [request_line(small_trace(1))])
    code, out = cli(engine, monkeypatch, capsys, "ingest", str(clean))
    assert code == 0
    assert "stored: 2 spans, 1 new traces" in out and "rejected: 0 records" in out

    dirty = write_lines(tmp_path / "dirty.jsonl", [request_line(small_trace(2)), "oops"])
    code, out = cli(engine, monkeypatch, capsys, "ingest", str(dirty), str(clean))
    assert code == 2
    assert "skipped: 2 duplicate spans" in out and f"{dirty}:2: not valid JSON" in out

    code, out = cli(engine, monkeypatch, capsys, "ingest", str(tmp_path / "missing.jsonl"))
    assert code == 2 and "no such file" in out


def test_ingest_into_an_unknown_organization_says_how_to_create_it(
    engine, tmp_path, monkeypatch, capsys
):
    path = write_lines(tmp_path / "a.jsonl", [request_line(small_trace(1))])
    code, out = cli(engine, monkeypatch, capsys, "ingest", str(path), "--org", "nope")
    assert code == 2 and "orgs create nope" in out


def test_files_import_into_the_organization_given(engine, tmp_path):
    with engine.begin() as conn:
        ensure_org(conn, "acme")
    path = write_lines(tmp_path / "a.jsonl", [request_line(small_trace(1))])
    FileImporter(engine, "acme").import_path(path)
    assert observation_rows(engine, 1)[span_hex(2)]["input_tokens"] == 100
    with engine.connect() as conn:
        slugs = conn.execute(
            select(Organization.slug).join(Trace, Trace.org_id == Organization.id)
        ).scalars()
        assert list(slugs) == ["acme"]


def test_workers_read_the_same_numbered_lines_as_iterating_over_the_file(tmp_path):
    """Chunks are byte ranges the workers read themselves: the same lines, numbers, bytes."""
    path = tmp_path / "lines.jsonl"
    path.write_bytes(b'{"a": 1}\n\r\n  \n{"b": "x\ry"}\r\n' + b"z" * 50 + b'\n\n{"c": 3}')
    with path.open("rb") as handle:
        expected = list(enumerate(handle, 1))
    for size in (1, 7, 30, 10_000):
        with path.open("rb") as handle:
            found = list(parallel_module.chunks(handle, size))
        lines = [line for chunk in found for line in parallel_module.read_chunk(str(path), chunk)]
        assert lines == expected
        assert sum(chunk.size for chunk in found) == path.stat().st_size


@pytest.mark.parametrize("fmt", ["otlp-json", "jsonl"])
def test_worker_processes_parse_a_large_file_as_the_importer_itself_would(
    engine, tmp_path, monkeypatch, fmt
):
    """Same batches, rows, rejections with file:line, and rollups, with or without workers."""
    if fmt == "otlp-json":
        lines = [request_line(small_trace(n, user=f"u-{n % 3}")) for n in range(1, 40)]
        lines[7] = '{"resourceSpans": [ broken'
    else:
        lines = [
            json.dumps({"type": "user", "id": "u-1", "team": "Platform"}),
            *(
                json.dumps(
                    {"type": "trace", "id": f"t{n}", "name": "run", "user": "u-1",
                     "start": "2025-06-01T12:00:00Z", "end": "2025-06-01T12:00:05Z"}
                )
                for n in range(1, 30)
            ),
            '{"type": "trace", "id": "t-bad"}',
        ]  # fmt: skip
    path = write_lines(tmp_path / "big.jsonl", [*lines, "", *lines[:3]])
    monkeypatch.setattr(files_module, "PARALLEL_FROM_BYTES", 0)
    monkeypatch.setattr(parallel_module, "_CHUNK_BYTES", 700)  # many chunks, not one
    writes: list[int] = []
    real_write = writer_module.SpanWriter.write

    def counted(self, records=(), *args, **kwargs):
        writes.append(len(records))
        return real_write(self, records, *args, **kwargs)

    monkeypatch.setattr(writer_module.SpanWriter, "write", counted)
    parallel_runs: list[int] = []
    real_parsed_lines = files_module.parsed_lines

    def parsed_lines(*args):
        parallel_runs.append(args[4])  # the number of workers
        return real_parsed_lines(*args)

    monkeypatch.setattr(files_module, "parsed_lines", parsed_lines)
    results = {}
    for workers in ("0", "2"):
        monkeypatch.setenv("TELEMETRY_INGEST_WORKERS", workers)
        org = f"workers-{workers}"
        with engine.begin() as conn:
            ensure_org(conn, org)
        writes.clear()
        report = import_files(engine, [path], org=org, fmt=fmt, limits=Limits(batch_spans=7))
        with engine.connect() as conn:
            org_pk = conn.execute(select(Organization.id).where(Organization.slug == org)).scalar()
            traces = conn.execute(
                select(Trace.trace_id, Trace.status, Trace.input_tokens).where(
                    Trace.org_id == org_pk
                )
            ).all()
        results[workers] = (
            list(writes),
            report.spans_stored,
            report.duplicates,
            [(r.location, r.reason) for r in report.rejections],
            sorted(traces),
        )
        assert rollup_drift_of(engine, org) == []
    assert parallel_runs == [2]  # only the second import used worker processes
    assert results["2"] == results["0"]
    assert results["0"][3], "the file has a bad line"


def test_users_first_and_last_run_widen_batch_by_batch(engine, tmp_path):
    """Each batch widens its users' first/last run start (one statement per batch on
    PostgreSQL): runs arriving middle, earliest, latest, and another user's in between."""
    starts = {"ann": [100.0, 20.0, 300.0], "bob": [50.0]}  # seconds after T0, in file order
    lines = []
    for number, (user, start) in enumerate(
        [("ann", 100.0), ("ann", 20.0), ("bob", 50.0), ("ann", 300.0)], start=1
    ):
        span = otlp_span(number, 1, start_s=start, end_s=start + 1, attrs={"enduser.id": user})
        lines.append(request_line([span]))
    path = write_lines(tmp_path / "users.jsonl", lines)
    import_files(engine, [path], limits=Limits(batch_spans=1))  # one run per transaction
    with engine.connect() as conn:
        rows = conn.execute(select(User.external_id, User.first_trace_us, User.last_trace_us)).all()
    expected = {
        user: (T0_NS // 1000 + int(min(s) * 1e6), T0_NS // 1000 + int(max(s) * 1e6))
        for user, s in starts.items()
    }
    assert {external: (first, last) for external, first, last in rows} == expected


def test_new_traces_stored_by_copy_or_by_insert_are_the_same(engine, tmp_path, monkeypatch):
    """PostgreSQL stores a batch's new traces by COPY from a threshold on, else by one
    INSERT: both give the same trace rows, with each span under its own trace."""
    from telemetry.ingest import spans as spans_module

    path = write_lines(
        tmp_path / "traces.jsonl",
        [request_line([s for n in range(k, k + 5) for s in small_trace(n, user=f"u-{n % 4}")])
         for k in range(1, 31, 5)],
    )  # fmt: skip
    stored = {}
    for org, threshold in (("by-copy", 1), ("by-insert", 10**9)):
        monkeypatch.setattr(spans_module, "_COPY_TRACES_FROM", threshold)
        with engine.begin() as conn:
            ensure_org(conn, org)
        assert import_files(engine, [path], org=org).spans_stored == 60
        with engine.connect() as conn:
            org_pk = conn.execute(select(Organization.id).where(Organization.slug == org)).scalar()
            traces = conn.execute(select(Trace).where(Trace.org_id == org_pk)).mappings().all()
            spans = conn.execute(
                select(Trace.trace_id, Observation.span_id, Observation.input_tokens)
                .join(Trace, Trace.id == Observation.trace_pk)
                .where(Observation.org_id == org_pk)
            ).all()
        ignored = ("id", "org_id", "user_id", "team_id", "session_id")
        stored[org] = (
            sorted(tuple(v for k, v in row.items() if k not in ignored) for row in traces),
            sorted(spans),
        )
        assert rollup_drift_of(engine, org) == []
    assert stored["by-copy"] == stored["by-insert"]
    assert len(stored["by-copy"][0]) == 30 and len(stored["by-copy"][1]) == 60
