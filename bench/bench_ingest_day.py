"""Ingest on one busy day, on SQLite and PostgreSQL: flat batch times, no exporter timing out.

Usage: .venv/bin/python bench/bench_ingest_day.py [--backend sqlite,postgresql]
       [--batches 200] [--prefill 40000] [--exporters 10] [--skip-flat] [--skip-exporters]
       [--postgres-url URL]

Flat (target: the 200th 1,000-span batch of a day takes at most 1.5x the 1st):
200 batches of 1,000 spans of agent runs all starting on one day, in the order an
SDK exports spans (as they end: children before their root, runs interleaved, so
some traces are updated by a later batch), written one after the other by the
ingest writer, once into a fresh store and once into a store already holding the
previous day (same users and sessions): in a fresh store the first batches are
cheap because every table and index still fits in a few pages. Prints every
twentieth batch's time; compares the median of batches 1-10 with that of 191-200.

Exporters (target: none of them times out): a store already holding --prefill
traces on one day; the product's server (bench.common.SERVER_COMMAND) on it; then
--exporters OpenTelemetry SDK exporters at once (OTLP/HTTP protobuf, batch
processor, the SDK's default 10 s request timeout), each sending 1,000 runs of
that day. Every request's time is recorded; a timeout or an error is counted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import CACHE, Store, add_backend_options, backend_stores, product_server
from bench.ingest_data import agent_runs
from telemetry.apikeys import create_key
from telemetry.db import make_engine
from telemetry.ingest.limits import Limits
from telemetry.ingest.mapping import map_spans, mapping_context
from telemetry.ingest.otlp import RawSpan
from telemetry.ingest.writer import SpanWriter
from telemetry.models import Trace
from telemetry.pricing import Pricer
from telemetry.store import org_id


def day_records(engine, runs: int, seed: int, day: int = 0) -> tuple[list[dict], Pricer]:
    """Mapped records of ``runs`` agent runs on day ``day`` (from T0), in SDK export order
    (by end), and the pricer they were priced with."""
    raws = []
    for module, spans in agent_runs(runs, 1, seed=seed, first_day=day):
        resource = {"service.name": module}
        for number, (trace, span, parent, name, start, end, code, attrs) in enumerate(spans):
            raws.append(
                RawSpan(
                    trace, span, parent, name, start, end, code, "", dict(attrs), [],
                    resource, "", (0, 0, number),
                )
            )  # fmt: skip
    raws.sort(key=lambda raw: raw.end_ns)
    with engine.connect() as conn:
        org = org_id(conn, "default")
    context = mapping_context(engine, org, Limits())
    records, rejected = map_spans(raws, context)
    assert not rejected
    return records, context.pricer


def bench_flat(store: Store, batches: int, previous_days: int) -> None:
    """Time each of ``batches`` 1,000-span batches of one day, after ``previous_days``
    days of the same traffic (a fresh store when 0)."""
    engine = make_engine(store.fresh("bench_ingest_day"))
    with engine.connect() as conn:
        org = org_id(conn, "default")
    for day in range(previous_days):
        records, pricer = day_records(engine, batches * 1_000 // 5, seed=3 + day, day=day)
        writer = SpanWriter(engine, org, source="bench prefill", pricer=pricer)
        for start in range(0, len(records), 5_000):
            writer.write(records[start : start + 5_000])
    records, pricer = day_records(engine, batches * 1_000 // 5, seed=2, day=previous_days)
    writer = SpanWriter(engine, org, source="bench", pricer=pricer)
    load = os.getloadavg()[0]
    times = []
    for number in range(batches):
        started = time.perf_counter()
        outcome = writer.write(records[number * 1_000 : (number + 1) * 1_000])
        times.append(time.perf_counter() - started)
        if number % 20 == 0 or number == batches - 1:
            print(
                f"  batch {number + 1:>3}: {times[-1] * 1000:6.1f} ms "
                f"({outcome.traces_created} new traces, {outcome.traces_updated} updated)",
                flush=True,
            )
    engine.dispose()
    first, last = statistics.median(times[:10]), statistics.median(times[-10:])
    where = f"after {previous_days} busy day(s)" if previous_days else "fresh store"
    print(
        f"{store.backend}: flat day ({where}): batch 1 {times[0] * 1000:.0f} ms, batch "
        f"{batches} {times[-1] * 1000:.0f} ms; median of the first ten {first * 1000:.0f} ms, "
        f"of the last ten {last * 1000:.0f} ms: {last / first:.2f}x (target <= 1.5x); "
        f"load {load:.1f} -> {os.getloadavg()[0]:.1f}",
        flush=True,
    )


class TimedSession(requests.Session):
    """Records the duration and outcome of every export request."""

    def __init__(self, results: list, lock: threading.Lock) -> None:
        super().__init__()
        self.results = results
        self.lock = lock

    def request(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            response = super().request(*args, **kwargs)
        except requests.RequestException as error:
            with self.lock:
                self.results.append((time.perf_counter() - started, type(error).__name__))
            raise
        with self.lock:
            self.results.append((time.perf_counter() - started, response.status_code))
        return response


def export_runs(url: str, key: str, runs: int, seed: int, results: list, lock) -> None:
    """One application's SDK exporter sending ``runs`` agent runs of the busy day."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.trace import set_span_in_context

    exporter = OTLPSpanExporter(
        endpoint=f"{url}/v1/traces",
        headers={"Authorization": f"Bearer {key}"},
        session=TimedSession(results, lock),
    )  # the SDK's default timeout (10 s unless OTEL_EXPORTER_OTLP_TIMEOUT says otherwise)
    provider = TracerProvider(resource=Resource.create({"service.name": f"app-{seed}"}))
    # A queue that holds a whole application's burst: every span is sent, none dropped.
    provider.add_span_processor(
        BatchSpanProcessor(exporter, max_queue_size=10_000, max_export_batch_size=512)
    )
    tracer = provider.get_tracer("bench")
    for _module, spans in agent_runs(runs, 1, seed=seed):
        _trace, _span, _parent, name, start, end, _code, attrs = spans[0]
        root = tracer.start_span(name, attributes=attrs, start_time=start)
        context = set_span_in_context(root)
        for _t, _s, _p, child_name, child_start, child_end, _c, child_attrs in spans[1:]:
            child = tracer.start_span(
                child_name, context=context, attributes=child_attrs, start_time=child_start
            )
            child.end(end_time=child_end)
        root.end(end_time=end)
    provider.force_flush(120_000)
    provider.shutdown()


def bench_exporters(store: Store, prefill: int, exporters: int) -> None:
    url = store.fresh("bench_ingest_busy")
    engine = make_engine(url)
    records, pricer = day_records(engine, prefill, seed=5)
    with engine.connect() as conn:
        org = org_id(conn, "default")
    writer = SpanWriter(engine, org, source="bench prefill", pricer=pricer)
    for start in range(0, len(records), 5_000):
        writer.write(records[start : start + 5_000])
    key, _ = create_key(engine, "default", "bench")
    engine.dispose()
    print(f"  {store.backend}: the day holds {prefill:,} traces; {exporters} exporters start")
    results: list = []
    lock = threading.Lock()
    with tempfile.TemporaryDirectory() as home, product_server(url, Path(home)) as server:
        load = os.getloadavg()[0]
        started = time.perf_counter()
        threads = [
            threading.Thread(
                target=export_runs, args=(server.url, key, 1_000, 100 + n, results, lock)
            )
            for n in range(exporters)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
    engine = make_engine(url)
    with engine.connect() as conn:
        traces = conn.execute(select(func.count()).select_from(Trace)).scalar()
    engine.dispose()
    durations = sorted(duration for duration, _ in results)
    failed = sorted({str(outcome) for _, outcome in results if outcome != 200})
    failures = sum(1 for _, outcome in results if outcome != 200)
    print(
        f"{store.backend}: {exporters} exporters on a day of {prefill:,} traces: "
        f"{len(results)} requests in {seconds:.1f} s, {failures} failed or timed out {failed}; "
        f"request time median {statistics.median(durations):.2f} s, max {durations[-1]:.2f} s "
        f"(timeout 10 s); {traces:,} traces stored of {prefill + exporters * 1_000:,} sent; "
        f"load {load:.1f} -> {os.getloadavg()[0]:.1f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_backend_options(parser)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--prefill", type=int, default=40_000, help="traces already on the day")
    parser.add_argument("--exporters", type=int, default=10)
    parser.add_argument("--skip-flat", action="store_true")
    parser.add_argument("--skip-exporters", action="store_true")
    args = parser.parse_args()
    CACHE.mkdir(exist_ok=True)
    for store in backend_stores(args.backend, args.postgres_url):
        _bench_backend(store, args)
    return 0


def _bench_backend(store: Store, args) -> None:
    if not args.skip_flat:
        for previous_days in (0, 1):
            bench_flat(store, args.batches, previous_days)
    if not args.skip_exporters:
        bench_exporters(store, args.prefill, args.exporters)


if __name__ == "__main__":
    raise SystemExit(main())
