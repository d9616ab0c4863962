"""Export and retention on the 1M-trace store: rows per second, peak memory, ingest waits.

- Export: ``python -m telemetry export`` of the whole year's traces and generations,
  as JSONL and as CSV, each in its own process: rows/s and the process's peak RSS
  (budget: under 600 MB).
- Retention: on a copy of the store, ``records 180 days, content 90 days`` applied
  to the year: deleted rows per second, and the longest a one-row write waited
  meanwhile (a writer thread commits every 50 ms, as ingest would).

    .venv/bin/python bench/bench_lifecycle.py [--traces 1000000] [--skip-export] [--skip-retention]
        [--batch 500]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import BENCH_END, CACHE, bench_store  # noqa: E402
from telemetry.db import make_engine  # noqa: E402
from telemetry.timeutil import day_number  # noqa: E402


def export_once(url: str, fmt: str, out: Path) -> dict:
    env = {**os.environ, "TELEMETRY_DATABASE_URL": url}
    command = [
        sys.executable, "-m", "telemetry", "export", "--org", "demo",
        "--from", "2025-11-01", "--to", BENCH_END.isoformat(),
        "--include", "traces,generations", "--format", fmt, "-o", str(out), "--quiet",
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    # ru_maxrss of the children: the largest finished child so far (KiB on Linux).
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    manifest = json.loads((out / "manifest.json").read_text())
    rows = sum(entry["rows"] for entry in manifest["kinds"].values())
    size_mb = sum(path.stat().st_size for path in out.iterdir()) / 1e6
    return {"format": fmt, "rows": rows, "seconds": seconds, "peak_mb": peak_mb, "mb": size_mb}


def bench_export(url: str) -> None:
    for fmt in ("jsonl", "csv"):
        with tempfile.TemporaryDirectory(dir=CACHE) as folder:
            r = export_once(url, fmt, Path(folder) / "out")
        print(
            f"export {r['format']:5}: {r['rows']:,} rows in {r['seconds']:.1f} s = "
            f"{r['rows'] / r['seconds']:,.0f} rows/s, {r['mb']:,.0f} MB written, "
            f"peak RSS so far {r['peak_mb']:.0f} MB",
            flush=True,
        )


class WriteProbe:
    """A thread committing a one-row write every 50 ms; the longest one is the worst wait."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.stop = threading.Event()
        self.waits: list[float] = []
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        from sqlalchemy import update

        from telemetry.models import OrgState

        while not self.stop.is_set():
            started = time.perf_counter()
            with self.engine.begin() as conn:
                conn.execute(update(OrgState).values(updated_us=OrgState.updated_us + 1))
            self.waits.append(time.perf_counter() - started)
            self.stop.wait(0.05)


def bench_retention(source: Path, batch: int) -> None:
    from telemetry.retention import run_retention, set_policy
    from telemetry.rollups import rollup_drift

    with tempfile.TemporaryDirectory(dir=CACHE) as folder:
        copy = Path(folder) / "retention.db"
        shutil.copyfile(source, copy)
        url = f"sqlite:///{copy}"
        engine = make_engine(url)
        today = day_number(BENCH_END)
        set_policy(engine, "demo", content_days=90, record_days=180)
        started = time.perf_counter()
        (dry,) = run_retention(engine, "demo", dry_run=True, today=today)
        print(f"retention dry run: {time.perf_counter() - started:.1f} s, {dry.counts}")
        probe = WriteProbe(url)
        probe.thread.start()
        started = time.perf_counter()
        (done,) = run_retention(engine, "demo", today=today, batch_rows=batch)
        seconds = time.perf_counter() - started
        probe.stop.set()
        probe.thread.join()
        rows = done.counts["traces"] + done.counts["spans"]
        waits = sorted(probe.waits)
        print(
            f"retention run: {seconds:.1f} s, {done.counts}; "
            f"{rows / seconds:,.0f} traces+spans deleted/s; equal to the dry run: "
            f"{done.counts == dry.counts}"
        )
        print(
            f"one-row writes meanwhile: {len(waits)}, "
            f"median {waits[len(waits) // 2] * 1000:.0f} ms,"
            f" p99 {waits[int(len(waits) * 0.99)] * 1000:.0f} ms, max {waits[-1] * 1000:.0f} ms"
        )
        started = time.perf_counter()
        with engine.connect() as conn:
            from telemetry.store import org_id

            drift = rollup_drift(conn, org_id(conn, "demo"))
        print(
            f"rollups check after: {len(drift)} differences ({time.perf_counter() - started:.0f} s)"
        )
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=1_000_000)
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--skip-retention", action="store_true")
    parser.add_argument("--batch", type=int, default=500, help="traces per delete transaction")
    args = parser.parse_args()
    engine = bench_store(args.traces)
    source = Path(engine.url.database)
    engine.dispose()
    print(f"load: {os.getloadavg()}", flush=True)
    if not args.skip_export:
        bench_export(f"sqlite:///{source}")
    if not args.skip_retention:
        bench_retention(source, args.batch)
    print(f"load: {os.getloadavg()}")


if __name__ == "__main__":
    main()
