"""Audit events written by ingestion's admin commands (API keys, prices, organizations)."""

from __future__ import annotations

import getpass
import json
from typing import Any

from sqlalchemy import Connection, insert

from telemetry.models import AuditEvent
from telemetry.timeutil import day_of_us, now_us


def current_actor(actor: str = "") -> str:
    """``actor`` when given, else the operating-system user running the command."""
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def record_audit(
    conn: Connection,
    org_id: int,
    action: str,
    *,
    actor: str = "",
    target: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    """Append one audit event inside the caller's transaction."""
    at = now_us()
    conn.execute(
        insert(AuditEvent).values(
            org_id=org_id,
            ts_us=at,
            day=day_of_us(at),
            actor=current_actor(actor)[:256],
            action=action,
            target=target[:512],
            details=json.dumps(details or {}, sort_keys=True, default=str),
        )
    )
