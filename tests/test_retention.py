"""Retention: policy checks, dry run equal to the run, rollups kept and `rollups check` clean.

The store holds two years of demo data (two traces a day); expected counts are
computed in plain Python over the base rows read before the purge.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from telemetry.cli import main as cli_main
from telemetry.demo import generate_demo
from telemetry.models import AuditEvent, LlmDaily, Observation, Score, Session, Trace, TraceDaily
from telemetry.retention import get_policy, records_horizon, run_retention, set_policy
from telemetry.rollups import rebuild_rollups, rollup_drift
from telemetry.store import data_version, org_id
from telemetry.timeutil import day_number, month_of_us
from tests.factories import Dataset

END = date(2026, 6, 30)
TODAY = day_number(END)


@pytest.fixture
def two_years(engine):
    generate_demo(engine, days=730, traces=1460, end=END, seed=5)
    with engine.connect() as conn:
        org = org_id(conn, "demo")
    return engine, org


def _monthly_totals(conn, org) -> dict:
    """Per month of the rollups: traces, cost and LLM tokens (what billing and trends read)."""
    totals: dict = defaultdict(lambda: [0, 0.0, 0])
    for day, traces, cost in conn.execute(
        select(TraceDaily.day, TraceDaily.traces, TraceDaily.cost_usd).where(
            TraceDaily.org_id == org
        )
    ):
        month = month_of_us(day * 86_400_000_000)
        totals[month][0] += traces
        totals[month][1] += cost
    for day, tokens in conn.execute(
        select(LlmDaily.day, LlmDaily.input_tokens + LlmDaily.output_tokens).where(
            LlmDaily.org_id == org
        )
    ):
        totals[month_of_us(day * 86_400_000_000)][2] += tokens
    return {month: (n, round(cost, 6), tokens) for month, (n, cost, tokens) in totals.items()}


def _expected(conn, org, records: int, content: int) -> dict:
    """What the policy should remove, in Python over the rows as stored."""
    spans = conn.execute(
        select(
            Observation.trace_pk,
            Observation.start_day,
            Observation.input_content,
            Observation.output_content,
            Observation.events,
        ).where(Observation.org_id == org)
    ).all()
    latest: dict[int, int] = {}
    for trace_pk, day, *_ in spans:
        latest[trace_pk] = max(latest.get(trace_pk, day), day)
    traces = conn.execute(
        select(Trace.id, Trace.start_day, Trace.session_id).where(Trace.org_id == org)
    ).all()
    doomed = {pk for pk, day, _s in traces if day < records and latest.get(pk, day) < records}
    kept_sessions = {s for pk, _d, s in traces if pk not in doomed}
    scores = conn.execute(select(Score.trace_pk, Score.time_us).where(Score.org_id == org)).all()
    sessions = conn.execute(
        select(Session.id, Session.created_us).where(Session.org_id == org)
    ).all()
    return {
        "traces": len(doomed),
        "spans": sum(1 for pk, *_ in spans if pk in doomed),
        "sessions": sum(
            1
            for sid, created in sessions
            if sid not in kept_sessions and created < records * 86_400_000_000
        ),
        "ingest_errors": 0,
        # Scores go with their trace; one whose trace never came goes by its own time.
        "scores": sum(
            1 for pk, at in scores if pk in doomed or (pk is None and at < records * 86_400_000_000)
        ),
        "spans_content_cleared": sum(
            1
            for pk, day, given, answer, events in spans
            if pk not in doomed and day < content and (given or answer or events != "[]")
        ),
    }


def test_purge_keeps_rollups_and_check_clean(two_years):
    engine, org = two_years
    set_policy(engine, "demo", content_days=90, record_days=365)
    with engine.connect() as conn:
        months_before = _monthly_totals(conn, org)
        expected = _expected(conn, org, TODAY - 365, TODAY - 90)
        traces_before = conn.execute(select(func.count()).select_from(Trace)).scalar()
    assert expected["traces"] > 300 and expected["spans_content_cleared"] > 0
    assert expected["scores"] > 0

    (dry,) = run_retention(engine, "demo", dry_run=True, today=TODAY)
    with engine.connect() as conn:  # a dry run deletes nothing
        assert conn.execute(select(func.count()).select_from(Trace)).scalar() == traces_before
    assert dry.counts == expected

    (done,) = run_retention(engine, "demo", today=TODAY, batch_rows=97)
    assert done.counts == dry.counts
    assert done.records_horizon == "2025-06-30"
    with engine.connect() as conn:
        assert rollup_drift(conn, org) == []
        assert _monthly_totals(conn, org) == months_before
        assert records_horizon(conn, org) == TODAY - 365
        # The purged days still have rollups (which a check over every day would flag).
        purged_rows = select(func.count()).where(
            TraceDaily.org_id == org, TraceDaily.day < TODAY - 365
        )
        assert conn.execute(purged_rows).scalar() > 0
        old_content = select(func.count()).where(
            Observation.org_id == org,
            Observation.start_day < TODAY - 90,
            Observation.input_content != "",
        )
        assert conn.execute(old_content).scalar() == 0
        audit = conn.execute(
            select(AuditEvent.details).where(AuditEvent.action == "retention.run")
        ).scalar_one()
    assert json.loads(audit)["counts"] == done.counts

    # A rebuild (or any refresh) leaves the purged days' rollups alone.
    with engine.begin() as conn:
        rebuild_rollups(conn, org)
    with engine.connect() as conn:
        assert _monthly_totals(conn, org) == months_before
        assert rollup_drift(conn, org) == []
    again = run_retention(engine, "demo", dry_run=True, today=TODAY)[0]
    assert set(again.counts.values()) == {0}


def test_a_longer_policy_does_not_move_the_horizon_back(sqlite_engine):
    generate_demo(sqlite_engine, days=60, traces=120, end=END)
    set_policy(sqlite_engine, "demo", content_days=10, record_days=20)
    run_retention(sqlite_engine, "demo", today=TODAY)
    set_policy(sqlite_engine, "demo", content_days=None, record_days=None)
    set_policy(sqlite_engine, "demo", content_days=40, record_days=50)
    (result,) = run_retention(sqlite_engine, "demo", today=TODAY)
    assert result.records_horizon == date(2026, 6, 10).isoformat()
    with sqlite_engine.connect() as conn:
        assert rollup_drift(conn, org_id(conn, "demo")) == []


@pytest.mark.parametrize(
    ("content", "records", "message"),
    [
        (-1, 30, "at least 1"),
        (10, -5, "at least 1"),
        (0, None, "at least 1"),
        (60, 30, "longer than the records"),
        (None, 30, "longer than the records"),
    ],
)
def test_invalid_policy_is_refused_and_nothing_stored(sqlite_engine, content, records, message):
    set_policy(sqlite_engine, "default", content_days=7, record_days=30)
    with pytest.raises(ValueError, match=message):
        set_policy(sqlite_engine, "default", content_days=content, record_days=records)
    with sqlite_engine.connect() as conn:
        policy = get_policy(conn, org_id(conn, "default"))
    assert (policy.content_days, policy.record_days) == (7, 30)


def test_cli_set_and_dry_run(sqlite_engine, monkeypatch, capsys):
    monkeypatch.setenv("TELEMETRY_DATABASE_URL", str(sqlite_engine.url))
    assert cli_main(["retention", "set", "--org", "default", "--record-days", "abc"]) == 2
    assert "not a number of days" in capsys.readouterr().err
    assert cli_main(["retention", "set", "--content-days", "40", "--record-days", "30"]) == 2
    assert "longer than the records" in capsys.readouterr().err
    assert cli_main(["retention", "set", "--content-days", "7", "--record-days", "30"]) == 0
    capsys.readouterr()
    assert cli_main(["retention", "run", "--dry-run", "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert result["org"] == "default" and result["dry_run"] is True
    assert set(result["counts"].values()) == {0}


def test_cli_run_waits_for_no_other_pass_on_postgresql(postgresql_engine, monkeypatch, capsys):
    """A CLI pass and a server's daily pass never delete at once (they could deadlock on
    PostgreSQL; SQLite's writers take turns anyway)."""
    from telemetry.jobs import job_lock

    engine = postgresql_engine
    monkeypatch.setenv("TELEMETRY_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    set_policy(engine, "default", content_days=7, record_days=30)
    with job_lock(engine, "retention") as got:  # as the server's job holds it while it runs
        assert got
        assert cli_main(["retention", "run"]) == 1
        assert "retention is running in another process" in capsys.readouterr().err
        assert cli_main(["retention", "run", "--dry-run"]) == 0  # reads only: no lock
    assert cli_main(["retention", "run"]) == 0
    assert "default: deleted" in capsys.readouterr().out


def test_the_server_runs_retention_daily_as_a_job(sqlite_engine):
    from telemetry.jobs import run_tick
    from telemetry.server import server_jobs

    (job,) = [job for job in server_jobs() if job.name == "retention"]
    assert job.every_s == 24 * 60 * 60
    generate_demo(sqlite_engine, days=30, traces=60)
    set_policy(sqlite_engine, "demo", content_days=5, record_days=10)
    assert run_tick(sqlite_engine, job, job.tick_of(10**16)) is True
    assert run_tick(sqlite_engine, job, job.tick_of(10**16)) is False  # that tick is taken
    with sqlite_engine.connect() as conn:
        org = org_id(conn, "demo")
        assert get_policy(conn, org).records_purged_before_day is not None
        assert rollup_drift(conn, org) == []


def test_rollups_check_command_is_clean_after_a_purge(sqlite_engine, monkeypatch, capsys):
    generate_demo(sqlite_engine, days=40, traces=80, end=END)
    set_policy(sqlite_engine, "demo", content_days=10, record_days=20)
    run_retention(sqlite_engine, "demo", today=TODAY)
    monkeypatch.setenv("TELEMETRY_DATABASE_URL", str(sqlite_engine.url))
    assert cli_main(["rollups", "check", "--org", "demo"]) == 0
    out = capsys.readouterr().out
    assert "days before 2026-06-10 were purged by retention" in out
    assert "rollups match" in out


def test_a_run_with_nothing_to_purge_takes_the_organizations_lock_once(engine):
    """Each batch of deletes takes the writers' lock (and spends a data version, which
    empties the writers' cached ids); a pass that finds nothing takes it once, to store
    its horizons, however many days it looked at."""
    Dataset(engine).trace("fresh", start=datetime(2026, 5, 30, 9))
    set_policy(engine, "default", content_days=30, record_days=60)
    before = data_version(engine, "default")
    (done,) = run_retention(engine, "default", today=day_number(date(2026, 6, 1)))
    assert done.counts.get("traces", 0) == 0 and done.counts.get("spans_content_cleared", 0) == 0
    assert data_version(engine, "default") == before + 1
