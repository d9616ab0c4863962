"""The Audit log page's events table, which is also the report's "audit.events" item.

Who reads what: an admin every account's events of the organization and the
dashboard's own; a manager only their own (telemetry.audit_log). In a report the
reader is the source's account (a manager's report: the manager who made it).
"""

from __future__ import annotations

from telemetry.audit_log import AuditListing, AuditQuery, list_audit
from telemetry.blocks.formats import COUNT, DATETIME_SECONDS
from telemetry.blocks.model import BlockSpec, Column, Source

TITLE = "Audit log"
EVENT_LIMIT = 200  # in a report; the page lists up to telemetry.audit_log.DEFAULT_LIMIT


def _events(source: Source) -> AuditListing:
    filters, account = source.filters, source.account
    actor = None if account is None or account.is_admin else account.username
    query = AuditQuery(
        start_us=filters.start_us,
        end_us=filters.end_us,
        org=filters.org,
        actor=actor,
        limit=EVENT_LIMIT,
    )
    return list_audit(source.engine, query)


def _caption(source: Source, found: AuditListing) -> str:
    more = f" (the newest {len(found.events):,} of {found.total:,})" if found.truncated else ""
    return (
        f"{found.total:,} audit events, newest first{more}, the dashboard's own events included. "
        "Times in UTC."
    )


EVENTS = BlockSpec(
    "audit.events",
    "Audit events",
    "table",
    "Who changed what (before → after), logins, reports and exports.",
    query=_events,
    caption=_caption,
    columns=(
        Column("when", "When (UTC)", DATETIME_SECONDS),
        Column("who", "Who", key=True),
        Column("what", "What", key=True),
        Column("target", "Target", key=True),
        Column("changes", "Details (before → after)", width="large"),
        Column("kind", "Kind"),
        Column("organization", "Organization"),
        Column("seq", "Chain #", COUNT),
    ),
    rows=lambda found: found.events,
)
BLOCKS = (EVENTS,)
