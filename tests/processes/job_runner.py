"""A server-like process for tests/test_jobs.py: runs one job every second for a while.

Usage: python -m tests.processes.job_runner DATABASE_URL SECONDS
The job records (tick, pid) in the table ``test_job_run`` and takes 0.3 s, so that
two processes started together would overlap if nothing kept them apart.
"""

from __future__ import annotations

import os
import sys
import time

from sqlalchemy import text

from telemetry.db import make_engine
from telemetry.jobs import Job, JobRunner


def record(engine, tick_us: int) -> None:
    time.sleep(0.3)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO test_job_run (tick_us, pid) VALUES (:t, :p)"),
            {"t": tick_us, "p": os.getpid()},
        )


def main(url: str, seconds: float) -> None:
    engine = make_engine(url)
    runner = JobRunner(lambda: engine, [Job("test-recorder", 1, record)], poll_s=0.05)
    runner.start()
    time.sleep(seconds)
    runner.stop()


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
