"""Drawing helpers of the Users page: header cards, period histogram, the table and controls."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial

import altair as alt
import pandas as pd
import streamlit as st

from telemetry import format as fmt
from telemetry.charts.base import TRACE_COLOR
from telemetry.filters import Filters
from telemetry.models import UserStatus
from telemetry.queries import ROLLUPS, UsersHeader, UserTable, cost_rollup
from ui.downloads import csv_download
from ui.links import link_column, traces_url
from ui.list_picker import open_picker, open_selected
from ui.periods import CUSTOM

DETAIL_KEY = "users_detail_pk"
_TABLE_NONCE = "users_table_nonce"
STATUSES = tuple(status.value for status in UserStatus)
# What the CSV holds: the table as shown, without the store's id and the sparkline.
CSV_COLUMNS = [
    "external_id",
    "name",
    "email",
    "company",
    "team",
    "status",
    "first_seen",
    "last_seen",
    "traces",
    "sessions",
    "errored_sessions",
    "errored_session_rate",
    "tokens",
    "active_days",
    "cost_usd",
    "priced_share",
]


def header_cards(header: UsersHeader) -> None:
    """Unique users, new users, share of traces with a user id, traces per user."""
    cards = (
        (
            "Unique users",
            fmt.count(header.users_active),
            "Distinct users with a trace in the period.",
        ),
        (
            "New users",
            fmt.count(header.users_new),
            "Users whose first trace ever is in the period.",
        ),
        (
            "Traces with a user id",
            fmt.percent(header.user_share),
            f"{header.traces_with_user:,} of {header.traces:,} traces carry a user id.",
        ),
        (
            "Traces per user",
            "–" if header.traces_per_user is None else f"{header.traces_per_user:,.1f}",
            "Traces that carry a user id ÷ unique users.",
        ),
    )
    for column, (label, value, meaning) in zip(st.columns(len(cards)), cards, strict=True):
        column.metric(label, value, help=meaning, border=True)


# --- the activity histogram: drag a range to narrow the period ---------------------------


def activity_histogram(timeline: pd.DataFrame, filters: Filters) -> None:
    """Traces per UTC day; dragging across days makes them the sidebar's (custom) period."""
    brush = alt.selection_interval(encodings=["x"], name="days")
    chart = (
        alt.Chart(timeline)
        .mark_bar(color=TRACE_COLOR)
        .encode(
            x=alt.X("utcyearmonthdate(bucket):T", title="Day (UTC)"),
            y=alt.Y("traces:Q", title="Traces"),
            tooltip=[
                alt.Tooltip("utcyearmonthdate(bucket):T", title="Day", format="%a %d %b %Y"),
                alt.Tooltip("traces:Q", title="Traces", format=","),
                alt.Tooltip("users_active:Q", title="Active users", format=","),
            ],
        )
        .add_params(brush)
        .properties(height=160)
    )
    # A new key per period: the brush of the previous period does not linger on the new one.
    key = f"users_histogram_{filters.start}_{filters.end}"
    st.altair_chart(
        chart,
        width="stretch",
        key=key,
        on_select=partial(_narrow_to_selection, key, filters.start, filters.end),
        selection_mode="days",
    )


def selected_days(selection: dict, first: date, last: date) -> tuple[date, date] | None:
    """The whole UTC days an interval selection covers, kept within ``[first, last]``.

    ``selection`` is the chart state's ``selection`` mapping; the brush's x
    values are epoch milliseconds or ISO dates. ``None`` when nothing is selected.
    """
    brushed = (selection or {}).get("days") or {}
    values = next(iter(brushed.values()), None) if brushed else None
    if not values or len(values) != 2:
        return None
    start, end = sorted(_as_day(value) for value in values)
    start, end = max(start, first), min(end, last)
    return None if end < start else (start, end)


def _as_day(value) -> date:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC).date()
    return pd.Timestamp(value).date()


def narrow_period(state: MutableMapping, start: date, end: date) -> None:
    """Make ``[start, end]`` the sidebar's custom period in ``state`` (the session state).

    The sidebar's period widgets (ui/filters.py) are keyed ``period``, ``from``
    and ``to`` and bound to the URL, so the next run shows the narrowed period
    on every page and in the address bar.
    """
    state["period"] = CUSTOM
    state["from"] = start
    state["to"] = end


def _narrow_to_selection(key: str, first: date, last: date) -> None:
    state = st.session_state.get(key) or {}
    days = selected_days(state.get("selection", {}), first, last)
    if days is not None and days != (first, last):
        narrow_period(st.session_state, *days)


# --- the table ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TableControls:
    search: str
    companies: tuple[str, ...]
    statuses: tuple[str, ...]
    inactive_only: bool
    rollup: str

    def options(self) -> dict:
        """The keyword options of :func:`telemetry.queries.user_table`."""
        return {
            "search": self.search.strip(),
            "companies": self.companies,
            "statuses": self.statuses,
            "inactive_only": self.inactive_only,
        }


def table_controls(companies: list[str]) -> TableControls:
    """Search box, company / status filters, inactive-only switch and the cost roll-up."""
    search_col, company_col, status_col, inactive_col = st.columns([3, 2, 2, 1.2])
    search = search_col.text_input(
        "Search",
        key="users_search",
        placeholder="id, name, email or company",
        help="Matches any part of the user's id, name, email or company (case-insensitive).",
    )
    chosen_companies = company_col.multiselect(
        "Company", companies, key="users_company", placeholder="Any company"
    )
    chosen_statuses = status_col.multiselect(
        "Status", STATUSES, key="users_status", placeholder="Any status"
    )
    inactive_col.write("")  # aligns the toggle with the inputs' boxes
    inactive = inactive_col.toggle(
        "Inactive only",
        key="users_inactive",
        help="Users of your teams (not removed) without a trace in the period.",
    )
    rollup = st.segmented_control(
        "Cost roll-up",
        ROLLUPS,
        default=ROLLUPS[0],
        key="users_rollup",
        required=True,
        help="How the cost column is summarised over the users shown: total, mean or median.",
    )
    return TableControls(
        search=search,
        companies=tuple(chosen_companies),
        statuses=tuple(chosen_statuses),
        inactive_only=inactive,
        rollup=rollup or ROLLUPS[0],
    )


def rollup_line(table: UserTable, rollup: str) -> None:
    """The cost column's roll-up over the shown users, with their priced share beside it."""
    rows = table.rows
    value = cost_rollup(rows["cost_usd"].tolist(), rollup)
    calls = int(rows["calls"].sum())
    priced = sum(
        share * calls
        for share, calls in zip(rows["priced_share"], rows["calls"], strict=True)
        if calls
    )
    share = priced / calls if calls else None
    label = f"Cost · {rollup} over {len(rows):,} user{'s' * (len(rows) != 1)} shown"
    st.metric(
        label,
        fmt.dollars(value),
        help="SUM = total, AVG = mean, MEDIAN = middle value of the cost column of the users "
        "listed below (users without LLM calls count as $0).",
    )
    if share is not None and share < 1:
        st.caption(
            f"Priced share of these users' calls: {fmt.percent(share)}; the cost leaves out "
            f"{calls - round(priced):,} unpriced call(s)."
        )
    elif share is not None:
        st.caption("All of these users' LLM calls are priced.")


def users_table(table: UserTable) -> None:
    """The users as a sortable table; selecting a row opens that user's detail."""
    if not table.complete:
        st.caption(
            f"Showing {len(table.rows):,} of {table.matched:,} users (the costliest first). "
            "Search or filter to find the others."
        )
    nonce = st.session_state.get(_TABLE_NONCE, 0)
    key = f"users_table_{nonce}"
    # Each user's traces, on the Traces page with the current filters.
    rows = table.rows.assign(traces_link=[traces_url(user=u) for u in table.rows["external_id"]])
    order = [column for column in table.rows.columns if column not in ("user_pk", "calls")]
    order.insert(order.index("traces") + 1, "traces_link")
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        key=key,
        on_select=partial(
            open_selected, key, tuple(table.rows["user_pk"].tolist()), DETAIL_KEY, _TABLE_NONCE
        ),
        selection_mode="single-row",
        column_order=order,
        column_config=_COLUMNS,
    )


_COLUMNS = {
    "external_id": st.column_config.TextColumn("User id"),
    "name": st.column_config.TextColumn("Name"),
    "email": st.column_config.TextColumn("Email"),
    "company": st.column_config.TextColumn("Company"),
    "team": st.column_config.TextColumn("Team"),
    "status": st.column_config.TextColumn("Status"),
    "first_seen": st.column_config.DatetimeColumn("First seen", format="D MMM YYYY, HH:mm"),
    "last_seen": st.column_config.DatetimeColumn("Last seen", format="D MMM YYYY, HH:mm"),
    "activity": st.column_config.LineChartColumn("Daily activity", y_min=0),
    "traces": st.column_config.NumberColumn("Traces", format="localized"),
    "traces_link": link_column("Their traces", "This user's traces on the Traces page.", "Open"),
    "sessions": st.column_config.NumberColumn("Sessions", format="localized"),
    "errored_sessions": st.column_config.NumberColumn("Errored sessions", format="localized"),
    "errored_session_rate": st.column_config.NumberColumn("Errored session rate", format="percent"),
    "tokens": st.column_config.NumberColumn("Tokens", format="localized"),
    "active_days": st.column_config.NumberColumn("Active days", format="localized"),
    "cost_usd": st.column_config.NumberColumn("Cost (USD)", format="dollar"),
    "priced_share": st.column_config.NumberColumn("Priced share", format="percent"),
}


def detail_picker(table: UserTable) -> None:
    """The keyboard way to the detail: pick a shown user and press Open."""
    rows = table.rows
    if rows.empty:
        return
    labels = {
        int(pk): " · ".join(part for part in (name, external_id, email) if part)
        for pk, name, external_id, email in zip(
            rows["user_pk"], rows["name"], rows["external_id"], rows["email"], strict=True
        )
    }
    open_picker(
        "User detail",
        list(labels),
        labels,
        key="users_detail_choice",
        button="Open detail",
        button_key="users_detail_open",
        icon=":material/person_search:",
        on_open=_open_user,
        help="Or select a row of the table.",
    )


def _open_user(user_pk: int) -> None:
    st.session_state[DETAIL_KEY] = user_pk


def download(table: UserTable, filters: Filters) -> None:
    """The shown rows as CSV (formula-like cells neutralised)."""
    csv_download(table.rows[CSV_COLUMNS], filters, "users", key="users_csv")
