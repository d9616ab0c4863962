"""Generate (or remove) the demo organization: a deterministic, realistic store.

Same seed, end day and size give the same rows: every time in them comes from
the simulated timeline, never the clock. Traces are produced in start order,
each derived with :func:`telemetry.derive.summarize_trace` and priced with the
:class:`~telemetry.pricing.Pricer`, exactly as ingestion would store them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Engine, bindparam, select, update

from telemetry.demo.audit import audit_events
from telemetry.demo.catalog import DEMO_ORG, DEMO_ORG_NAME, TEAMS
from telemetry.demo.people import DemoUser, demo_users
from telemetry.demo.scores import add_demo_scores
from telemetry.demo.storage import (
    bulk_connection,
    delete_org_rows,
    hold_write_lock,
    insert_rows,
    reserve_ids,
)
from telemetry.demo.stream import (
    OBSERVATION_COLUMNS,
    SESSION_COLUMNS,
    TRACE_COLUMNS,
    Batch,
)
from telemetry.demo.worker import trace_batches
from telemetry.models import (
    AuditEvent,
    ModelPrice,
    Observation,
    Organization,
    Session,
    Team,
    Trace,
    User,
)
from telemetry.rollups import rebuild_rollups
from telemetry.store import bump_data_version
from telemetry.timeutil import US_PER_DAY, US_PER_HOUR, day_number, day_of_number
from telemetry.timeutil import now_us as current_us

TRACES_PER_DAY = 300  # default size: 90 days -> 27,000 traces, a quick first start
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class DemoSummary:
    org: str
    first_day: date
    last_day: date
    teams: int
    users: int
    sessions: int
    traces: int
    observations: int
    audit_events: int
    scores: int = 0


def is_demo_org(slug: str) -> bool:
    """True for the organization that holds generated demo data."""
    return slug == DEMO_ORG


def generate_demo(
    engine: Engine,
    *,
    days: int = 90,
    seed: int = 7,
    traces: int | None = None,
    end: date | None = None,
    progress: Progress | None = None,
    now_us: int | None = None,
) -> DemoSummary:
    """Replace the demo organization's content with ``traces`` traces over ``days`` days.

    ``end`` is the last day of the period (UTC, inclusive; default today). Nothing
    starts after ``now_us`` (default: the current time), so a period ending today
    ends now. Other organizations are never touched. ``progress(done, total)`` is
    called per batch.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1 (got {days})")
    total = days * TRACES_PER_DAY if traces is None else traces
    if total < 1:
        raise ValueError(f"traces must be at least 1 (got {total})")
    now = current_us() if now_us is None else now_us
    last_day = day_number(end or day_of_number(now // US_PER_DAY))
    first_day = last_day - days + 1
    until_us = min((last_day + 1) * US_PER_DAY, now)
    if until_us <= first_day * US_PER_DAY + US_PER_HOUR:
        raise ValueError(
            f"the period {day_of_number(first_day)} to {day_of_number(last_day)} has not "
            "begun yet (or began less than an hour ago): end it on an earlier day"
        )
    users = demo_users(seed, first_day, days, until_us)
    rng = random.Random(f"{seed}:audit")
    events, price = audit_events(rng, first_day, days, users, until_us)

    with bulk_connection(engine) as conn:
        org = _reset_org(conn, created_us=min(u.created_us for u in users) - 7 * US_PER_DAY)
        _insert_people(conn, org, users)
        writer = _Writer(conn, org, total, progress)
        user_ids = {u.external_id: (u.id, u.team_id) for u in users}
        for batch in trace_batches(org, seed, first_day, days, total, user_ids, until_us):
            writer.write(batch)
        with conn.begin():
            _record_trace_span(conn, writer.trace_span)
            conn.execute(
                AuditEvent.__table__.insert(),
                [{"org_id": org, "org_slug": DEMO_ORG, **e} for e in events],
            )
            conn.execute(ModelPrice.__table__.insert(), [{"org_id": org, **price}])
            scores = add_demo_scores(conn, org, seed, now_us=now)
            # One full rebuild is cheaper than refreshing the days of every batch.
            rebuild_rollups(conn, org)
            bump_data_version(conn, org)
    return DemoSummary(
        org=DEMO_ORG,
        first_day=day_of_number(first_day),
        last_day=day_of_number(last_day),
        teams=len(TEAMS),
        users=len(users),
        sessions=writer.sessions,
        traces=writer.traces,
        observations=writer.observations,
        audit_events=len(events),
        scores=scores,
    )


def remove_demo(engine: Engine) -> int:
    """Delete the demo organization and every row belonging to it; return rows removed."""
    with bulk_connection(engine) as conn, conn.begin():
        org = conn.execute(select(Organization.id).where(Organization.slug == DEMO_ORG)).scalar()
        return 0 if org is None else delete_org_rows(conn, org, drop_org=True)


def _reset_org(conn: Connection, *, created_us: int) -> int:
    """The demo organization's id, emptied of any previous content."""
    with conn.begin():
        org = conn.execute(select(Organization.id).where(Organization.slug == DEMO_ORG)).scalar()
        values = {"name": DEMO_ORG_NAME, "created_us": created_us}
        if org is None:
            org = conn.execute(
                Organization.__table__.insert().values(slug=DEMO_ORG, **values)
            ).inserted_primary_key[0]
        else:
            conn.execute(update(Organization).where(Organization.id == org).values(**values))
            delete_org_rows(conn, org, drop_org=False)
    return org


def _insert_people(conn: Connection, org: int, users: list[DemoUser]) -> None:
    with conn.begin():
        conn.execute(Team.__table__.insert(), [{"org_id": org, "name": t.name} for t in TEAMS])
        team_ids = dict(conn.execute(select(Team.name, Team.id).where(Team.org_id == org)).all())
        rows = []
        for user in users:
            user.team_id = team_ids[user.team.name]
            rows.append(
                {
                    "org_id": org,
                    "external_id": user.external_id,
                    "name": user.name,
                    "email": user.email,
                    "company": user.company,
                    "team_id": user.team_id,
                    "status": user.status,
                    "created_us": user.created_us,
                }
            )
        conn.execute(User.__table__.insert(), rows)
        user_ids = dict(
            conn.execute(select(User.external_id, User.id).where(User.org_id == org)).all()
        )
    for user in users:
        user.id = user_ids[user.external_id]


def _record_trace_span(conn: Connection, trace_span: dict[int, list[int]]) -> None:
    """Store each user's first and last trace start, as seen while writing."""
    rows = [
        {"user_pk": user, "first": first, "last": last}
        for user, (first, last) in sorted(trace_span.items())
    ]
    if rows:
        statement = (
            update(User.__table__)
            .where(User.__table__.c.id == bindparam("user_pk"))
            .values(first_trace_us=bindparam("first"), last_trace_us=bindparam("last"))
        )
        conn.execute(statement, rows)


_TRACE_ID = TRACE_COLUMNS.index("id")
_TRACE_SESSION = TRACE_COLUMNS.index("session_id")
_TRACE_USER = TRACE_COLUMNS.index("user_id")
_TRACE_START = TRACE_COLUMNS.index("start_us")
_OBSERVATION_TRACE = OBSERVATION_COLUMNS.index("trace_pk")
_OBSERVATION_SESSION = OBSERVATION_COLUMNS.index("session_id")


class _Writer:
    """Writes batches, one transaction each, swapping local references for database ids."""

    def __init__(self, conn: Connection, org: int, total: int, progress: Progress | None) -> None:
        self.conn, self.org, self.total, self.progress = conn, org, total, progress
        self.session_ids: list[int | None] = [None]  # local number (from 1) -> database id
        self.trace_span: dict[int, list[int]] = {}  # user id -> [first, last] trace start
        self.sessions = self.traces = self.observations = 0

    def write(self, batch: Batch) -> None:
        conn = self.conn
        with conn.begin():
            hold_write_lock(conn, self.org)
            self.session_ids.extend(reserve_ids(conn, Session.__table__, len(batch.sessions)))
            trace_ids = reserve_ids(conn, Trace.__table__, len(batch.traces))
            sessions = self.session_ids
            for row in batch.sessions:
                row[0] = sessions[row[0]]
            for row in batch.traces:
                row[_TRACE_ID] = trace_ids[row[_TRACE_ID] - batch.first_trace]
                row[_TRACE_SESSION] = sessions[row[_TRACE_SESSION]]
                self._saw(row[_TRACE_USER], row[_TRACE_START])
            for row in batch.observations:
                row[_OBSERVATION_TRACE] = trace_ids[row[_OBSERVATION_TRACE] - batch.first_trace]
                row[_OBSERVATION_SESSION] = sessions[row[_OBSERVATION_SESSION]]
            insert_rows(conn, Session.__table__, SESSION_COLUMNS, batch.sessions)
            insert_rows(conn, Trace.__table__, TRACE_COLUMNS, batch.traces)
            insert_rows(conn, Observation.__table__, OBSERVATION_COLUMNS, batch.observations)
        self.sessions += len(batch.sessions)
        self.traces += len(batch.traces)
        self.observations += len(batch.observations)
        if self.progress:
            self.progress(self.traces, self.total)

    def _saw(self, user: int, start_us: int) -> None:
        span = self.trace_span.get(user)
        if span is None:
            self.trace_span[user] = [start_us, start_us]
        elif start_us < span[0]:
            span[0] = start_us
        elif start_us > span[1]:
            span[1] = start_us
