"""The audit trail's blocks on Analytics' Audit tab: page-only (the report's audit item is the
Audit log page's block, telemetry/blocks/audit_log.py).

Audit events are about dashboard accounts, not telemetry, and who may read which
depends on the viewer: the page passes ``actor`` (``None`` for an admin, else the
manager's own username) as a query option.
"""

from __future__ import annotations

from telemetry import format as fmt
from telemetry.blocks.formats import COUNT, DATETIME
from telemetry.blocks.model import BlockSpec, Column


def _whose(actor: str | None) -> str:
    return "every dashboard account" if actor is None else "your own account"


ACCOUNTS = BlockSpec(
    "analytics.audit_accounts",
    "Dashboard accounts",
    "table",
    "Logins and days active per dashboard account.",
    query="audit_accounts",
    caption=lambda source, frame: (
        f"Logins and other recorded actions per account in {fmt.day_span(source.filters)} "
        "(UTC). Days active = distinct UTC days with at least one event."
    ),
    columns=(
        Column("account", "Account", key=True),
        Column("logins", "Logins", COUNT, key=True),
        Column("failed_logins", "Failed logins", COUNT, key=True),
        Column("days_active", "Days active", COUNT),
        Column("events", "Events", COUNT),
        Column("last_seen", "Last seen (UTC)", DATETIME),
    ),
)
EVENTS = BlockSpec(
    "analytics.audit_events",
    "Audit events",
    "table",
    "The period's audit events, newest first.",
    query="audit_events",
    caption=lambda source, found: (
        "Audit events, newest first"
        + (f" (the newest {len(found.events):,} of {found.total:,})" if found.truncated else "")
        + ": who, what, on what (a user's name where the target is a user id), when (UTC), "
        "details."
    ),
    columns=(
        Column("when", "When (UTC)", DATETIME),
        Column("who", "Who", key=True),
        Column("what", "What", key=True),
        Column("target_name", "Target", key=True, help="A user's name where the target is a user."),
        Column("details", "Details", width="large"),
        Column("target", "Target id"),
    ),
    rows=lambda found: found.events,
)
