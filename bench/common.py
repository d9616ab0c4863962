"""Shared bench helpers: a reusable large store and median timing."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, func, select

from telemetry.db import init_store, make_engine
from telemetry.models import Observation, Organization, Trace, TraceDaily
from telemetry.rollups import rebuild_rollups

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / ".cache"
# How the README starts the product; benches that need a real server start it so.
SERVER_COMMAND = [str(ROOT / ".venv" / "bin" / "streamlit"), "run", "app.py"]
# The script app.py mounts (what AppTest-based benches run).
DASHBOARD_SCRIPT = ROOT / "ui" / "dashboard.py"
# A fixed end date keeps the generated store identical from one run to the next.
BENCH_END = date(2026, 10, 31)


def bench_store(traces: int, *, days: int = 365) -> Engine:
    """A SQLite store holding ``traces`` demo traces over ``days`` (built once, then reused)."""
    from telemetry.demo import generate_demo

    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"bench-{traces}-{days}d.db"
    engine = make_engine(f"sqlite:///{path}")
    init_store(engine)
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(Trace)).scalar()
    if stored < traces:
        print(f"building {path.name}: {traces:,} traces over {days} days (once; reused after)")
        started = time.perf_counter()
        last = [0.0]

        def progress(done: int, total: int) -> None:
            if time.perf_counter() - last[0] > 10:
                last[0] = time.perf_counter()
                print(f"  {done:,}/{total:,}", flush=True)

        generate_demo(engine, days=days, traces=traces, end=BENCH_END, progress=progress)
        print(f"built in {time.perf_counter() - started:.0f} s")
    _ensure_rollups(engine)
    with engine.connect() as conn:
        observations = conn.execute(select(func.count()).select_from(Observation)).scalar()
        stored = conn.execute(select(func.count()).select_from(Trace)).scalar()
    print(f"store: {stored:,} traces, {observations:,} observations ({path})")
    return engine


def _ensure_rollups(engine: Engine) -> None:
    """Rebuild the daily rollups of every organization whose rollups miss traces.

    The demo generator does not maintain them (yet), so a freshly built store
    would otherwise be read through empty rollups.
    """
    with engine.begin() as conn:
        for org in conn.execute(select(Organization.id)).scalars().all():
            stored = conn.execute(
                select(func.count()).select_from(Trace).where(Trace.org_id == org)
            ).scalar()
            rolled = conn.execute(
                select(func.coalesce(func.sum(TraceDaily.traces), 0)).where(
                    TraceDaily.org_id == org
                )
            ).scalar()
            if stored != rolled:
                print(f"rebuilding the daily rollups of organization {org} (once)")
                rebuild_rollups(conn, org)


def median_seconds(run: Callable[[], object], *, repeat: int) -> float:
    run()  # warm the page cache once; the figure is the steady state
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)
