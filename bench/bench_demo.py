"""Demo generation speed: time ``generate_demo`` for N traces into a fresh store.

Usage: .venv/bin/python bench/bench_demo.py [--traces 1000000] [--days 365] [--url URL]

Without --url it writes a temporary SQLite file (deleted afterwards). Prints the
wall time, rows written per second (sessions + traces + observations) and the CPU
time of the writer (this process) and of the builder process (runs of 60,000
traces or more): on a busy machine the wall time says more about the neighbours
than about the generator, and on an idle one it is about the larger of the two.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telemetry.db import init_store, make_engine
from telemetry.demo import generate_demo


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds of this process (the writer) and of its finished children (the builder)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def run(url: str, traces: int, days: int) -> None:
    engine = make_engine(url)
    init_store(engine)
    last = [time.perf_counter()]

    def progress(done: int, total: int) -> None:
        if time.perf_counter() - last[0] > 15:
            last[0] = time.perf_counter()
            print(f"  {done:,}/{total:,}", flush=True)

    cpu_before, started = cpu_seconds(), time.perf_counter()
    summary = generate_demo(
        engine, days=days, traces=traces, end=date(2026, 10, 31), progress=progress
    )
    elapsed = time.perf_counter() - started
    cpu_after = cpu_seconds()
    writer_cpu, builder_cpu = cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1]
    rows = summary.sessions + summary.traces + summary.observations
    print(
        f"{summary.traces:,} traces, {summary.observations:,} observations, "
        f"{summary.sessions:,} sessions in {elapsed:.1f} s "
        f"({rows / elapsed:,.0f} rows/s, {summary.traces / elapsed:,.0f} traces/s; "
        f"CPU: writer {writer_cpu:.1f} s, builder process {builder_cpu:.1f} s)"
    )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--traces", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    if args.url:
        run(args.url, args.traces, args.days)
        return
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as folder:
        run(f"sqlite:///{folder}/demo.db", args.traces, args.days)


if __name__ == "__main__":
    main()
