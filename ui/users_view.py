"""Drawing helpers of the Users page: the period histogram, the table, its controls and picker."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial

import pandas as pd
import streamlit as st

from telemetry import format as fmt
from telemetry.blocks import users
from telemetry.blocks.model import Source
from telemetry.charts.base import DAYS_SELECTION
from telemetry.filters import Filters
from telemetry.models import UserStatus
from telemetry.queries import ROLLUPS, UserTable, cost_rollup
from ui import block_view
from ui.links import link_column, traces_url
from ui.list_picker import open_picker, open_selected
from ui.periods import CUSTOM

DETAIL_KEY = "users_detail_pk"
_TABLE_NONCE = "users_table_nonce"
STATUSES = tuple(status.value for status in UserStatus)


# --- the activity histogram: drag a range to narrow the period ---------------------------


def activity_histogram(source: Source, filters: Filters) -> None:
    """Traces per UTC day; dragging across days makes them the sidebar's (custom) period."""
    # A new key per period: the brush of the previous period does not linger on the new one.
    key = f"users_histogram_{filters.start}_{filters.end}"
    block_view.chart(
        users.ACTIVITY,
        users.ACTIVITY.build(source),
        title="Activity",
        hint="Drag across days to make them the period of every page.",
        key=key,
        on_select=partial(_narrow_to_selection, key, filters.start, filters.end),
        selection_mode=DAYS_SELECTION,
    )


def selected_days(selection: dict, first: date, last: date) -> tuple[date, date] | None:
    """The whole UTC days an interval selection covers, kept within ``[first, last]``.

    ``selection`` is the chart state's ``selection`` mapping; the brush's x
    values are epoch milliseconds or ISO dates. ``None`` when nothing is selected.
    """
    brushed = (selection or {}).get(DAYS_SELECTION) or {}
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


def users_table(table: UserTable, source: Source, filters: Filters) -> None:
    """The users as a sortable table; selecting a row opens that user's detail."""
    nonce = st.session_state.get(_TABLE_NONCE, 0)
    key = f"users_table_{nonce}"
    block = users.TABLE.build(source, table)
    extras = [
        # Each user's traces, on the Traces page with the current filters.
        block_view.Extra(
            "traces_link",
            [traces_url(user=user) for user in table.rows["external_id"]],
            link_column("Their traces", "This user's traces on the Traces page.", "Open"),
            after="traces",
        ),
        block_view.Extra(
            "activity",
            table.rows["activity"].tolist(),
            st.column_config.LineChartColumn("Daily activity", y_min=0),
            after="errored_sessions",
        ),
    ]
    block_view.table(
        users.TABLE,
        block,
        filters,
        title=False,
        extras=extras,
        notes=[] if table.complete else ["Search or filter to find the others."],
        csv_name="users",
        key=key,
        on_select=partial(
            open_selected, key, tuple(table.rows["user_pk"].tolist()), DETAIL_KEY, _TABLE_NONCE
        ),
        selection_mode="single-row",
    )


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
