"""Helpers for the ingestion tests: OTLP/JSON builders, a live server, plain HTTP posts."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import uvicorn
from sqlalchemy import Engine, func, select
from starlette.applications import Starlette

from telemetry.ingest.http import ingest_routes
from telemetry.ingest.limits import Limits
from telemetry.ingest.logs_http import logs_routes
from telemetry.models import IngestError, Observation, Trace
from telemetry.rollups import rollup_drift
from telemetry.store import org_id

# 2025-06-01 12:00:00 UTC, in nanoseconds: a fixed moment far from day boundaries.
T0_NS = 1_748_779_200 * 1_000_000_000
SECOND_NS = 1_000_000_000


def trace_hex(n: int) -> str:
    return f"{n:032x}"


def span_hex(n: int) -> str:
    return f"{n:016x}"


def any_value(value: Any) -> dict[str, Any]:
    """An OTLP/JSON AnyValue."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [any_value(v) for v in value]}}
    return {"stringValue": str(value)}


def attributes(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": any_value(v)} for k, v in values.items()]


def otlp_span(
    trace: int,
    span: int,
    *,
    parent: int | None = None,
    name: str = "step",
    start_s: float = 0.0,
    end_s: float | None = 1.0,
    status: int = 1,
    message: str = "",
    attrs: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One OTLP/JSON span, times in seconds after :data:`T0_NS`."""
    body = {
        "traceId": trace_hex(trace),
        "spanId": span_hex(span),
        "name": name,
        "kind": 1,
        "startTimeUnixNano": str(T0_NS + int(start_s * SECOND_NS)),
        "attributes": attributes(attrs or {}),
        "status": {"code": status, "message": message},
    }
    if parent is not None:
        body["parentSpanId"] = span_hex(parent)
    if end_s is not None:
        body["endTimeUnixNano"] = str(T0_NS + int(end_s * SECOND_NS))
    if events:
        body["events"] = events
    return body


def otlp_request(spans: list[dict], resource: dict[str, Any] | None = None) -> dict[str, Any]:
    """An ExportTraceServiceRequest (OTLP/JSON) with one resource and one scope."""
    resource = {"service.name": "support-bot", **(resource or {})}
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": attributes(resource)},
                "scopeSpans": [{"scope": {"name": "tests"}, "spans": spans}],
            }
        ]
    }


def request_line(spans: list[dict], resource: dict[str, Any] | None = None) -> str:
    return json.dumps(otlp_request(spans, resource))


# --- a live server ----------------------------------------------------------


@contextlib.contextmanager
def running_server(engine: Engine, limits: Limits | None = None) -> Iterator[str]:
    """Serve the ingest routes (traces, logs) with uvicorn on 127.0.0.1 (random port); yield
    the base URL."""
    routes = [*ingest_routes(lambda: engine, limits=limits), *logs_routes(lambda: engine)]
    app = Starlette(routes=routes)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


def post(
    url: str, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """POST and return (status, headers, body), error statuses included."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


# --- what the store holds -----------------------------------------------------


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            "traces": conn.execute(select(func.count()).select_from(Trace)).scalar(),
            "observations": conn.execute(select(func.count()).select_from(Observation)).scalar(),
            "quarantined": conn.execute(select(func.count()).select_from(IngestError)).scalar(),
        }


def trace_row(engine: Engine, trace: int | str) -> dict[str, Any]:
    trace_id = trace if isinstance(trace, str) else trace_hex(trace)
    with engine.connect() as conn:
        row = conn.execute(select(Trace).where(Trace.trace_id == trace_id)).mappings().one()
    return dict(row)


def observation_rows(engine: Engine, trace: int | str) -> dict[str, dict[str, Any]]:
    """The trace's observations by span id."""
    trace_id = trace if isinstance(trace, str) else trace_hex(trace)
    with engine.connect() as conn:
        rows = conn.execute(
            select(Observation)
            .join(Trace, Trace.id == Observation.trace_pk)
            .where(Trace.trace_id == trace_id)
        ).mappings()
        return {row["span_id"]: dict(row) for row in rows}


def rollup_drift_of(engine: Engine, org: str = "default") -> list[str]:
    """How the daily rollups differ from the base tables ([] when they agree)."""
    with engine.connect() as conn:
        return rollup_drift(conn, org_id(conn, org))
