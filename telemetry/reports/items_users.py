"""The Users module's report items: header figures, daily activity and the users table."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Engine

from telemetry import format as fmt
from telemetry import queries
from telemetry.charts.base import activity_chart
from telemetry.filters import Grouping
from telemetry.reports import cells, shared
from telemetry.reports.items_common import capped_table
from telemetry.reports.model import (
    EXACT,
    Block,
    ChartBlock,
    Fidelity,
    ItemSpec,
    KpiBlock,
    ReportRequest,
)

MODULE = "users"
TITLE = "Users"
# A report lists at most this many users (the costliest first) and says "N of M".
USERS_LISTED = 200


def header(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    found = shared.query(queries.users_header, engine, request.filters)
    per_user = (
        fmt.MISSING if found.traces_per_user is None else cells.decimal(found.traces_per_user)
    )
    lines = (
        cells.line("Unique users", fmt.count(found.users_active), "Distinct users with a trace."),
        cells.line(
            "New users", fmt.count(found.users_new), "Users whose first trace ever is here."
        ),
        cells.line(
            "Traces with a user id",
            fmt.percent(found.user_share),
            f"{found.traces_with_user:,} of {found.traces:,} traces carry a user id.",
        ),
        cells.line("Traces per user", per_user, "Traces that carry a user id ÷ unique users."),
    )
    return KpiBlock(lines), EXACT


def activity(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    """Traces and active users per UTC day (the Users page's histogram is per day)."""
    daily = replace(request.filters, grouping=Grouping.DAY)
    timeline = shared.query(queries.activity_timeline, engine, daily)
    caption = "Traces (bars) and active users (line) per UTC day."
    return ChartBlock(activity_chart(timeline, Grouping.DAY).to_dict(), caption), EXACT


USER_COLUMNS = {
    "external_id": ("User id", cells.text),
    "name": ("Name", cells.text),
    "email": ("Email", cells.text),
    "company": ("Company", cells.text),
    "team": ("Team", cells.text),
    "status": ("Status", cells.text),
    "first_seen": ("First seen", cells.timestamp),
    "last_seen": ("Last seen", cells.timestamp),
    "traces": ("Traces", cells.count),
    "sessions": ("Sessions", cells.count),
    "errored_sessions": ("Errored sessions", cells.count),
    "errored_session_rate": ("Errored session rate", cells.percent),
    "tokens": ("Tokens", cells.count),
    "active_days": ("Active days", cells.count),
    "cost_usd": ("Cost (USD)", cells.dollars),
    "priced_share": ("Priced share", cells.percent),
}


def table(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    """The costliest users of the period (at most :data:`USERS_LISTED`), with their snapshot."""
    found = shared.query(queries.user_table, engine, request.filters, limit=USERS_LISTED)
    caption = (
        "Users with telemetry in the period and the directory users of the selected teams, "
        "costliest first; first/last seen = earliest/latest trace start (UTC)."
    )
    block = capped_table(found, USER_COLUMNS, caption, "users")
    return block, cells.environment_fidelity(request.filters, "Users without telemetry")


ITEMS = (
    ItemSpec(
        "users.header",
        MODULE,
        "Users at a glance",
        "kpis",
        header,
        "Unique and new users, share of traces with a user id, traces per user.",
    ),
    ItemSpec("users.activity", MODULE, "Daily activity", "chart", activity, "Traces per UTC day."),
    ItemSpec(
        "users.table",
        MODULE,
        "Users",
        "table",
        table,
        f"One row per user: traces, sessions, errors, tokens, cost (at most {USERS_LISTED}).",
        lists_users=True,
    ),
)
