"""The dashboard's audit trail: who changed what, before -> after, in one tamper-evident chain.

Scopes: an event belongs to an organization (keys, prices, rules, budgets, reports,
exports, retention) or, with ``org_id`` NULL, to the dashboard itself (accounts,
logins, organizations, global settings); admins see the latter whatever
organization they look at.

Every event recorded here takes the next place (``seq``) in one global chain:
``hash = sha256(canonical JSON of seq, time, organization slug, actor, action,
target, details, previous hash)``. Appends update the one ``audit_chain`` row
first, which serializes them (a row lock on PostgreSQL, the write lock on
SQLite), so two replicas never fork the chain. Editing, deleting or reordering a
chained row, or cutting off the newest ones, breaks :func:`verify_chain`.

Audit records imported with telemetry (the agents' own ``audit`` records) and the
demo's generated trail are data, not the dashboard's trail: they are stored
unchained (``seq`` NULL) and are deleted with their organization's data.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from telemetry.models import AuditChain, AuditEvent, Organization
from telemetry.timeutil import day_of_us, now_us

SYSTEM = ""  # org_slug of events about the dashboard itself
_CHAIN_ROW = 1


def current_actor(actor: str = "") -> str:
    """``actor`` when given, else the operating-system user running the command."""
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, Any]:
    """Audit details of a change: ``{"before": {...}, "after": {...}}`` with only the fields
    that differ (all of them for a creation, before=None, or a deletion, after=None)."""
    if before is None or after is None:
        return {"before": dict(before) if before else None, "after": dict(after) if after else None}
    keys = [key for key in {**before, **after} if before.get(key) != after.get(key)]
    return {
        "before": {key: before.get(key) for key in keys},
        "after": {key: after.get(key) for key in keys},
    }


def record_audit(
    conn: Connection,
    org_id: int | None,
    action: str,
    *,
    actor: str = "",
    target: str = "",
    details: Mapping[str, Any] | None = None,
    at_us: int | None = None,
) -> None:
    """Append one event to the chain inside the caller's transaction.

    ``org_id`` None = an event about the dashboard itself. ``details`` is a small
    dict; a change should give ``changes(before, after)``.
    """
    at = now_us() if at_us is None else at_us
    slug = SYSTEM
    if org_id is not None:
        slug = conn.execute(select(Organization.slug).where(Organization.id == org_id)).scalar()
        slug = slug or SYSTEM
    row = {
        "org_id": org_id,
        "org_slug": slug,
        "ts_us": at,
        "day": day_of_us(at),
        "actor": current_actor(actor)[:256],
        "action": action[:64],
        "target": target[:512],
        "details": json.dumps(dict(details or {}), sort_keys=True, default=str),
    }
    append_chained(conn, [row])


def record_event(
    engine: Engine,
    org: str | None,
    action: str,
    *,
    actor: str = "",
    target: str = "",
    details: Mapping[str, Any] | None = None,
) -> None:
    """:func:`record_audit` in a transaction of its own, the organization given by slug."""
    with engine.begin() as conn:
        org_pk = None
        if org is not None:
            org_pk = conn.execute(select(Organization.id).where(Organization.slug == org)).scalar()
        record_audit(conn, org_pk, action, actor=actor, target=target, details=details)


def report_details(request: Any, via: str) -> dict[str, Any]:
    """What the trail keeps of a generated report (telemetry.reports ReportRequest)."""
    filters = request.filters
    return {
        "format": request.format.value,
        "items": len(request.items),
        "period": f"{filters.start} to {filters.end}",
        "teams": list(filters.teams) if filters.teams is not None else "all",
        "via": via,
    }


def append_chained(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Give ``rows`` (audit_event columns without chain fields) the next places in the
    chain and insert them, in the caller's transaction."""
    if not rows:
        return
    # The UPDATE comes first: it takes the lock that serializes appenders, and only then
    # is the head read (a concurrent appender waits here and then sees our new head).
    moved = conn.execute(
        update(AuditChain)
        .where(AuditChain.id == _CHAIN_ROW)
        .values(length=AuditChain.length + len(rows))
    ).rowcount
    if not moved:
        conn.execute(insert(AuditChain).values(id=_CHAIN_ROW, length=len(rows), last_hash=""))
    length, previous = conn.execute(
        select(AuditChain.length, AuditChain.last_hash).where(AuditChain.id == _CHAIN_ROW)
    ).one()
    seq = length - len(rows)
    chained = []
    for row in rows:
        seq += 1
        digest = event_hash(seq, row, previous)
        chained.append({**row, "seq": seq, "prev_hash": previous, "hash": digest})
        previous = digest
    conn.execute(insert(AuditEvent), chained)
    conn.execute(update(AuditChain).where(AuditChain.id == _CHAIN_ROW).values(last_hash=previous))


def event_hash(seq: int, row: Mapping[str, Any], previous: str) -> str:
    """The hash of one chained event: its content and the hash of the event before it."""
    content = [
        seq,
        int(row["ts_us"]),
        row.get("org_slug") or SYSTEM,
        row["actor"],
        row["action"],
        row["target"],
        row["details"],
        previous,
    ]
    text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- verification ------------------------------------------------------------------


@dataclass(frozen=True)
class ChainCheck:
    """The result of :func:`verify_chain`: intact, or where the first break is."""

    checked: int
    length: int
    broken_seq: int | None = None
    broken_id: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return not self.problem


_COLUMNS = (
    AuditEvent.id,
    AuditEvent.seq,
    AuditEvent.ts_us,
    AuditEvent.org_slug,
    AuditEvent.actor,
    AuditEvent.action,
    AuditEvent.target,
    AuditEvent.details,
    AuditEvent.prev_hash,
    AuditEvent.hash,
)


def verify_chain(engine: Engine, *, batch: int = 5000) -> ChainCheck:
    """Walk the chain in order and recompute every hash; report the first broken link."""
    with engine.connect() as conn:
        head = conn.execute(
            select(AuditChain.length, AuditChain.last_hash).where(AuditChain.id == _CHAIN_ROW)
        ).first()
        length, last_hash = (int(head[0]), head[1]) if head else (0, "")
        rows = conn.execution_options(yield_per=batch).execute(
            select(*_COLUMNS).where(AuditEvent.seq.is_not(None)).order_by(AuditEvent.seq)
        )
        return _walk(rows, length, last_hash)


def _walk(rows: Iterable, length: int, last_hash: str) -> ChainCheck:
    expected_seq, previous, checked = 1, "", 0
    for row in rows:
        problem = _link_problem(row, expected_seq, previous)
        if problem:
            # A missing event is named by its place; the event after the gap by its id.
            return ChainCheck(checked, length, min(row.seq, expected_seq), row.id, problem)
        checked += 1
        expected_seq, previous = row.seq + 1, row.hash
    if checked != length or previous != last_hash:
        return ChainCheck(
            checked,
            length,
            checked + 1,
            None,
            f"the chain head says {length} events ending in hash {last_hash[:12] or '-'}, "
            f"but the table holds {checked} ending in {previous[:12] or '-'}: the newest "
            "events were deleted, or the head was changed",
        )
    return ChainCheck(checked, length)


def _link_problem(row: Any, expected_seq: int, previous: str) -> str:
    if row.seq != expected_seq:
        return f"event {expected_seq} of the chain is missing (the next one is {row.seq})"
    if row.prev_hash != previous:
        return "its previous-hash does not match the event before it (an event was removed)"
    content = {
        "ts_us": row.ts_us,
        "org_slug": row.org_slug,
        "actor": row.actor,
        "action": row.action,
        "target": row.target,
        "details": row.details,
    }
    if event_hash(row.seq, content, previous) != row.hash:
        return "its content does not match its hash (the event was changed)"
    return ""


def chain_existing(conn: Connection) -> int:
    """Chain every unchained event in time order (the migration's one-off); return how many."""
    rows = conn.execute(
        select(
            AuditEvent.id,
            AuditEvent.ts_us,
            AuditEvent.org_slug,
            AuditEvent.actor,
            AuditEvent.action,
            AuditEvent.target,
            AuditEvent.details,
        )
        .where(AuditEvent.seq.is_(None))
        .order_by(AuditEvent.ts_us, AuditEvent.id)
    ).all()
    if not rows:
        return 0
    conn.execute(
        update(AuditChain)
        .where(AuditChain.id == _CHAIN_ROW)
        .values(length=AuditChain.length + len(rows))
    )
    length, previous = conn.execute(
        select(AuditChain.length, AuditChain.last_hash).where(AuditChain.id == _CHAIN_ROW)
    ).one()
    seq = length - len(rows)
    links = []
    for row in rows:
        seq += 1
        digest = event_hash(seq, row._mapping, previous)
        links.append({"b_id": row.id, "b_seq": seq, "b_prev": previous, "b_hash": digest})
        previous = digest
    conn.execute(
        update(AuditEvent)
        .where(AuditEvent.id == bindparam("b_id"))
        .values(seq=bindparam("b_seq"), prev_hash=bindparam("b_prev"), hash=bindparam("b_hash")),
        links,
    )
    conn.execute(update(AuditChain).where(AuditChain.id == _CHAIN_ROW).values(last_hash=previous))
    return len(rows)
