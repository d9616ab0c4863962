"""``POST /v1/traces``: OTLP/HTTP trace export into the store (protobuf or JSON, gzip or not).

Answers as the OTLP/HTTP specification says: 200 with an
``ExportTraceServiceResponse`` (``partial_success`` counts the rejected spans,
which are quarantined), 400 for a body that cannot be parsed, 401 without a
valid key (nothing is read or stored), 413 for a body or a span count over the
limit, 415 for another content type or encoding, 503 (retryable) when the store
is busy. Error bodies are ``google.rpc.Status`` messages in the request's
encoding. Decoding and writing run in a worker thread, batch by batch, so the
event loop serving the dashboard is never held for long.
"""

from __future__ import annotations

import base64
import logging
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from google.protobuf import json_format
from google.rpc import code_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceResponse,
)
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from telemetry.apikeys import authenticate
from telemetry.ingest.identities import Identities
from telemetry.ingest.limits import Limits
from telemetry.ingest.mapping import MappingContext, map_spans, mapping_context
from telemetry.ingest.otlp import OtlpDecodeError, Rejection, decode_protobuf
from telemetry.ingest.otlp_json import decode_json_text
from telemetry.ingest.report import IngestReport
from telemetry.ingest.writer import SpanWriter
from telemetry.pricing import Pricer

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
TRACES_PATH = "/v1/traces"
_MESSAGE_REJECTIONS = 5  # reasons quoted in partial_success.error_message
logger = logging.getLogger(__name__)


def ingest_routes(
    get_engine: Callable[[], Engine], *, limits: Limits | None = None
) -> list[BaseRoute]:
    """The routes to mount beside the dashboard: ``POST /v1/traces``."""
    endpoint = TraceEndpoint(get_engine, limits or Limits.from_env())
    return [Route(TRACES_PATH, endpoint.export, methods=["POST"])]


class Refused(Exception):
    """A request answered with an error status; ``message`` says what to do."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Caller:
    org_id: int
    key_id: int
    key_prefix: str
    client: str
    path: str = TRACES_PATH

    @property
    def source(self) -> str:
        return f"POST {self.path} from {self.client} (key {self.key_prefix}…)"


class TraceEndpoint:
    path = TRACES_PATH

    def __init__(self, get_engine: Callable[[], Engine], limits: Limits) -> None:
        self.get_engine = get_engine
        self.limits = limits
        # Cached ids of users, teams and sessions per (engine, organization), kept
        # across requests; the writer drops them when someone else wrote meanwhile.
        self._identities: dict[tuple[int, int], Identities] = {}
        # The organization's prices as the last write found them: spans are priced with
        # these, and the writer prices them again if they changed (it checks under the
        # organization's lock), so no request needs to read them first.
        self._pricers: dict[tuple[int, int], Pricer] = {}
        self._cache_lock = threading.Lock()
        # Decoding and mapping are Python work under the GIL: two requests decoding at
        # once take as long as one after the other, plus the cost of passing the GIL
        # back and forth (with the writer, too, which retakes it for every row it stores).
        self._decoding = threading.Lock()

    def _identities_of(self, engine: Engine, org_id: int) -> Identities:
        with self._cache_lock:
            return self._identities.setdefault((id(engine), org_id), Identities(org_id))

    def _context_of(self, engine: Engine, org_id: int) -> MappingContext:
        with self._cache_lock:
            pricer = self._pricers.get((id(engine), org_id))
        if pricer is None:
            return mapping_context(engine, org_id, self.limits)
        return MappingContext(pricer, self.limits)

    def _remember_prices(self, engine: Engine, org_id: int, pricer: Pricer | None) -> None:
        if pricer is not None:
            with self._cache_lock:
                self._pricers[(id(engine), org_id)] = pricer

    async def export(self, request: Request) -> Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        answer_type = PROTOBUF if content_type == PROTOBUF else JSON
        try:
            caller = await self._caller(request)
            encoding = request.headers.get("content-encoding", "").strip().lower()
            body = await self._body(request, content_type, encoding)
            report = await run_in_threadpool(self._ingest, caller, body, encoding, content_type)
        except Refused as refusal:
            return _status_response(refusal.status, refusal.message, answer_type)
        except OperationalError:
            logger.exception("ingest: the store could not be written")
            message = "the store is busy or unavailable; retry later"
            return _status_response(503, message, answer_type, retry_after=5)
        return self._response(report, answer_type)

    def _response(self, report: IngestReport, answer_type: str) -> Response:
        return _export_response(report, answer_type)

    async def _caller(self, request: Request) -> Caller:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise Refused(
                401,
                "missing API key: send the header 'Authorization: Bearer <key>' "
                "(create a key with: python -m telemetry keys create --org SLUG)",
            )
        found = await run_in_threadpool(self._authenticate, key.strip())
        if found is None:
            raise Refused(401, "the API key is not valid or was revoked")
        client = request.client.host if request.client else "unknown client"
        return Caller(*found, client=client, path=self.path)

    def _authenticate(self, key: str) -> tuple[int, int, str] | None:
        with self.get_engine().connect() as conn:
            return authenticate(conn, key)

    async def _body(self, request: Request, content_type: str, encoding: str) -> bytes:
        """The raw body, refused early when its type, encoding or size is not acceptable."""
        if content_type not in (PROTOBUF, JSON):
            raise Refused(
                415, f"Content-Type must be {PROTOBUF} or {JSON}, not {content_type or 'missing'!r}"
            )
        if encoding not in ("", "identity", "gzip"):
            raise Refused(415, f"Content-Encoding must be gzip or none, not {encoding!r}")
        limit = self.limits.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise Refused(413, _too_large(int(declared), limit))
        chunks = []
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise Refused(413, _too_large(received, limit))
            chunks.append(chunk)
        return b"".join(chunks)

    def _decoded(
        self, body: bytes, content_type: str, context: MappingContext
    ) -> tuple[list[dict], list[Rejection]]:
        """The request's records and rejected spans (OtlpDecodeError: not a request at all)."""
        if content_type == PROTOBUF:
            raws, rejections = decode_protobuf(body)
        else:
            raws, rejections = decode_json_text(body)
        if len(raws) + len(rejections) > self.limits.max_spans_per_request:
            raise Refused(
                413,
                f"{len(raws) + len(rejections)} spans in one request, more than the limit of "
                f"{self.limits.max_spans_per_request}; send smaller batches "
                "(OTEL_BSP_MAX_EXPORT_BATCH_SIZE)",
            )
        records, unmapped = map_spans(raws, context)
        return records, rejections + unmapped

    def _ingest(
        self, caller: Caller, body: bytes, encoding: str, content_type: str
    ) -> IngestReport:
        """Decode, map and store (runs in a worker thread)."""
        engine = self.get_engine()
        context = self._context_of(engine, caller.org_id)
        writer = SpanWriter(
            engine,
            caller.org_id,
            source=caller.source,
            api_key_id=caller.key_id,
            identities=self._identities_of(engine, caller.org_id),
            pricer=context.pricer,
        )
        if encoding == "gzip":
            body = gunzip_capped(body, self.limits.max_body_bytes)
        try:
            with self._decoding:
                records, rejections = self._decoded(body, content_type, context)
        except OtlpDecodeError as error:
            writer.write(rejections=[Rejection("request body", str(error), _body_text(body))])
            raise Refused(400, str(error)) from None
        report = IngestReport()
        size = self.limits.batch_spans
        for start in range(0, max(len(records), 1), size):
            chunk = records[start : start + size]
            if chunk or rejections:
                report.add(writer.write(chunk, rejections if start == 0 else ()))
        self._remember_prices(engine, caller.org_id, writer.current_pricer)
        return report


def gunzip_capped(body: bytes, limit: int) -> bytes:
    """The gunzipped body; refuses output over ``limit`` bytes without inflating it all."""
    out = []
    size = 0
    data = body
    while data:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            part = inflater.decompress(data, limit + 1 - size)
        except zlib.error as error:
            raise Refused(400, f"the body is not valid gzip ({error})") from None
        size += len(part)
        if size > limit or inflater.unconsumed_tail:
            raise Refused(413, f"the body inflates to more than the limit of {limit} bytes")
        if not inflater.eof:
            raise Refused(400, "the gzip body is truncated")
        out.append(part)
        data = inflater.unused_data  # a further gzip member, if any
    return b"".join(out)


def _too_large(size: int, limit: int) -> str:
    return (
        f"the body has {size} bytes or more, over the limit of {limit} bytes "
        "(TELEMETRY_MAX_BODY_BYTES); send smaller batches"
    )


def _body_text(body: bytes) -> str:
    try:
        return body[:100_000].decode("utf-8")
    except UnicodeDecodeError:
        return f"<{len(body)} bytes, base64> " + base64.b64encode(body[:50_000]).decode("ascii")


_RPC_CODES = {
    400: code_pb2.INVALID_ARGUMENT,
    401: code_pb2.UNAUTHENTICATED,
    413: code_pb2.RESOURCE_EXHAUSTED,
    415: code_pb2.INVALID_ARGUMENT,
    503: code_pb2.UNAVAILABLE,
}


def _status_response(
    status: int, message: str, answer_type: str, *, retry_after: int | None = None
) -> Response:
    body = status_pb2.Status(code=_RPC_CODES.get(status, code_pb2.UNKNOWN), message=message)
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    if answer_type == PROTOBUF:
        return Response(body.SerializeToString(), status, headers, media_type=PROTOBUF)
    return Response(json_format.MessageToJson(body, indent=None), status, headers, media_type=JSON)


def _export_response(report: IngestReport, answer_type: str) -> Response:
    message = ExportTraceServiceResponse()
    if report.rejections:
        message.partial_success.rejected_spans = report.rejected
        message.partial_success.error_message = rejections_message(
            f"{report.rejected} spans rejected (kept in quarantine)",
            report.rejections,
            report.rejected,
        )
    if report.score_rejections:  # the spans were stored; only their evaluation events were not
        first = report.score_rejections[0]
        note = (
            f"{len(report.score_rejections)} evaluation scores rejected (kept in quarantine): "
            f"{first.location}: {first.reason}"
        )
        joined = "; ".join(filter(None, (message.partial_success.error_message, note)))
        message.partial_success.error_message = joined[:4000]
    return message_response(message, answer_type)


def rejections_message(heading: str, rejections: Sequence[Rejection], count: int) -> str:
    """``heading: where: why; ...`` for a partial_success: the first few of ``count``."""
    reasons = "; ".join(f"{r.location}: {r.reason}" for r in rejections[:_MESSAGE_REJECTIONS])
    more = count - _MESSAGE_REJECTIONS
    return (f"{heading}: {reasons}" + (f"; and {more} more" if more > 0 else ""))[:4000]


def message_response(message, answer_type: str) -> Response:
    """200 with ``message`` in the request's encoding."""
    if answer_type == PROTOBUF:
        return Response(message.SerializeToString(), 200, media_type=PROTOBUF)
    return Response(json_format.MessageToJson(message, indent=None), 200, media_type=JSON)
