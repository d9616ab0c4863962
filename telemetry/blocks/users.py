"""The Users blocks: the figures at a glance, traces per day, and the table of users."""

from __future__ import annotations

from dataclasses import replace

from telemetry import format as fmt
from telemetry.blocks.common import capped_note, decimal, display_names, environment_fidelity
from telemetry.blocks.formats import COUNT, DATETIME, RATIO, USD
from telemetry.blocks.model import BlockSpec, Column, Figure, Source
from telemetry.charts.base import daily_traces_chart
from telemetry.filters import Grouping
from telemetry.queries import UsersHeader, UserTable
from telemetry.queries.users import USER_TABLE_LIMIT

TITLE = "Users"
# A report lists at most this many users (the costliest first) and says "N of M".
USERS_LISTED = 200


def _header_figures(source: Source, found: UsersHeader) -> tuple[Figure, ...]:
    per_user = fmt.MISSING if found.traces_per_user is None else decimal(found.traces_per_user)
    return (
        Figure(
            "users_active",
            "Unique users",
            fmt.count(found.users_active),
            "Distinct users with a trace in the period.",
        ),
        Figure(
            "users_new",
            "New users",
            fmt.count(found.users_new),
            "Users whose first trace ever is in the period.",
        ),
        Figure(
            "user_share",
            "Traces with a user id",
            fmt.percent(found.user_share),
            f"Traces with a user id ({found.traces_with_user:,}) ÷ traces ({found.traces:,}).",
        ),
        Figure(
            "traces_per_user",
            "Traces per user",
            per_user,
            f"Traces that carry a user id ({found.traces_with_user:,}) ÷ unique users "
            f"({found.users_active:,}).",
        ),
    )


def _daily(source: Source):
    """Traces and active users per UTC day, whatever the grouping of the other pages."""
    return source.query("activity_timeline", filters=replace(source.filters, grouping=Grouping.DAY))


def _table_options(source: Source) -> dict:
    return {"limit": USERS_LISTED if source.report else USER_TABLE_LIMIT}


def _named(found: UserTable):
    rows = found.rows
    return rows.assign(label=display_names(rows["name"], rows["external_id"]))


HEADER = BlockSpec(
    "users.header",
    "Users at a glance",
    "kpis",
    "Unique and new users, share of traces with a user id, traces per user.",
    query="users_header",
    caption=lambda source, found: (
        "Users with a trace in the period, and how many of the period's traces say who ran them."
    ),
    figures=_header_figures,
)
ACTIVITY = BlockSpec(
    "users.activity",
    "Daily activity",
    "chart",
    "Traces per UTC day.",
    query=_daily,
    caption=lambda source, timeline: "Traces per UTC day; a day's tooltip gives its active users.",
    chart=lambda source, timeline: daily_traces_chart(timeline),
)
TABLE = BlockSpec(
    "users.table",
    "Users",
    "table",
    f"One row per user: traces, sessions, errors, tokens, cost (at most {USERS_LISTED} in a "
    "report).",
    query="user_table",
    options=_table_options,
    caption=lambda source, found: (
        "Users with telemetry in the period and the directory users of the selected teams, "
        "costliest first; first/last seen = earliest/latest trace start (UTC)."
        + capped_note(found, "users")
    ),
    columns=(
        Column("label", "User", key=True, help="The user's name (their id where none is known)."),
        Column("team", "Team"),
        Column("traces", "Traces", COUNT),
        Column("cost_usd", "Cost (USD)", USD, key=True),
        Column("errored_sessions", "Errored sessions", COUNT, key=True),
        Column("sessions", "Sessions", COUNT),
        Column("errored_session_rate", "Errored session rate", RATIO),
        Column("tokens", "Tokens", COUNT),
        Column("active_days", "Active days", COUNT),
        Column("priced_share", "Priced share", RATIO),
        Column("status", "Status"),
        Column("company", "Company"),
        Column("email", "Email"),
        Column("first_seen", "First seen", DATETIME),
        Column("last_seen", "Last seen", DATETIME),
        Column("external_id", "User id"),
    ),
    rows=_named,
    limit=USERS_LISTED,
    lists_users=True,
    fidelity=environment_fidelity("Users without telemetry"),
)

BLOCKS = (HEADER, ACTIVITY, TABLE)
