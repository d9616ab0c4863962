"""``POST /v1/logs``: evaluation events sent over OTLP's logs signal become scores.

OpenTelemetry's GenAI conventions describe an evaluation as a ``gen_ai.evaluation.result``
event, and SDKs send events as log records. A record of that event, emitted inside
the span it judges, is stored as a score of that span, exactly as the span event of
the same name (telemetry.ingest.scores): same attributes, same rules, stored once.

Other log records are not stored: they are counted as rejected in the answer's
``partial_success``, with why, so the exporter's log says so (route only GenAI
events here, e.g. with the Collector's filter processor). Keys, limits and error
answers are those of ``/v1/traces``. Scores a configured name refuses are kept in
quarantine with the record's text.
"""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from sqlalchemy import Engine
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from telemetry.ingest.http import (
    PROTOBUF,
    Caller,
    Refused,
    TraceEndpoint,
    gunzip_capped,
    message_response,
    rejections_message,
)
from telemetry.ingest.limits import Limits
from telemetry.ingest.otlp import OtlpDecodeError, Rejection
from telemetry.ingest.otlp_logs import LogEvent, decode_logs_json, decode_logs_protobuf
from telemetry.ingest.scores import EVALUATION_EVENT, ScoreItem, evaluation_score
from telemetry.ingest.writer import SpanWriter
from telemetry.scores import ScoreError
from telemetry.timeutil import now_us

LOGS_PATH = "/v1/logs"
NOT_AN_EVALUATION = (
    f"not a {EVALUATION_EVENT} event: only evaluation events are stored from logs "
    "(filter the others out before this endpoint)"
)
_LATEST_NS = 2**63 - 1  # OTLP times are fixed64; stored in microseconds as BIGINT


def logs_routes(
    get_engine: Callable[[], Engine], *, limits: Limits | None = None
) -> list[BaseRoute]:
    """The route to mount beside the dashboard: ``POST /v1/logs``."""
    endpoint = LogEndpoint(get_engine, limits or Limits.from_env())
    return [Route(LOGS_PATH, endpoint.export, methods=["POST"])]


class LogEndpoint(TraceEndpoint):
    path = LOGS_PATH

    def _ingest(
        self, caller: Caller, body: bytes, encoding: str, content_type: str
    ) -> list[Rejection]:
        """Store the scores the records carry; return the records not stored (runs in a
        worker thread)."""
        engine = self.get_engine()
        writer = SpanWriter(engine, caller.org_id, source=caller.source, api_key_id=caller.key_id)
        if encoding == "gzip":
            body = gunzip_capped(body, self.limits.max_body_bytes)
        try:
            decode = decode_logs_protobuf if content_type == PROTOBUF else decode_logs_json
            events, unreadable = decode(body)
        except OtlpDecodeError as error:
            raise Refused(400, str(error)) from None
        if len(events) + len(unreadable) > self.limits.max_spans_per_request:
            raise Refused(
                413,
                f"{len(events) + len(unreadable)} log records in one request, more than the "
                f"limit of {self.limits.max_spans_per_request}; send smaller batches",
            )
        rejected = list(unreadable)
        scores: list[ScoreItem] = []
        refused: list[Rejection] = []
        for event in events:
            if event.event_name != EVALUATION_EVENT:
                rejected.append(Rejection(event.location, NOT_AN_EVALUATION))
                continue
            try:
                scores.append(ScoreItem(event.location, _score(event), event.raw))
            except ScoreError as error:
                refused.append(Rejection(event.location, str(error), event.raw))
            except (ArithmeticError, TypeError, ValueError) as error:  # nothing above foresaw
                reason = f"the record could not be read ({type(error).__name__}: {error})"
                refused.append(Rejection(event.location, reason, event.raw))
        if scores or refused:
            written = writer.write((), refused, scores=scores)
            rejected += [*written.rejections, *written.score_rejections]
        return rejected

    def _response(self, rejected: list[Rejection], answer_type: str) -> Response:
        message = ExportLogsServiceResponse()
        if rejected:
            message.partial_success.rejected_log_records = len(rejected)
            message.partial_success.error_message = rejections_message(
                f"{len(rejected)} log records not stored", rejected, len(rejected)
            )
        return message_response(message, answer_type)


def _score(event: LogEvent) -> dict:
    if not event.trace_id:
        raise ScoreError(
            "the record carries no trace id: emit the evaluation event inside the span it judges"
        )
    if not 0 <= event.time_ns <= _LATEST_NS:
        raise ScoreError(f"timeUnixNano {event.time_ns} is not a time between 1970 and 2262")
    return evaluation_score(
        event.attributes,
        trace_id=event.trace_id,
        span_id=event.span_id,
        time_us=event.time_ns // 1000 or now_us(),
        author=event.service or "otlp",
        # The whole record names the score: sent again (even without a time, which then
        # reads as now), it is the same score; two records differing in anything are two.
        origin="log:" + event.digest,
        whole=True,
    )
