"""Page queries while ingest runs: the Overview's queries stay within 1.5x of their idle time.

Usage: .venv/bin/python bench/bench_ingest_queries.py [--backend sqlite,postgresql]
       [--days 30] [--runs-per-day 2000] [--rate 2000] [--repeat 15] [--postgres-url URL]

A store holds --days days of agent runs, the last of them "today" (bench.ingest_data:
--runs-per-day runs of 5 spans a day, stored by the ingest writer), and the product's
server (bench.common.SERVER_COMMAND) runs on it. The Overview page's queries
(bench.bench_queries.overview_query_set) for the last 30 days and for today are timed
--repeat times on the idle server, then again while one exporter sends more runs of
today to it over OTLP/HTTP (protobuf, 512 spans a request, in SDK export order) at
--rate spans/s (every request changes today's rollup rows, the rows those queries
read), and once more when the exporter has stopped. Today grows while the exporter
sends, so the queries under ingest are compared with those after it, on the larger day.

The queries run in this process, as a second replica or the CLI would; inside the
server they would also share its GIL with the ingest threads. Prints the medians
before, during and after, the ratio during/after (target: at most 1.5x), the rate the
exporter achieved and the load.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_ingest_day import day_records
from bench.bench_queries import overview_query_set
from bench.common import Store, add_backend_options, product_server, run_on_backends
from bench.ingest_data import DAY_NS, HTTP_BATCH, T0_NS, agent_runs, encode_requests
from telemetry.apikeys import create_key
from telemetry.db import make_engine
from telemetry.filters import Filters
from telemetry.ingest.writer import SpanWriter
from telemetry.store import org_id
from telemetry.timeutil import day_of_number

TARGET = 1.5


def prefill(url: str, days: int, runs_per_day: int) -> None:
    """``days`` days of runs, day by day, through the ingest writer."""
    engine = make_engine(url)
    with engine.connect() as conn:
        org = org_id(conn, "default")
    for day in range(days):
        records, pricer = day_records(engine, runs_per_day, seed=day, day=day)
        writer = SpanWriter(engine, org, source="bench prefill", pricer=pricer)
        for start in range(0, len(records), 10_000):
            writer.write(records[start : start + 10_000])
    engine.dispose()


def todays_requests(day: int, runs: int) -> list[bytes]:
    """Requests of ``runs`` more runs on day ``day`` (trace ids other than the stored
    runs'), in the order an SDK exports their spans."""
    more = agent_runs(runs, 1, seed=99, first_day=day, first_run=5_000_000)
    flat = [(module, span) for module, run in more for span in run]
    flat.sort(key=lambda pair: pair[1][5])
    return encode_requests(flat)


class Exporter(threading.Thread):
    """Sends the requests at a steady rate of spans per second until stopped."""

    def __init__(self, url: str, key: str, bodies: list[bytes], rate: float) -> None:
        super().__init__(daemon=True)
        self.url, self.key, self.bodies, self.rate = url, key, bodies, rate
        self.stopping = threading.Event()
        self.sent = 0
        self.seconds = 0.0
        self.error: str | None = None

    def run(self) -> None:
        host, port = self.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        headers = {"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {self.key}"}
        started = time.perf_counter()
        for number, body in enumerate(self.bodies):
            if self.stopping.is_set():
                break
            due = started + number * HTTP_BATCH / self.rate
            time.sleep(max(0.0, due - time.perf_counter()))
            conn.request("POST", "/v1/traces", body=body, headers=headers)
            response = conn.getresponse()
            answer = response.read()
            if response.status != 200 or answer:
                self.error = f"HTTP {response.status}: {answer[:300]!r}"
                break
            self.sent += 1
        else:
            self.error = "ran out of requests before the queries were timed (lower --repeat)"
        self.seconds = time.perf_counter() - started
        conn.close()


def timed(engine, filters: Filters, repeat: int) -> float:
    overview_query_set(engine, filters)  # warm the caches once
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        overview_query_set(engine, filters)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def bench(store: Store, args) -> list[str]:
    url = store.fresh("bench_ingest_queries")
    print(f"{store.backend}: storing {args.days} days of {args.runs_per_day:,} runs", flush=True)
    prefill(url, args.days, args.runs_per_day)
    engine = make_engine(url)
    key, _ = create_key(engine, "default", "bench")
    today = day_of_number(int(T0_NS // DAY_NS) + args.days - 1)
    periods = {
        "last 30 days": Filters(start=today - timedelta(days=29), end=today, org="default"),
        "today": Filters(start=today, end=today, org="default"),
    }
    # Two minutes of requests at the asked rate: the timed part takes well under one.
    runs = max(2_000, int(args.rate * 120 / 5))
    bodies = todays_requests(args.days - 1, runs)
    lines = []
    with tempfile.TemporaryDirectory() as home, product_server(url, Path(home)) as server:
        idle = {name: timed(engine, f, args.repeat) for name, f in periods.items()}
        exporter = Exporter(server.url, key, bodies, args.rate)
        load = os.getloadavg()[0]
        exporter.start()
        time.sleep(3)  # the exporter is sending steadily before the first timing
        busy = {name: timed(engine, f, args.repeat) for name, f in periods.items()}
        exporter.stopping.set()
        exporter.join()
        after = {name: timed(engine, f, args.repeat) for name, f in periods.items()}
    engine.dispose()
    if exporter.error:
        raise SystemExit(f"{store.backend}: the exporter failed: {exporter.error}")
    achieved = exporter.sent * HTTP_BATCH / exporter.seconds
    for name in periods:
        ratio = busy[name] / after[name]
        lines.append(
            f"  {store.backend}: Overview queries, {name}: idle {idle[name] * 1000:.1f} ms "
            f"before, {busy[name] * 1000:.1f} ms under ingest, {after[name] * 1000:.1f} ms "
            f"after: {ratio:.2f}x (target <= {TARGET}x); ingest {achieved:,.0f} spans/s "
            f"({exporter.sent * HTTP_BATCH:,} spans); load {load:.1f} -> {os.getloadavg()[0]:.1f}"
        )
        print(lines[-1], flush=True)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_backend_options(parser)
    parser.add_argument("--days", type=int, default=30, help="days stored, today the last")
    parser.add_argument("--runs-per-day", type=int, default=2_000)
    parser.add_argument("--rate", type=float, default=2_000, help="spans per second sent")
    parser.add_argument("--repeat", type=int, default=15)
    return run_on_backends(parser.parse_args(), bench)


if __name__ == "__main__":
    raise SystemExit(main())
