"""A server-like process for tests/test_alerts_processes.py: the alert job every second.

Usage: python -m tests.processes.alerts_runner DATABASE_URL SECONDS
The same job (name, claims, advisory lock) and work as the server's alert job,
ticking every second instead of every minute so that a test sees many ticks.
"""

from __future__ import annotations

import sys
import time

from telemetry.alerts.evaluate import ALERTS_JOB, run_pass
from telemetry.db import make_engine
from telemetry.jobs import Job, JobRunner


def main(url: str, seconds: float) -> None:
    engine = make_engine(url)
    job = Job(ALERTS_JOB.name, 1, run_pass)
    runner = JobRunner(lambda: engine, [job], poll_s=0.05)
    runner.start()
    time.sleep(seconds)
    runner.stop()


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
