"""The "Audit log" module's report item: the period's audit events, before -> after in words.

A report carries its reader's scope in ``filters.teams``: an admin's report (no team
filter) lists every account's events of the organization and the dashboard's own; a
manager's lists only the events of the manager who generated it.
"""

from __future__ import annotations

from sqlalchemy import Engine

from telemetry.audit_log import AuditQuery, list_audit
from telemetry.reports import cells
from telemetry.reports.model import EXACT, Block, Fidelity, ItemSpec, ReportRequest

MODULE = "audit"
TITLE = "Audit log"
EVENT_LIMIT = 200


def events(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    filters = request.filters
    actor = None if filters.teams is None else request.generated_by
    found = list_audit(
        engine,
        AuditQuery(
            start_us=filters.start_us,
            end_us=filters.end_us,
            org=filters.org,
            actor=actor,
            limit=EVENT_LIMIT,
        ),
    )
    columns = {
        "when": ("When (UTC)", cells.timestamp),
        "who": ("Who", cells.text),
        "what": ("What", cells.text),
        "target": ("Target", cells.text),
        "changes": ("Details (before → after)", cells.text),
    }
    whose = "every account" if actor is None else "your own account"
    caption = f"Audit events of {whose}, newest first (the dashboard's own events included)."
    if found.truncated:
        caption += f" The newest {len(found.events):,} of {found.total:,}."
    return cells.table(found.events, columns, caption=caption), EXACT


ITEMS = (
    ItemSpec(
        key="audit.events",
        module=MODULE,
        title="Audit events",
        kind="table",
        build=events,
        description="Who changed what (before → after), logins, reports and exports.",
    ),
)
