"""Ingestion speed on SQLite and PostgreSQL: a 1M-span OTLP JSON file, and OTLP/HTTP protobuf.

Usage: .venv/bin/python bench/bench_ingest.py [--backend sqlite,postgresql]
       [--spans 1000000] [--http-spans 200000] [--clients 1,4] [--repeat 3] [--days 365]
       [--skip-file] [--skip-http] [--postgres-url URL]

Targets (the project's performance budget): >= 30,000 spans/s for the file; over
HTTP, batches of 512, >= 10,000 spans/s from one client and >= 15,000 from four. The flat-day and
concurrent-exporter targets are measured by bench/bench_ingest_day.py.

The data (bench/ingest_data.py) is deterministic agent runs of 5 spans spread
over --days days. The file (100 runs per line, as the Collector's file exporter
batches them) is written once into bench/.cache/ (git-ignored). Each repetition
imports into a fresh store: a SQLite file in bench/.cache/, or a fresh database
on PostgreSQL (a throwaway server unless --postgres-url; see bench.common.postgres).

The HTTP figure runs the real product: the server started with the README's command
(bench.common.SERVER_COMMAND), each client sending pre-encoded requests of 512
spans one after the other over a kept-alive loopback connection, as one
OpenTelemetry SDK exporter does, in the order an SDK exports them (spans as they
end: children before their root, runs interleaved). Figures are medians; each
run also prints the CPU time per span of the importing process (and its parsing
workers), of the server, and of PostgreSQL, and the machine's load average, since
the benches share a 2-core machine with other work.
"""

from __future__ import annotations

import argparse
import http.client
import os
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    Store,
    add_backend_options,
    cpu_seconds,
    product_server,
    run_on_backends,
)
from bench.ingest_data import HTTP_BATCH, SPANS_PER_RUN, otlp_json_file, protobuf_requests
from telemetry.apikeys import create_key
from telemetry.db import make_engine
from telemetry.ingest.files import import_files

TARGETS = {"file": 30_000, 1: 10_000, 4: 15_000}


def bench_file(store: Store, spans: int, repeat: int, days: int) -> float:
    path = otlp_json_file(spans, days)
    rates = []
    for attempt in range(repeat):
        engine = make_engine(store.fresh("bench_ingest_file"))
        load = os.getloadavg()[0]
        before = _own_cpu(), store.server_cpu()
        started = time.perf_counter()
        report = import_files(engine, [path])
        seconds = time.perf_counter() - started
        cpu = _own_cpu() - before[0], store.server_cpu() - before[1]
        engine.dispose()
        assert report.spans_stored == spans and report.rejected == 0, report.summary_lines()
        rates.append(spans / seconds)
        _print_run(f"file ({store.backend})", attempt, spans, seconds, cpu, load)
    return statistics.median(rates)


def _own_cpu() -> float:
    """CPU seconds of this process and its finished children (the parsing workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _print_run(what: str, attempt: int, spans: int, seconds: float, cpu, load: float) -> None:
    # CPU time per span says what the code costs even when other programs share the
    # machine and stretch the wall time.
    client, database = cpu
    database_text = f", PostgreSQL {database / spans * 1e6:.1f}" if database else ""
    print(
        f"  {what} run {attempt + 1}: {spans:,} spans in {seconds:.1f} s = "
        f"{spans / seconds:,.0f} spans/s; CPU us/span: ingest {client / spans * 1e6:.1f}"
        f"{database_text}; load {load:.1f} -> {os.getloadavg()[0]:.1f}",
        flush=True,
    )


def _send(url: str, key: str, bodies: list[bytes]) -> None:
    """POST each body in turn on one kept-alive connection, as one SDK exporter does."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    headers = {"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {key}"}
    for body in bodies:
        conn.request("POST", "/v1/traces", body=body, headers=headers)
        response = conn.getresponse()
        answer = response.read()
        if response.status != 200 or answer:
            raise RuntimeError(f"HTTP {response.status}: {answer[:300]!r}")
    conn.close()


def bench_http(store: Store, spans: int, repeat: int, clients: int, days: int) -> float:
    bodies = protobuf_requests(spans, days, sdk_order=True)
    sent = spans // SPANS_PER_RUN * SPANS_PER_RUN
    # Consecutive requests per client: each exporter sends its own part of the stream.
    size = -(-len(bodies) // clients)
    shares = [bodies[n * size : (n + 1) * size] for n in range(clients)]
    rates = []
    for attempt in range(repeat):
        url = store.fresh("bench_ingest_http")
        engine = make_engine(url)
        key, _ = create_key(engine, "default", "bench")
        engine.dispose()
        with tempfile.TemporaryDirectory() as home, product_server(url, Path(home)) as server:
            load = os.getloadavg()[0]
            before = cpu_seconds(server.process.pid), store.server_cpu()
            started = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                list(pool.map(_send, [server.url] * clients, [key] * clients, shares))
            seconds = time.perf_counter() - started
            cpu = cpu_seconds(server.process.pid) - before[0], store.server_cpu() - before[1]
        rates.append(sent / seconds)
        what = f"http, {clients} client{'s' if clients > 1 else ''} ({store.backend})"
        _print_run(what, attempt, sent, seconds, cpu, load)
    return statistics.median(rates)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_backend_options(parser)
    parser.add_argument("--spans", type=int, default=1_000_000, help="spans in the file")
    parser.add_argument("--http-spans", type=int, default=200_000, help="spans sent over HTTP")
    parser.add_argument("--clients", default="1,4", help="concurrent exporters, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--days",
        type=int,
        default=365,
        help="days the runs are spread over (default 365: a year of a small team's use)",
    )
    parser.add_argument("--skip-file", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    return run_on_backends(parser.parse_args(), _bench_backend)


def _bench_backend(store: Store, args) -> list[str]:
    lines = []
    if not args.skip_file:
        rate = bench_file(store, args.spans, args.repeat, args.days)
        lines.append(
            f"  {store.backend}: OTLP JSON file, {args.spans:,} spans: {rate:,.0f} spans/s "
            f"(target {TARGETS['file']:,})"
        )
    if not args.skip_http:
        for clients in (int(n) for n in args.clients.split(",")):
            rate = bench_http(store, args.http_spans, args.repeat, clients, args.days)
            target = TARGETS.get(clients)
            lines.append(
                f"  {store.backend}: OTLP/HTTP protobuf, batches of {HTTP_BATCH}, {clients} "
                f"client(s): {rate:,.0f} spans/s" + (f" (target {target:,})" if target else "")
            )
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
