"""Forget one end user: delete their telemetry and directory entry, recompute the rollups.

Everything goes in one transaction, so a failure leaves nothing half-erased:
their traces with all spans, the spans of theirs in other traces, their sessions
(a session someone else's trace still uses only loses its owner), the rows of
any other table pointing at them, quarantined records naming them, and their
directory entry. The rollups of the days they touched are recomputed from what
is left (their totals go). Before the records horizon, where retention already
removed the base rows, their per-user rollup rows are deleted; the rollups
without a user column (commands, hours) keep their anonymous totals. The audit
receipt holds counts only, no name, id or e-mail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from sqlalchemy import Connection, Engine, Table, delete, func, or_, select, update
from sqlmodel import SQLModel

from telemetry.ingest.audit import record_audit
from telemetry.models import IngestError, Observation, Score, Session, Trace, TraceQuality, User
from telemetry.retention import records_horizon
from telemetry.rollup_tables import ROLLUPS
from telemetry.rollups import refresh_rollups
from telemetry.store import bump_data_version, org_id

_CHUNK = 500  # ids per IN (...) list: under SQLite's bound-parameter limit
_HANDLED = {"trace", "observation", "session", "end_user", "ingest_error", "score", "trace_quality"}


@dataclass
class ForgetReceipt:
    """What was deleted for one person: counts only."""

    org: str
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def find_user(conn: Connection, org: int, who: str) -> User:
    """The directory entry whose external id is ``who``, or whose e-mail is (any case)."""
    who = who.strip()
    if not who:
        raise ValueError("give the user's id (user.id in the telemetry) or e-mail address")
    found = conn.execute(select(User).where(User.org_id == org, User.external_id == who)).all()
    if not found and "@" in who:
        found = conn.execute(
            select(User).where(User.org_id == org, func.lower(User.email) == who.lower())
        ).all()
    if not found:
        raise LookupError(f"no user {who!r} in this organization (looked at user ids and e-mails)")
    if len(found) > 1:
        raise LookupError(
            f"{len(found)} users have the e-mail {who!r}; forget them one by one by user id"
        )
    return found[0]  # a row: .id, .external_id, .email


def forget_user(engine: Engine, slug: str, who: str, *, actor: str = "") -> ForgetReceipt:
    """Delete everything of the end user ``who`` (id or e-mail) in organization ``slug``."""
    receipt = ForgetReceipt(slug)
    with engine.begin() as conn:
        org = org_id(conn, slug)
        user = find_user(conn, org, who)
        bump_data_version(conn, org)  # first: writers wait (see bump_data_version)
        receipt.counts = _erase(conn, org, user)
        record_audit(
            conn, org, "user.erased", actor=actor, target=slug, details={"counts": receipt.counts}
        )
    return receipt


def _erase(conn: Connection, org: int, user: User) -> dict[str, int]:
    uid = user.id
    counts: dict[str, int] = {}
    traces = list(
        conn.execute(select(Trace.id).where(Trace.org_id == org, Trace.user_id == uid)).scalars()
    )
    days = _days(conn, org, uid, traces)
    sessions = _sessions(conn, org, uid, traces)
    counts["spans"] = _delete_ids(conn, Observation, Observation.trace_pk, traces)
    counts["spans"] += conn.execute(
        delete(Observation).where(Observation.org_id == org, Observation.user_id == uid)
    ).rowcount
    counts["scores"] = _delete_scores(conn, org, traces)
    counts["traces"] = _delete_ids(conn, Trace, Trace.id, traces)
    counts["sessions"] = _drop_sessions(conn, org, uid, sessions)
    counts["other_rows"] = _delete_references(conn, uid, traces, sessions)
    counts["ingest_errors"] = _delete_mentions(conn, org, user)
    counts["rollup_rows_before_horizon"] = _purged_rollups(conn, org, uid, sessions)
    counts["directory_entries"] = conn.execute(delete(User).where(User.id == uid)).rowcount
    refresh_rollups(conn, org, days)
    return counts


def _days(conn: Connection, org: int, uid: int, traces: Sequence[int]) -> set[int]:
    """Every day a row of theirs counts in: their traces' and spans' days."""
    days = set()
    for table in (Trace, Observation):
        query = select(table.start_day).where(table.org_id == org, table.user_id == uid)
        days.update(conn.execute(query.distinct()).scalars())
    for part in _chunks(traces):
        query = select(Observation.start_day).where(Observation.trace_pk.in_(part))
        days.update(conn.execute(query.distinct()).scalars())
    return days


def _sessions(conn: Connection, org: int, uid: int, traces: Sequence[int]) -> set[int]:
    found = set(
        conn.execute(select(Session.id).where(Session.org_id == org, Session.user_id == uid))
        .scalars()
        .all()
    )
    for part in _chunks(traces):
        query = select(Trace.session_id).where(Trace.id.in_(part), Trace.session_id.is_not(None))
        found.update(conn.execute(query.distinct()).scalars())
    return found


def _drop_sessions(conn: Connection, org: int, uid: int, sessions: set[int]) -> int:
    """Delete their sessions no other trace uses; others' sessions lose them as owner."""
    deleted = 0
    for part in _chunks(sorted(sessions)):
        used = set(
            conn.execute(
                select(Trace.session_id).where(Trace.org_id == org, Trace.session_id.in_(part))
            ).scalars()
        )
        unused = [session for session in part if session not in used]
        if unused:
            conn.execute(
                update(Observation)
                .where(Observation.session_id.in_(unused))
                .values(session_id=None)
            )
            deleted += conn.execute(delete(Session).where(Session.id.in_(unused))).rowcount
    conn.execute(
        update(Session).where(Session.org_id == org, Session.user_id == uid).values(user_id=None)
    )
    return deleted


def _delete_references(conn: Connection, uid: int, traces: list[int], sessions: set[int]) -> int:
    """Rows of other tables that point at them or their data by a foreign key."""
    targets = {"end_user": [uid], "trace": traces, "session": sorted(sessions)}
    deleted = 0
    for table in SQLModel.metadata.sorted_tables:
        if table.name in _HANDLED:
            continue
        for key in table.foreign_keys:
            ids = targets.get(key.column.table.name)
            if ids and key.column.name == "id":
                deleted += _delete_ids(conn, table, key.parent, ids)
    return deleted


def _delete_scores(conn: Connection, org: int, traces: list[int]) -> int:
    """Scores of their traces (comments may quote them) and those traces' latest verdicts."""
    deleted = 0
    for part in _chunks(traces):
        keys = select(Trace.trace_id).where(Trace.id.in_(part))
        conn.execute(
            delete(TraceQuality).where(TraceQuality.org_id == org, TraceQuality.trace_id.in_(keys))
        )
        deleted += conn.execute(delete(Score).where(Score.trace_pk.in_(part))).rowcount
    return deleted


def _delete_mentions(conn: Connection, org: int, user: User) -> int:
    """Quarantined records whose text names them (their raw JSON may hold their id)."""
    needles = [user.external_id, user.email] if user.email else [user.external_id]
    mentions = or_(*(IngestError.raw.contains(n) | IngestError.reason.contains(n) for n in needles))
    return conn.execute(delete(IngestError).where(IngestError.org_id == org, mentions)).rowcount


def _purged_rollups(conn: Connection, org: int, uid: int, sessions: set[int]) -> int:
    """Before the records horizon no base rows are left to recompute from: drop their rows."""
    horizon = records_horizon(conn, org)
    if horizon is None:
        return 0
    deleted = 0
    for rollup in ROLLUPS:
        table: Table = rollup.table
        before = (table.c.org_id == org) & (table.c.day < horizon)
        if "user_id" in table.c:
            deleted += conn.execute(delete(table).where(before, table.c.user_id == uid)).rowcount
        elif "session_id" in table.c:
            for part in _chunks(sorted(sessions)):
                deleted += conn.execute(
                    delete(table).where(before, table.c.session_id.in_(part))
                ).rowcount
    return deleted


def _delete_ids(conn: Connection, table, column, ids: Sequence[int]) -> int:
    deleted = 0
    for part in _chunks(list(ids)):
        deleted += conn.execute(delete(table).where(column.in_(part))).rowcount
    return deleted


def _chunks(ids: Sequence[int]):
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]
