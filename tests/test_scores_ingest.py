"""Scores in: OTLP evaluation events (real SDK; span events or log records), POST /api/scores,
JSONL, telemetry.score."""

from __future__ import annotations

import json

import pytest
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import set_span_in_context
from sqlalchemy import select
from starlette.applications import Starlette

import telemetry
from telemetry.apikeys import create_key
from telemetry.ingest.files import import_files
from telemetry.ingest.scores import trace_quality_drift
from telemetry.models import IngestError, Score, Trace, TraceQuality
from telemetry.scores import set_score_config
from telemetry.server import server_routes
from telemetry.store import org_id
from tests.http_support import serving
from tests.ingest_support import SECOND_NS, T0_NS, post

TRACE = "0af7651916cd43dd8448eb211c80319c"
LATE_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def _scores(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(select(Score).order_by(Score.id)).mappings().all()
    return {row["score_key"]: dict(row) for row in rows}


def _quality(engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(TraceQuality.trace_id, TraceQuality.positive, TraceQuality.reviewed)
        ).all()
    return {trace_id: (positive, reviewed) for trace_id, positive, reviewed in rows}


def _drift(engine) -> list[str]:
    with engine.connect() as conn:
        return trace_quality_drift(conn, org_id(conn, "default"))


def _post_scores(url: str, body, key: str | None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, _headers, answer = post(f"{url}/api/scores", data, headers)
    return status, json.loads(answer)


def _export_evaluated_run(url: str, key: str) -> tuple[str, str]:
    """One agent run whose LLM call carries two evaluation events and a broken one."""
    exporter = OTLPSpanExporter(
        endpoint=f"{url}/v1/traces", headers={"Authorization": f"Bearer {key}"}
    )
    provider = TracerProvider(resource=Resource.create({"service.name": "judge-bot"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests")
    root = tracer.start_span("answer", attributes={"enduser.id": "u-1"}, start_time=T0_NS)
    call = tracer.start_span(
        "chat gpt-4o", context=set_span_in_context(root), start_time=T0_NS + SECOND_NS
    )
    call.add_event(
        "gen_ai.evaluation.result",
        {
            "gen_ai.evaluation.name": "relevance",
            "gen_ai.evaluation.score.value": 0.75,
            "gen_ai.evaluation.score.label": "relevant",
            "gen_ai.evaluation.explanation": "<b>on topic</b>",
        },
        timestamp=T0_NS + 3 * SECOND_NS,
    )
    call.add_event(
        "gen_ai.evaluation.result",
        {"gen_ai.evaluation.name": "review", "gen_ai.evaluation.score.label": "pass"},
        timestamp=T0_NS + 4 * SECOND_NS,
    )
    call.add_event(
        "gen_ai.evaluation.result",
        {"gen_ai.evaluation.name": "relevance", "gen_ai.evaluation.score.value": "high"},
        timestamp=T0_NS + 5 * SECOND_NS,
    )
    call.end(end_time=T0_NS + 6 * SECOND_NS)
    root.end(end_time=T0_NS + 7 * SECOND_NS)
    provider.shutdown()
    return format(root.get_span_context().trace_id, "032x"), format(
        call.get_span_context().span_id, "016x"
    )


def test_evaluation_events_from_the_sdk_are_scores_of_their_span(engine):
    key, _ = create_key(engine, "default")
    app = Starlette(routes=server_routes(lambda: engine))
    with serving(app) as url:
        trace_id, span_id = _export_evaluated_run(url, key)
        first = _scores(engine)
        _export_evaluated_run(url, key)  # other trace ids: scores of another run
    runs = {}
    for score in _scores(engine).values():
        runs.setdefault(score["trace_id"], []).append(score)
    assert len(runs) == 2 and len(first) == 2
    mine = sorted(runs[trace_id], key=lambda s: s["name"])
    assert [(s["name"], s["value"], s["label"], s["source"]) for s in mine] == [
        ("relevance", 0.75, "relevant", "llm"),
        ("review", None, "pass", "llm"),
    ]
    assert {s["span_id"] for s in mine} == {span_id}
    assert mine[0]["comment"] == "<b>on topic</b>"
    assert _quality(engine)[trace_id] == (1, 0)  # "review: pass" is a positive verdict
    with engine.connect() as conn:
        reasons = conn.execute(select(IngestError.reason)).scalars().all()
    assert len(reasons) == 2 and all("must be a number" in reason for reason in reasons)
    assert _drift(engine) == []


def test_scores_over_http_need_a_key_and_are_checked_one_by_one(engine):
    key, _ = create_key(engine, "default")
    with engine.begin() as conn:
        org = org_id(conn, "default")
        set_score_config(conn, org, "user_feedback", kind="boolean", labels=("up", "down"))
        set_score_config(conn, org, "hallucination", kind="categorical", labels=("yes", "no"))
        set_score_config(
            conn, org, "instruction_following", kind="numeric", min_value=1, max_value=5
        )
    app = Starlette(routes=server_routes(lambda: engine))
    good = [
        {"trace_id": TRACE, "name": "user_feedback", "label": "down", "id": "fb-1",
         "time": "2026-05-01T10:00:00Z", "comment": "=HYPERLINK(\"x\")"},
        {"trace_id": TRACE, "name": "user_feedback", "label": "up", "id": "fb-2",
         "time": "2026-05-01T10:05:00Z"},
        {"trace_id": TRACE.upper(), "name": "instruction_following", "value": 4, "source": "human"},
        {"trace_id": LATE_TRACE, "name": "hallucination", "label": "no", "source": "llm"},
    ]  # fmt: skip
    bad = [
        {"trace_id": TRACE, "name": "hallucination", "label": "maybe"},
        {"trace_id": TRACE, "name": "instruction_following", "value": 9},
        {"trace_id": TRACE, "name": "instruction_following", "value": "four"},
        {"trace_id": TRACE, "name": "tone", "value": 1},
        {"trace_id": "xyz", "name": "user_feedback", "label": "up"},
        {"trace_id": TRACE, "name": "user_feedback", "source": "boss", "label": "up"},
    ]
    with serving(app) as url:
        assert _post_scores(url, good[0], None)[0] == 401
        assert _post_scores(url, good[0], "tk_wrong")[0] == 401
        assert _post_scores(url, b"{not json", key)[0] == 400
        assert _scores(engine) == {}
        status, answer = _post_scores(url, [bad[0], *good, *bad[1:]], key)
        assert status == 200
        assert answer["accepted"] == 4 and answer["duplicates"] == 0
        reasons = {r["index"]: r["reason"] for r in answer["rejected"]}
        assert sorted(reasons) == [0, 5, 6, 7, 8, 9]
        assert "'maybe' is not allowed" in reasons[0]
        assert "above its maximum 5" in reasons[5]
        assert "finite number" in reasons[6]
        assert "unknown score name 'tone'" in reasons[7]
        assert "trace_id must be 32 hex digits" in reasons[8]
        assert "source must be one of" in reasons[9]
        stored = _scores(engine)
        # Re-sent: accepted as already stored, nothing changes.
        status, again = _post_scores(url, good, key)
        assert (status, again["accepted"], again["duplicates"]) == (200, 4, 4)
        assert _scores(engine) == stored
    assert len(stored) == 4
    assert stored["fb-1"]["comment"] == '=HYPERLINK("x")'
    # The latest verdict (fb-2, up) wins; a human score marks the trace reviewed; the
    # score of a trace that has not arrived yet is kept under its id.
    assert _quality(engine) == {TRACE: (1, 1), LATE_TRACE: (None, 0)}
    assert _drift(engine) == []


def test_jsonl_score_lines_are_imported_and_bad_ones_reported_by_line(engine, tmp_path):
    lines = [
        {"type": "trace", "id": "run-1", "name": "/review", "start": "2026-05-01T10:00:00Z",
         "end": "2026-05-01T10:00:05Z", "status": "ok", "user": "ada"},
        {"type": "score", "trace_id": "run-1", "name": "review", "value": 0, "id": "r-1",
         "source": "human", "time": "2026-05-01T11:00:00Z"},
        {"type": "score", "trace_id": "run-1", "name": "review", "label": "good", "id": "r-0",
         "source": "human", "time": "2026-05-01T10:30:00Z"},
        {"type": "score", "trace_id": "run-1", "name": "review"},
    ]  # fmt: skip
    path = tmp_path / "scores.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    report = import_files(engine, [path])
    assert (report.scores_stored, report.rejected) == (2, 1)
    assert report.rejections[0].location == f"{path}:4"
    assert "neither 'value'" in report.rejections[0].reason
    # The later verdict (value 0, negative) wins over the one sent after it with an older time.
    assert _quality(engine) == {"run-1": (0, 1)}
    again = import_files(engine, [path])
    assert (again.scores_stored, again.score_duplicates) == (0, 2)


def test_telemetry_score_posts_for_the_current_trace(sqlite_engine):
    key, _ = create_key(sqlite_engine, "default")
    app = Starlette(routes=server_routes(lambda: sqlite_engine))
    with serving(app) as url:
        provider = telemetry.configure(url, key, "app", set_global=False)
        answers = []

        def answer() -> str:
            answers.append(telemetry.score("user_feedback", label="up", comment="thanks"))
            return "ok"

        telemetry.capture("turn", answer, tracer_provider=provider)
        provider.shutdown()
        with pytest.raises(ValueError, match="no trace to score"):
            telemetry.score("user_feedback", label="up")
    assert answers == [{"accepted": 1, "duplicates": 0, "rejected": []}]
    (score,) = _scores(sqlite_engine).values()
    assert (score["name"], score["label"], score["source"]) == ("user_feedback", "up", "feedback")
    assert list(_quality(sqlite_engine).values()) == [(1, 0)]


def test_scores_sent_before_their_trace_join_it_when_it_arrives(engine, tmp_path):
    score = {"type": "score", "trace_id": "run-9", "name": "review", "value": 1, "id": "r-9",
             "source": "human", "time": "2026-05-01T11:00:00Z"}  # fmt: skip
    trace = {"type": "trace", "id": "run-9", "name": "/review", "start": "2026-05-01T10:00:00Z",
             "end": "2026-05-01T10:00:05Z", "status": "ok", "user": "ada"}  # fmt: skip
    first, second = tmp_path / "scores.jsonl", tmp_path / "traces.jsonl"
    first.write_text(json.dumps(score) + "\n")
    second.write_text(json.dumps(trace) + "\n")
    assert import_files(engine, [first]).scores_stored == 1
    assert _scores(engine)["r-9"]["trace_pk"] is None  # kept under its trace id
    assert import_files(engine, [second]).spans_stored == 1
    with engine.connect() as conn:
        pk, verdict, reviewed = conn.execute(
            select(Trace.id, Trace.verdict, Trace.reviewed).where(Trace.trace_id == "run-9")
        ).one()
    assert _scores(engine)["r-9"]["trace_pk"] == pk
    assert (verdict, reviewed) == (True, True)  # a positive human verdict, on the trace row
    assert _quality(engine) == {"run-9": (1, 1)}
    assert _drift(engine) == []


def _export_evaluated_run_as_logs(url: str, key: str) -> tuple[str, str]:
    """One agent run; its evaluations sent as log records (how SDKs send events): a good
    one twice, a verdict, a broken one, and a plain log line."""
    auth = {"Authorization": f"Bearer {key}"}
    resource = Resource.create({"service.name": "judge-bot"})
    tracing = TracerProvider(resource=resource)
    tracing.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{url}/v1/traces", headers=auth))
    )
    logging = LoggerProvider(resource=resource)
    logging.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{url}/v1/logs", headers=auth))
    )
    tracer, logger = tracing.get_tracer("tests"), logging.get_logger("evals")
    root = tracer.start_span("answer", start_time=T0_NS)
    call = tracer.start_span(
        "chat gpt-4o", context=set_span_in_context(root), start_time=T0_NS + SECOND_NS
    )
    inside = set_span_in_context(call)
    relevance = {
        "gen_ai.evaluation.name": "relevance",
        "gen_ai.evaluation.score.value": 0.75,
        "gen_ai.evaluation.score.label": "relevant",
        "gen_ai.evaluation.explanation": "on topic",
    }
    for _ in range(2):  # an exporter's retry: stored once
        logger.emit(
            event_name="gen_ai.evaluation.result",
            attributes=relevance,
            context=inside,
            timestamp=T0_NS + 3 * SECOND_NS,
        )
    logger.emit(
        event_name="gen_ai.evaluation.result",
        attributes={"gen_ai.evaluation.name": "review", "gen_ai.evaluation.score.label": "pass"},
        context=inside,
        timestamp=T0_NS + 4 * SECOND_NS,
    )
    logger.emit(
        event_name="gen_ai.evaluation.result",
        attributes={"gen_ai.evaluation.name": "relevance", "gen_ai.evaluation.score.value": "x"},
        context=inside,
        timestamp=T0_NS + 4 * SECOND_NS,
    )
    logger.emit(body="cache warmed", context=inside, timestamp=T0_NS + 4 * SECOND_NS)
    call.end(end_time=T0_NS + 6 * SECOND_NS)
    root.end(end_time=T0_NS + 7 * SECOND_NS)
    tracing.shutdown()
    logging.shutdown()
    context = call.get_span_context()
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def test_evaluation_events_sent_as_logs_by_the_sdk_are_scores_of_their_span(engine):
    key, _ = create_key(engine, "default")
    app = Starlette(routes=server_routes(lambda: engine))
    with serving(app) as url:
        trace_id, span_id = _export_evaluated_run_as_logs(url, key)
    score, verdict = sorted(_scores(engine).values(), key=lambda s: s["name"])
    assert (verdict["name"], verdict["label"]) == ("review", "pass")
    assert {(s["trace_id"], s["span_id"]) for s in (score, verdict)} == {(trace_id, span_id)}
    assert (score["name"], score["value"], score["label"], score["source"]) == (
        "relevance",
        0.75,
        "relevant",
        "llm",
    )
    assert (score["comment"], score["author"]) == ("on topic", "judge-bot")
    assert _quality(engine)[trace_id] == (1, 0)  # "review: pass" is a positive verdict
    with engine.connect() as conn:
        reasons = conn.execute(select(IngestError.reason)).scalars().all()
    assert len(reasons) == 1 and "must be a number" in reasons[0]  # not the plain log line
    assert _drift(engine) == []


def _log_record(event_name: str, attributes: dict, trace_id: str = TRACE) -> dict:
    return {
        "timeUnixNano": str(T0_NS + 2 * SECOND_NS),
        "traceId": trace_id,
        "spanId": "00f067aa0ba902b7",
        "eventName": event_name,
        "attributes": [
            {"key": k, "value": {"doubleValue": v} if isinstance(v, float) else {"stringValue": v}}
            for k, v in attributes.items()
        ],
    }


def test_the_logs_endpoint_answers_as_otlp_says(engine):
    key, _ = create_key(engine, "default")
    verdict = {"gen_ai.evaluation.name": "review", "gen_ai.evaluation.score.label": "pass"}
    records = [
        _log_record("gen_ai.evaluation.result", verdict),
        _log_record("", {"message": "plain line"}),
        _log_record("gen_ai.evaluation.result", verdict, trace_id=""),
        {"traceId": "not hex", "eventName": "gen_ai.evaluation.result"},
    ]
    body = {"resourceLogs": [{"scopeLogs": [{"logRecords": records}]}]}
    json_headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    app = Starlette(routes=server_routes(lambda: engine))
    with serving(app) as url:
        status, _h, answer = post(f"{url}/v1/logs", json.dumps(body).encode(), json_headers)
        again = post(f"{url}/v1/logs", json.dumps(body).encode(), json_headers)
        garbage = post(f"{url}/v1/logs", b"{not json", json_headers)
        keyless = post(f"{url}/v1/logs", b"{}", {"Content-Type": "application/json"})
        protobuf = post(
            f"{url}/v1/logs",
            ExportLogsServiceRequest().SerializeToString(),
            {**json_headers, "Content-Type": "application/x-protobuf"},
        )
        text = post(f"{url}/v1/logs", b"x", {**json_headers, "Content-Type": "text/plain"})
    assert status == 200
    partial = json.loads(answer)["partialSuccess"]
    assert partial["rejectedLogRecords"] == "3"
    message = partial["errorMessage"]
    assert "logRecords[1]: not a gen_ai.evaluation.result event" in message
    assert "logRecords[2]: the record carries no trace id" in message
    assert "logRecords[3]: traceId 'not hex' is not 32 hex digits" in message
    assert again[0] == 200  # the same request again: the score is not stored twice
    (score,) = _scores(engine).values()
    assert (score["trace_id"], score["name"], score["label"]) == (TRACE, "review", "pass")
    assert (garbage[0], keyless[0], protobuf[0], text[0]) == (400, 401, 200, 415)
    assert ExportLogsServiceResponse.FromString(protobuf[2]) == ExportLogsServiceResponse()


@pytest.mark.parametrize(
    "hostile",
    [
        {"eventName": "gen_ai.evaluation.result", "attributes": "not a list"},
        {"eventName": "gen_ai.evaluation.result", "attributes": [{"key": "k", "value": {"x": 1}}]},
        {"eventName": "gen_ai.evaluation.result", "timeUnixNano": "soon", "traceId": TRACE},
        {"eventName": "gen_ai.evaluation.result", "traceId": 12345},
        {"eventName": 7, "traceId": TRACE},
        5,
        ["a", "list"],
        {
            "eventName": "gen_ai.evaluation.result",
            "traceId": TRACE,
            "attributes": [
                {"key": "gen_ai.evaluation.name", "value": {"stringValue": "big"}},
                {"key": "gen_ai.evaluation.score.value", "value": {"intValue": "9" * 400}},
            ],
        },
        {
            "eventName": "gen_ai.evaluation.result",
            "traceId": TRACE,
            "timeUnixNano": "9" * 30,
            "attributes": [{"key": "gen_ai.evaluation.name", "value": {"stringValue": "late"}}],
        },
        {
            "eventName": "gen_ai.evaluation.result",
            "traceId": TRACE,
            "timeUnixNano": "-5000",
            "attributes": [{"key": "gen_ai.evaluation.name", "value": {"stringValue": "early"}}],
        },
    ],
)
def test_a_hostile_log_record_is_rejected_alone(engine, hostile):
    key, _ = create_key(engine, "default")
    verdict = {"gen_ai.evaluation.name": "review", "gen_ai.evaluation.score.label": "pass"}
    records = [_log_record("gen_ai.evaluation.result", verdict), hostile]
    body = json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": records}]}]}).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    app = Starlette(routes=server_routes(lambda: engine))
    with serving(app) as url:
        status, _headers, answer = post(f"{url}/v1/logs", body, headers)
    assert status == 200
    partial = json.loads(answer)["partialSuccess"]
    assert partial["rejectedLogRecords"] == "1"
    assert partial["errorMessage"].startswith("1 log records not stored: ")
    assert "logRecords[1]" in partial["errorMessage"]
    (score,) = _scores(engine).values()
    assert (score["name"], score["label"]) == ("review", "pass")


def test_an_evaluation_log_record_sent_again_is_stored_once_even_without_a_time(engine):
    """Proto's snake_case field names are read too."""
    key, _ = create_key(engine, "default")
    verdict = [
        {"key": "gen_ai.evaluation.name", "value": {"stringValue": "review"}},
        {"key": "gen_ai.evaluation.score.label", "value": {"stringValue": "pass"}},
    ]
    untimed = {"event_name": "gen_ai.evaluation.result", "trace_id": TRACE, "attributes": verdict}
    timed = {**untimed, "time_unix_nano": str(T0_NS), "observed_time_unix_nano": "1"}
    retried = {**timed, "observed_time_unix_nano": "2"}  # observed again by another SDK call
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    app = Starlette(routes=server_routes(lambda: engine))
    with serving(app) as url:
        for records in ([untimed, timed], [untimed], [retried]):
            body = {"resourceLogs": [{"scopeLogs": [{"logRecords": records}]}]}
            status, _h, answer = post(f"{url}/v1/logs", json.dumps(body).encode(), headers)
            assert (status, json.loads(answer)) == (200, {})
    stored = sorted(_scores(engine).values(), key=lambda s: s["time_us"])
    assert len(stored) == 2  # the untimed record once, the timed one once
    assert stored[0]["time_us"] == T0_NS // 1000
