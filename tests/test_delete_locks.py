"""Deleting waits for the organization's writers, so nothing is written pointing at deleted rows.

On PostgreSQL no foreign key checks an observation's trace (migration m025) nor a
trace's user, team or session (m026): what keeps a writer from adding spans to a
trace that is being deleted, or a run to a user being forgotten, is that every
deleter takes the organization's write lock (``bump_data_version``) before it reads
what to delete. Each test holds that lock as a writer does, having found a stored
trace; starts a deleter, which must wait; then writes and commits. The deleter must
then delete what was written too: nothing may be left pointing at a row that is
gone. (Taking the lock after deleting, the deleter would have deleted the rows under
the writer's feet and left its writes behind.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import Connection, Engine, func, insert, select, text

from telemetry.cli import main as cli_main
from telemetry.db import DATABASE_URL_ENV, foreign_keys
from telemetry.forget import forget_user
from telemetry.models import Observation, Trace
from telemetry.orgs import delete_org
from telemetry.retention import run_retention, set_policy
from telemetry.rollups import reference_problems, rollup_drift
from telemetry.store import bump_data_version
from telemetry.timeutil import day_number
from tests.factories import Dataset

WAIT_S = 20


def _data(engine: Engine, org: str) -> Dataset:
    ds = Dataset(engine, org)
    ds.team("alpha")
    ds.user("ana", team="alpha")
    ds.trace("old-run", start=datetime(2026, 1, 5, 9), user="ana", session="s1")
    return ds


def _deleter_waits_on_the_lock(engine: Engine, deleting: threading.Thread) -> bool:
    """Whether another session of the store is waiting for a lock (the deleter's)."""
    deadline = time.monotonic() + WAIT_S
    with engine.connect() as watch:
        while time.monotonic() < deadline and deleting.is_alive():
            waiting = watch.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar()
            if waiting:
                return True
            watch.rollback()  # the activity view is read once per transaction
            time.sleep(0.02)
    return False


def _span_added_while_deleting(engine: Engine, ds: Dataset, delete: Callable[[], object]) -> int:
    """Run ``delete`` while a writer holding the lock adds a span to the stored trace;
    return the trace's row id."""

    def add_span(writer: Connection, trace_pk: int) -> None:
        late = dict(ds.observations[0], span_id="late-span", trace_pk=trace_pk)
        writer.execute(insert(Observation).values(late))

    return _written_while_deleting(engine, ds, delete, add_span)


def _written_while_deleting(
    engine: Engine,
    ds: Dataset,
    delete: Callable[[], object],
    write: Callable[[Connection, int], None],
) -> int:
    """Run ``delete`` while a writer holding the lock, having found the stored trace, runs
    ``write(connection, trace row id)``; return the trace's row id."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            delete()
        except BaseException as error:  # handed to the test
            errors.append(error)

    deleting = threading.Thread(target=run)
    with engine.connect() as writer:
        with writer.begin():
            bump_data_version(writer, ds.org_id)  # what a writer's transaction starts with
            trace_pk = writer.execute(
                select(Trace.id).where(Trace.org_id == ds.org_id, Trace.trace_id == "old-run")
            ).scalar_one()
            deleting.start()
            assert _deleter_waits_on_the_lock(engine, deleting), "the deleter did not wait"
            write(writer, trace_pk)
        deleting.join(WAIT_S)
    assert not deleting.is_alive()
    assert errors == []
    return trace_pk


def _observations_of(engine: Engine, trace_pk: int) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(Observation).where(Observation.trace_pk == trace_pk)
        ).scalar_one()


@pytest.fixture
def store(postgresql_engine: Engine) -> Engine:
    with postgresql_engine.connect() as conn:
        assert foreign_keys(conn, "observation") == {}  # m025: nothing else stops a stray span
    return postgresql_engine


def test_forgetting_a_user_waits_for_the_writer_and_deletes_its_span(store):
    ds = _data(store, "default")
    pk = _span_added_while_deleting(store, ds, lambda: forget_user(store, "default", "ana"))
    assert _observations_of(store, pk) == 0
    with store.connect() as conn:
        assert reference_problems(conn, ds.org_id) == []


def test_forgetting_a_user_waits_for_a_writer_storing_a_run_of_theirs(store):
    """The writer's cached user and session ids stay valid until it commits (m026: no
    foreign key would refuse a trace of a deleted user)."""
    ds = _data(store, "default")

    def new_run(writer: Connection, _trace_pk: int) -> None:
        row = {k: v for k, v in ds.traces[0].items() if k != "id"}
        writer.execute(insert(Trace).values({**row, "trace_id": "new-run"}))

    _written_while_deleting(store, ds, lambda: forget_user(store, "default", "ana"), new_run)
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Trace)).scalar_one() == 0
        assert reference_problems(conn, ds.org_id) == []


def test_retention_waits_for_the_writer_and_deletes_its_span(store):
    ds = _data(store, "default")
    set_policy(store, "default", content_days=30, record_days=30)
    today = day_number(datetime(2026, 6, 1).date())
    pk = _span_added_while_deleting(store, ds, lambda: run_retention(store, "default", today=today))
    assert _observations_of(store, pk) == 0
    with store.connect() as conn:
        assert reference_problems(conn, ds.org_id) == []
        assert conn.execute(select(func.count()).select_from(Trace)).scalar_one() == 0


def test_deleting_an_organization_waits_for_the_writer_and_deletes_its_span(store):
    ds = _data(store, "acme")
    pk = _span_added_while_deleting(
        store, ds, lambda: delete_org(store, "acme", confirm="acme", actor="test")
    )
    assert _observations_of(store, pk) == 0
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Observation)).scalar_one() == 0


def test_rebuilding_the_rollups_waits_for_the_writer_and_counts_its_span(store, monkeypatch):
    """`rollups rebuild` recomputes from the base rows: a writer adding a span meanwhile
    would add its share to rows being recomputed (counted twice, or lost)."""
    ds = _data(store, "default")
    monkeypatch.setenv(DATABASE_URL_ENV, store.url.render_as_string(hide_password=False))
    _span_added_while_deleting(store, ds, lambda: cli_main(["rollups", "rebuild"]))
    with store.connect() as conn:
        assert rollup_drift(conn, ds.org_id) == []
