"""Background jobs of the server: each runs once per tick of its interval, on one replica.

A job (alert evaluation, retention, ...) has a name, an interval and a function
taking ``(engine, tick_us)``. Ticks are aligned to the clock: a job every 60 s
has a tick at every whole minute. Every server process runs a :class:`JobRunner`
thread; when a tick begins, each runner tries to claim it and only one succeeds:

- on PostgreSQL the runner first takes a session advisory lock named after the
  job (``pg_try_advisory_lock``), so two replicas never run the same job at once;
- then, on both backends, it claims the tick with one conditional UPDATE of the
  job's ``job_state`` row (``last_tick_us < tick`` and no unexpired lease), which
  is atomic, so a tick is run at most once even by processes that do not share
  an advisory lock (two servers on one SQLite file).

A run that fails (the database is down, a bug) gives the tick back, logs one
line and is retried with a growing delay, so the work of a tick is never
dropped; a runner that dies mid-run leaves a lease that expires after
``Job.lease_s``. CLI commands doing "one pass for cron" call :func:`run_now`,
which takes the same advisory lock and lease.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from telemetry.models import JobState
from telemetry.store import insert_ignoring_duplicates
from telemetry.timeutil import US_PER_SECOND, now_us

logger = logging.getLogger(__name__)
_MAX_BACKOFF_S = 60.0


@dataclass(frozen=True)
class Job:
    """A named piece of background work, run once per ``every_s`` seconds of clock time."""

    name: str
    every_s: int
    run: Callable[[Engine, int], object]  # (engine, tick in epoch microseconds)
    lease_s: int = 15 * 60  # how long a claimed run may take before another may retry it

    def tick_of(self, at_us: int) -> int:
        """The start of the tick holding ``at_us`` (epoch microseconds)."""
        period = self.every_s * US_PER_SECOND
        return at_us - at_us % period


def runner_name() -> str:
    """Who claims a tick: host and process, shown in ``jobs list``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _lock_key(name: str) -> int:
    # pg_try_advisory_lock takes a signed 64-bit key; a stable hash of the name.
    return zlib.crc32(f"telemetry-job:{name}".encode()) - 2**31


@contextmanager
def job_lock(engine: Engine, name: str):
    """Yield True when this process holds job ``name``'s lock (always True on SQLite, where
    writers take turns anyway); a CLI pass of a job takes it too."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    with engine.connect() as conn:
        key = _lock_key(name)
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()


def _ensure_state_row(conn: Connection, name: str) -> None:
    insert_ignoring_duplicates(conn, JobState.__table__, [{"name": name, "last_tick_us": 0}])


def _claim(engine: Engine, job: Job, tick_us: int, at_us: int) -> bool:
    """Claim ``tick_us`` for this process: True when no one else has it or had it.

    One conditional UPDATE, the transaction's first read or write, so that two
    SQLite processes never both read first and then fail to upgrade to writing.
    It keeps the tick it replaces in ``previous_tick_us`` to give it back on failure.
    """
    with engine.begin() as conn:
        _ensure_state_row(conn, job.name)
        claimed = conn.execute(
            update(JobState)
            .where(
                JobState.name == job.name,
                JobState.last_tick_us < tick_us,
                (JobState.lease_until_us.is_(None)) | (JobState.lease_until_us < at_us),
            )
            .values(
                previous_tick_us=JobState.last_tick_us,
                last_tick_us=tick_us,
                lease_until_us=at_us + job.lease_s * US_PER_SECOND,
                runner=runner_name(),
                last_started_us=at_us,
            )
        ).rowcount
    return claimed == 1


def _finish(engine: Engine, job: Job, *, error: str = "") -> None:
    values: dict = {"lease_until_us": None, "last_finished_us": now_us(), "last_error": error}
    if error:  # give the tick back: the next attempt runs it again
        values["last_tick_us"] = JobState.previous_tick_us
        values["failures"] = JobState.failures + 1
    else:
        values["failures"] = 0
    with engine.begin() as conn:
        conn.execute(update(JobState).where(JobState.name == job.name).values(**values))


def run_tick(engine: Engine, job: Job, tick_us: int, *, at_us: int | None = None) -> bool | None:
    """Run ``job`` for ``tick_us`` if no one has; True when it ran, None when it failed."""
    at_us = now_us() if at_us is None else at_us
    with job_lock(engine, job.name) as got:
        if not got:
            return False
        if not _claim(engine, job, tick_us, at_us):
            return False
        try:
            job.run(engine, tick_us)
        except Exception as error:  # any failure: the tick goes back, to be retried
            message = f"{type(error).__name__}: {error}".splitlines()[0][:500]
            logger.warning("job %s failed for tick %s, will retry: %s", job.name, tick_us, message)
            with suppress(SQLAlchemyError):  # else the lease expires and the tick is retried
                _finish(engine, job, error=message)
            return None
        _finish(engine, job)
        return True


def run_now(engine: Engine, job: Job) -> bool:
    """One pass for cron: run ``job`` now unless another process is running it."""
    return bool(run_tick(engine, job, now_us()))


class JobRunner:
    """A daemon thread that runs ``jobs`` at each tick, started and stopped by the server."""

    def __init__(
        self, engine_factory: Callable[[], Engine], jobs: Sequence[Job], *, poll_s: float = 1.0
    ) -> None:
        self._engine_factory = engine_factory
        self._jobs = list(jobs)
        self._poll_s = poll_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="telemetry-jobs", daemon=True)
        self._done: dict[str, int] = {}  # job -> the last tick seen finished (by anyone)
        self._retry_at: dict[str, float] = {}
        self._failures: dict[str, int] = {}

    def start(self) -> None:
        if self._jobs:
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            for job in self._jobs:
                if self._stop.is_set():
                    break
                self._maybe_run(job)
            self._stop.wait(self._poll_s)

    def _maybe_run(self, job: Job) -> None:
        tick = job.tick_of(now_us())
        if self._done.get(job.name, -1) >= tick or time.monotonic() < self._retry_at.get(
            job.name, 0.0
        ):
            return
        try:
            outcome = run_tick(self._engine_factory(), job, tick)
        except SQLAlchemyError as error:  # the store is unreachable: try again later
            outcome = None
            logger.warning("job %s: the store cannot be reached (%s)", job.name, error.orig)
        if outcome is None:
            failures = self._failures.get(job.name, 0) + 1
            self._failures[job.name] = failures
            self._retry_at[job.name] = time.monotonic() + min(2.0**failures, _MAX_BACKOFF_S)
            return
        self._failures.pop(job.name, None)
        self._retry_at.pop(job.name, None)
        # Ran here, or claimed by another replica: either way nothing more this tick.
        self._done[job.name] = tick


def job_states(engine: Engine) -> list[JobState]:
    """Every job's last tick, runner, lease and last error (``python -m telemetry jobs``)."""
    with Session(engine) as session:
        return list(session.exec(select(JobState).order_by(JobState.name)).all())
