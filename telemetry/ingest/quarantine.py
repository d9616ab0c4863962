"""The quarantine of rejected records, and imported audit events, both without repeats.

Importing the same file again must not fill the tables twice: a rejection with
the same source, location, reason and raw text as one kept already is skipped,
and so is an audit event with the same time, actor, action and target.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert, select

from telemetry.ingest.bounds import clean_text
from telemetry.ingest.identities import one_of, rows_in
from telemetry.ingest.limits import clip
from telemetry.ingest.otlp import Rejection
from telemetry.models import AuditEvent, IngestError, Organization
from telemetry.timeutil import now_us

RAW_MAX_CHARS = 100_000


def quarantine(conn: Connection, org_id: int, source: str, rejections: Sequence[Rejection]) -> int:
    """Keep the rejected records with where they came from and why; return how many are new."""
    created = now_us()
    rows = {}
    for rejection in rejections:
        row = {
            "org_id": org_id,
            "created_us": created,
            "source": clean_text(source),
            "location": clean_text(clip(rejection.location, 256)),
            "reason": clean_text(rejection.reason),
            "raw": clean_text(clip(rejection.raw, RAW_MAX_CHARS)),
        }
        rows[(row["location"], row["reason"], row["raw"])] = row
    locations = sorted({location for location, _reason, _raw in rows})
    query = select(IngestError.location, IngestError.reason, IngestError.raw).where(
        IngestError.org_id == org_id,
        IngestError.source == source,
        one_of(IngestError.location),
    )
    for known in rows_in(conn, query, locations):
        rows.pop(tuple(known), None)
    if rows:
        conn.execute(insert(IngestError), list(rows.values()))
    return len(rows)


def store_audit_events(conn: Connection, org_id: int, audits: Sequence[dict[str, Any]]) -> int:
    """Insert audit rows (``ts_us``, ``day``, ``actor``, ``action``, ...) not stored yet."""
    keys = ("ts_us", "actor", "action", "target")
    stamps = sorted({audit["ts_us"] for audit in audits})
    query = select(AuditEvent.ts_us, AuditEvent.actor, AuditEvent.action, AuditEvent.target).where(
        AuditEvent.org_id == org_id, one_of(AuditEvent.ts_us)
    )
    known = {tuple(row) for row in rows_in(conn, query, stamps)}
    slug = conn.execute(select(Organization.slug).where(Organization.id == org_id)).scalar() or ""
    rows = {}
    for audit in audits:
        audit = {k: clean_text(v) if isinstance(v, str) else v for k, v in audit.items()}
        key = tuple(audit[k] for k in keys)
        if key not in known:
            rows[key] = {"org_id": org_id, "org_slug": slug, **audit}
    if rows:
        conn.execute(insert(AuditEvent), list(rows.values()))
    return len(rows)
