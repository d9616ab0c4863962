"""Ingestion speed: a 1M-span OTLP JSON file import, and OTLP/HTTP protobuf batches of 512.

Usage: .venv/bin/python bench/bench_ingest.py [--spans 1000000] [--http-spans 200000]
       [--repeat 3] [--days 365] [--clients 1] [--skip-file] [--skip-http]

Targets (DESIGN.md): >= 30,000 spans/s for the file, >= 10,000 spans/s over HTTP.
The data is deterministic: agent runs of 5 spans (a root agent span, two LLM
calls with cached tokens, two tool calls, one in twenty failing), 200 users,
5,000 sessions, 5 services, spread evenly over --days days. Every write refreshes
the daily rollups of the days it touches, whose cost grows with the rows of
those days: --days 1 measures that worst case. The file (100 runs per line, as the Collector's file
exporter batches them) is written once into bench/.cache/ (git-ignored). Each
repetition imports into a fresh SQLite store; the figure is the median.

The HTTP figure runs the real endpoint (uvicorn + Starlette, as the dashboard
serves it) in a separate process; one client sends pre-encoded requests of 512
spans one after the other over a kept-alive loopback connection, as one
OpenTelemetry SDK exporter does (--clients N: N such exporters at once).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from telemetry.apikeys import create_key
from telemetry.db import DATABASE_URL_ENV, init_store, make_engine
from telemetry.ingest.files import import_files

CACHE = Path(__file__).resolve().parent / ".cache"
SPANS_PER_RUN = 5
RUNS_PER_LINE = 100
HTTP_BATCH = 512
T0_NS = 1_761_955_200 * 1_000_000_000  # 2025-11-01 00:00 UTC, fixed so the data never changes
DAY_NS = 86_400 * 1_000_000_000
MODULES = ("code-review", "support-bot", "triage", "docs-writer", "sql-agent")
MODELS = (("gpt-4o", "openai"), ("claude-3-5-sonnet", "anthropic"), ("gpt-4o-mini", "openai"))


def agent_runs(count: int, days: int, seed: int = 7) -> Iterator[tuple[str, list[tuple]]]:
    """(module, spans) per run, runs spread evenly over ``days`` days from T0.

    A span is (trace, span, parent, name, start, end, status code, attributes).
    """
    rng = random.Random(seed)
    step_ns = days * DAY_NS // count
    for run in range(count):
        trace = f"{run + 1:032x}"
        start = T0_NS + run * step_ns
        module = MODULES[run % len(MODULES)]
        root = f"{run * 8 + 1:016x}"
        spans = [
            (
                trace, root, "", "agent-run", start, start + 9_000_000_000, 1,
                {
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": f"{module}-agent",
                    "enduser.id": f"user-{rng.randrange(200)}",
                    "gen_ai.conversation.id": f"session-{rng.randrange(5000)}",
                },
            )
        ]  # fmt: skip
        for step in range(2):
            model, provider = MODELS[rng.randrange(len(MODELS))]
            tokens_in = rng.randrange(200, 20_000)
            begin = start + (1 + 4 * step) * 1_000_000_000
            spans.append(
                (
                    trace, f"{run * 8 + 2 + step:016x}", root, f"chat {model}", begin,
                    begin + rng.randrange(300, 3000) * 1_000_000, 1,
                    {
                        "gen_ai.operation.name": "chat",
                        "gen_ai.request.model": model,
                        "gen_ai.provider.name": provider,
                        "gen_ai.usage.input_tokens": tokens_in,
                        "gen_ai.usage.cache_read.input_tokens": tokens_in // 3,
                        "gen_ai.usage.output_tokens": rng.randrange(10, 2000),
                        "gen_ai.input.messages": "Summarise the change set and list risks. " * 2,
                    },
                )
            )  # fmt: skip
        for step in range(2):
            begin = start + (3 + 4 * step) * 1_000_000_000
            failed = rng.random() < 0.05
            spans.append(
                (
                    trace, f"{run * 8 + 4 + step:016x}", root, "execute_tool", begin,
                    begin + rng.randrange(5, 800) * 1_000_000, 2 if failed else 1,
                    {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": f"tool-{step}"},
                )
            )  # fmt: skip
        yield module, spans


def _json_value(value) -> dict:
    if isinstance(value, int):
        return {"intValue": str(value)}
    return {"stringValue": value}


def _json_request(runs: list[tuple[str, list[tuple]]]) -> dict:
    resources = []
    for module, spans in runs:
        resources.append(
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": module}}]
                },
                "scopeSpans": [
                    {"scope": {"name": "bench"}, "spans": [_json_span(s) for s in spans]}
                ],
            }
        )
    return {"resourceSpans": resources}


def _json_span(span: tuple) -> dict:
    trace, span_id, parent, name, start, end, code, attrs = span
    return {
        "traceId": trace,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": name,
        "kind": 1,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(end),
        "attributes": [{"key": k, "value": _json_value(v)} for k, v in attrs.items()],
        "status": {"code": code},
    }


def otlp_json_file(spans: int, days: int = 365) -> Path:
    """The deterministic OTLP JSON file of ``spans`` spans (written once, then reused)."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"otlp-{spans}-{days}d.jsonl"
    if path.exists():
        return path
    print(f"writing {path} (once)", flush=True)
    runs = list(agent_runs(spans // SPANS_PER_RUN, days))
    partial = path.with_suffix(".partial")
    with partial.open("w") as handle:
        for at in range(0, len(runs), RUNS_PER_LINE):
            handle.write(json.dumps(_json_request(runs[at : at + RUNS_PER_LINE])) + "\n")
    partial.rename(path)
    return path


def protobuf_requests(spans: int, days: int = 365) -> list[bytes]:
    """Binary ExportTraceServiceRequests of 512 spans (pre-encoded: the client costs nothing)."""
    flat = [
        (module, span)
        for module, run in agent_runs(spans // SPANS_PER_RUN, days, seed=11)
        for span in run
    ]
    bodies = []
    for at in range(0, len(flat), HTTP_BATCH):
        request = ExportTraceServiceRequest()
        by_module: dict[str, object] = {}
        for module, (trace, span_id, parent, name, start, end, code, attrs) in flat[
            at : at + HTTP_BATCH
        ]:
            if module not in by_module:
                resource_spans = request.resource_spans.add()
                resource_spans.resource.attributes.append(
                    KeyValue(key="service.name", value=AnyValue(string_value=module))
                )
                by_module[module] = resource_spans.scope_spans.add()
            pb = by_module[module].spans.add()
            pb.trace_id = bytes.fromhex(trace)
            pb.span_id = bytes.fromhex(span_id)
            pb.parent_span_id = bytes.fromhex(parent)
            pb.name = name
            pb.kind = Span.SPAN_KIND_INTERNAL
            pb.start_time_unix_nano = start
            pb.end_time_unix_nano = end
            pb.status.CopyFrom(Status(code=code))
            for key, value in attrs.items():
                any_value = (
                    AnyValue(int_value=value)
                    if isinstance(value, int)
                    else AnyValue(string_value=value)
                )
                pb.attributes.append(KeyValue(key=key, value=any_value))
        bodies.append(request.SerializeToString())
    return bodies


def fresh_store(name: str):
    path = CACHE / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    init_store(engine)
    return engine, f"sqlite:///{path}"


def bench_file(spans: int, repeat: int, days: int) -> float:
    path = otlp_json_file(spans, days)
    rates = []
    for attempt in range(repeat):
        engine, _ = fresh_store("ingest-file.db")
        started, cpu = time.perf_counter(), time.process_time()
        report = import_files(engine, [path])
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        engine.dispose()
        assert report.spans_stored == spans and report.rejected == 0, report.summary_lines()
        rates.append(spans / seconds)
        _print_run("file", attempt, spans, seconds, cpu)
    return statistics.median(rates)


def _print_run(what: str, attempt: int, spans: int, seconds: float, cpu: float) -> None:
    # CPU time per span (all threads of the process doing the work) says what the
    # code costs even when other programs share the machine and stretch the wall time.
    print(
        f"  {what} run {attempt + 1}: {spans:,} spans in {seconds:.1f} s = "
        f"{spans / seconds:,.0f} spans/s; CPU {cpu / spans * 1e6:.1f} us/span",
        flush=True,
    )


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), 0 where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


SERVER = """
import sys, uvicorn
from starlette.applications import Starlette
from telemetry.db import make_engine
from telemetry.ingest.http import ingest_routes
engine = make_engine()
app = Starlette(routes=ingest_routes(lambda: engine))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the bench server exited")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("the bench server did not start")


def _send(port: int, key: str, bodies: list[bytes]) -> None:
    """POST each body in turn on one kept-alive connection, as one SDK exporter does."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {key}"}
    for body in bodies:
        conn.request("POST", "/v1/traces", body=body, headers=headers)
        response = conn.getresponse()
        answer = response.read()
        if response.status != 200 or answer:
            raise RuntimeError(f"HTTP {response.status}: {answer[:300]!r}")
    conn.close()


def bench_http(spans: int, repeat: int, clients: int, days: int) -> float:
    bodies = protobuf_requests(spans, days)
    sent = spans // SPANS_PER_RUN * SPANS_PER_RUN
    shares = [bodies[n::clients] for n in range(clients)]
    rates = []
    for attempt in range(repeat):
        engine, url = fresh_store("ingest-http.db")
        key, _ = create_key(engine, "default", "bench")
        engine.dispose()
        port = _free_port()
        root = Path(__file__).resolve().parent.parent
        env = {**os.environ, DATABASE_URL_ENV: url, "PYTHONPATH": str(root)}
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=env, cwd=root)
        try:
            _wait_for(port, server)
            started, cpu = time.perf_counter(), _cpu_seconds(server.pid)
            with ThreadPoolExecutor(clients) as pool:
                list(pool.map(_send, [port] * clients, [key] * clients, shares))
            seconds, cpu = time.perf_counter() - started, _cpu_seconds(server.pid) - cpu
        finally:
            server.terminate()
            server.wait(30)
        rates.append(sent / seconds)
        _print_run(
            f"http ({clients} client{'s' if clients > 1 else ''})", attempt, sent, seconds, cpu
        )
    return statistics.median(rates)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, default=1_000_000, help="spans in the file")
    parser.add_argument("--http-spans", type=int, default=200_000, help="spans sent over HTTP")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--days",
        type=int,
        default=365,
        help="days the runs are spread over (default 365: a year of a small team's use)",
    )
    parser.add_argument(
        "--clients", type=int, default=1, help="concurrent HTTP clients (exporters); default 1"
    )
    parser.add_argument("--skip-file", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()
    CACHE.mkdir(exist_ok=True)
    if not args.skip_file:
        rate = bench_file(args.spans, args.repeat, args.days)
        print(f"OTLP JSON file import: median {rate:,.0f} spans/s (target 30,000)")
    if not args.skip_http:
        rate = bench_http(args.http_spans, args.repeat, args.clients, args.days)
        print(f"OTLP/HTTP protobuf, batches of {HTTP_BATCH}: median {rate:,.0f} spans/s")
        print("  (target 10,000 spans/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
