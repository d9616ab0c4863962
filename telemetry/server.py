"""What the one server process adds to the dashboard: HTTP routes, first-start work, jobs.

app.py hands these to ``st.App``: the ingest and login-cookie routes on the
dashboard's own port, middleware that hides Streamlit's internal metrics, and a
lifespan that prepares the store before the first request and runs the
background jobs (:mod:`telemetry.jobs`) until the server stops.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from contextlib import asynccontextmanager
from functools import cache

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from telemetry.db import make_engine
from telemetry.http_guard import guard_middleware
from telemetry.ingest.http import ingest_routes
from telemetry.ingest.logs_http import logs_routes
from telemetry.ingest.score_http import score_routes
from telemetry.jobs import Job, JobRunner
from telemetry.session_http import session_routes
from telemetry.startup import prepare_server


@cache
def server_engine() -> Engine:
    """The engine of the routes and jobs (the dashboard pages keep their own cached one)."""
    return make_engine()


def server_jobs() -> list[Job]:
    """The background jobs every server process offers to run (one replica runs each tick)."""
    from telemetry.alerts.evaluate import ALERTS_JOB  # imported late: the routes need less
    from telemetry.retention import RETENTION_JOB

    return [ALERTS_JOB, RETENTION_JOB]


def server_routes(get_engine: Callable[[], Engine] = server_engine) -> list[BaseRoute]:
    """The HTTP routes served beside the dashboard: ingest (traces, evaluation events sent
    as logs), scores, the login-cookie routes."""
    return [
        *ingest_routes(get_engine),
        *logs_routes(get_engine),
        *score_routes(get_engine),
        *session_routes(get_engine),
    ]


def server_middleware() -> list[Middleware]:
    """Middleware around everything: Streamlit's internal metrics answer 404."""
    return guard_middleware()


# How long a thread may hold the GIL while another waits for it (Python's default: 5 ms).
# The ingest writer gives up the GIL around every row SQLite stores and must get it
# back; with requests being decoded in other threads it waited up to the full interval
# each time. At 0.5 ms, four exporters stored 16.5k instead of 15.0k spans/s
# (bench/bench_ingest.py, SQLite, idle machine), one exporter as before.
GIL_SWITCH_SECONDS = 0.0005
# The cyclic garbage collector. Ingest allocates many short-lived objects that hold no
# cycles (decoded spans, records, rows); with Python's default thresholds (700, 10, 10)
# the collector ran 2,400 times in 17 s of four exporters' load, 16 of them full passes
# of ~90 ms over everything the process holds (Streamlit, pandas, the store's metadata),
# every thread stopped: 1.8 s in all. Objects alive once the server is prepared stay
# for good, so they are moved out of the collector's reach (gc.freeze), and a young
# collection waits for 10,000 new objects: GC time 0.05 s, the server's CPU per span
# 50 -> 45 us; four exporters stored ~12.3k -> ~12.9k spans/s on PostgreSQL and
# 17.2k -> 20.1k on SQLite (bench/bench_ingest.py).
GC_THRESHOLDS = (10_000, 10, 10)


def server_lifespan(get_engine: Callable[[], Engine] = server_engine, jobs=server_jobs):
    """The ``st.App`` lifespan: prepare the store, then run the jobs until shutdown."""

    @asynccontextmanager
    async def lifespan(_app):
        sys.setswitchinterval(GIL_SWITCH_SECONDS)
        gc.set_threshold(*GC_THRESHOLDS)
        # Before the first request: schema, demo data on a new store, first admin.
        await run_in_threadpool(prepare_server, get_engine())
        gc.collect()  # what the preparation left behind, before the rest is frozen
        gc.freeze()
        runner = JobRunner(get_engine, jobs())
        runner.start()
        try:
            yield
        finally:
            await run_in_threadpool(runner.stop)

    return lifespan
