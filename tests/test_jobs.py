"""Background jobs: each tick runs once, on one replica; a failed run is retried, not lost."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text, update

from telemetry.jobs import Job, job_states, run_tick
from telemetry.models import JobState
from telemetry.timeutil import US_PER_SECOND

ROOT = Path(__file__).resolve().parent.parent
MINUTE_US = 60 * US_PER_SECOND
T0 = 1_790_000_000 * US_PER_SECOND - (1_790_000_000 * US_PER_SECOND) % MINUTE_US


class Recorder:
    def __init__(self, fail_times: int = 0) -> None:
        self.ticks: list[int] = []
        self.fail_times = fail_times

    def __call__(self, _engine, tick_us: int) -> None:
        if self.fail_times:
            self.fail_times -= 1
            raise ConnectionError("the mail server is down")
        self.ticks.append(tick_us)


def job_state(engine, name: str) -> JobState:
    (state,) = [state for state in job_states(engine) if state.name == name]
    return state


def test_tick_is_aligned_to_the_clock():
    job = Job("alerts", 60, Recorder())
    assert job.tick_of(T0 + 59 * US_PER_SECOND) == T0
    assert job.tick_of(T0 + MINUTE_US) == T0 + MINUTE_US


def test_each_tick_runs_once(engine):
    recorder = Recorder()
    job = Job("alerts", 60, recorder)
    assert run_tick(engine, job, T0, at_us=T0) is True
    assert run_tick(engine, job, T0, at_us=T0 + 5) is False
    assert run_tick(engine, job, T0 - MINUTE_US, at_us=T0 + 6) is False  # an older tick
    assert run_tick(engine, job, T0 + MINUTE_US, at_us=T0 + MINUTE_US) is True
    assert recorder.ticks == [T0, T0 + MINUTE_US]


def test_failed_run_gives_the_tick_back_and_says_why(engine):
    recorder = Recorder(fail_times=1)
    job = Job("alerts", 60, recorder)
    assert run_tick(engine, job, T0, at_us=T0) is None
    state = job_state(engine, "alerts")
    assert state.failures == 1
    assert state.last_error == "ConnectionError: the mail server is down"
    assert state.lease_until_us is None
    assert run_tick(engine, job, T0, at_us=T0 + 1) is True  # retried: the work is not lost
    assert recorder.ticks == [T0]
    state = job_state(engine, "alerts")
    assert (state.failures, state.last_error, state.last_tick_us) == (0, "", T0)


def test_a_run_in_progress_elsewhere_is_not_repeated_until_its_lease_expires(engine):
    recorder = Recorder()
    job = Job("retention", 60, recorder, lease_s=120)
    run_tick(engine, job, T0, at_us=T0)
    # Another process claimed the next tick and is still running it (or died running it).
    with engine.begin() as conn:
        conn.execute(
            update(JobState)
            .where(JobState.name == "retention")
            .values(last_tick_us=T0 + MINUTE_US, lease_until_us=T0 + 3 * MINUTE_US)
        )
    assert run_tick(engine, job, T0 + 2 * MINUTE_US, at_us=T0 + 2 * MINUTE_US) is False
    at = T0 + 3 * MINUTE_US + 1  # the lease ran out: the next tick may run
    assert run_tick(engine, job, T0 + 3 * MINUTE_US, at_us=at) is True
    assert recorder.ticks == [T0, T0 + 3 * MINUTE_US]


def test_two_server_processes_run_each_tick_exactly_once(engine):
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE test_job_run (tick_us BIGINT NOT NULL, pid INTEGER)"))
    url = engine.url.render_as_string(hide_password=False)
    command = [sys.executable, "-m", "tests.processes.job_runner", url, "6"]
    processes = [subprocess.Popen(command, cwd=ROOT) for _ in range(2)]
    for process in processes:
        assert process.wait(timeout=60) == 0
    with engine.connect() as conn:
        runs = conn.execute(text("SELECT tick_us, pid FROM test_job_run")).all()
    per_tick = Counter(tick for tick, _pid in runs)
    assert len(per_tick) >= 4, runs  # about six one-second ticks
    assert set(per_tick.values()) == {1}, per_tick
    assert all(tick % US_PER_SECOND == 0 for tick in per_tick)


@pytest.mark.parametrize("every_s", [1, 60, 86_400])
def test_ticks_cover_time_without_gaps(every_s):
    job = Job("x", every_s, Recorder())
    period = every_s * US_PER_SECOND
    starts = {job.tick_of(T0 + offset) for offset in range(0, 3 * period, period // 4 or 1)}
    assert sorted(starts) == [T0 - T0 % period + k * period for k in range(len(starts))]
