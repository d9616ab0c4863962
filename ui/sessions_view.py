"""Drawing helpers of the Sessions page: search and filters, the list, one session's traces."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import streamlit as st

from telemetry import format as fmt
from telemetry.filters import Filters
from telemetry.queries.sessions import SessionDetail, SessionPage, SessionSearch, session_list
from telemetry.queries.traces import STATUSES
from ui import links, pager, plain
from ui.list_picker import open_picker, open_selected

BOUND = "query-params"
PAGER = "sessions"
OPEN_KEY = "sessions_open"
_TABLE_NONCE = "sessions_table_nonce"
ANY = ""

_LIST_COLUMNS = {
    "session": st.column_config.TextColumn("Session"),
    "user": st.column_config.TextColumn("User"),
    "team": st.column_config.TextColumn("Team"),
    "started": st.column_config.DatetimeColumn("Started (UTC)", format="D MMM YYYY, HH:mm"),
    "duration_s": st.column_config.NumberColumn("Duration (s)", format="%.1f"),
    "traces": st.column_config.NumberColumn("Traces", format="localized"),
    "cost_usd": st.column_config.NumberColumn("Cost (USD)", format="dollar"),
    "errors": st.column_config.NumberColumn("Errors", format="localized"),
}
_TRACE_COLUMNS = {
    "link": links.link_column("Trace", "Open the trace's steps.", r"trace=([^&]+)"),
    "name": st.column_config.TextColumn("Name"),
    "first_message": st.column_config.TextColumn("First user message", width="large"),
    "agent": st.column_config.TextColumn("Agent"),
    "status": st.column_config.TextColumn("Status"),
    "started": st.column_config.DatetimeColumn("Started (UTC)", format="D MMM YYYY, HH:mm:ss"),
    "duration_s": st.column_config.NumberColumn("Duration (s)", format="%.2f"),
    "cost_usd": st.column_config.NumberColumn("Cost (USD)", format="dollar"),
}


def search_controls(environments: list[str]) -> SessionSearch:
    """Search box and filters; changing any goes back to page 1 and closes the open session."""
    reset = {"on_change": _reset, "bind": BOUND}
    text_col, user_col, agent_col = st.columns([3, 2, 2])
    text = text_col.text_input(
        "Search",
        key="session_q",
        placeholder="part of a session id, user id or user name",
        **reset,
    )
    user = user_col.text_input("User id", key="session_user", placeholder="exact user id", **reset)
    agent = agent_col.text_input(
        "Agent", key="session_agent", placeholder="exact agent name", **reset
    )
    env_col, status_col, errors_col = st.columns([2, 2, 1.5], vertical_alignment="bottom")
    environment = env_col.selectbox(
        "Environment",
        [ANY, *environments],
        format_func=lambda value: value or "Any environment",
        key="session_env",
        **reset,
    )
    status = status_col.selectbox(
        "Has a trace with status",
        [ANY, *STATUSES],
        format_func=lambda value: value or "Any status",
        key="session_status",
        **reset,
    )
    has_errors = errors_col.toggle(
        "With errors only",
        key="session_errors",
        help="Sessions with at least one trace whose status is error.",
        **reset,
    )
    return SessionSearch(
        text=text or "",
        user=user or "",
        agent=agent or "",
        environment=environment or "",
        status=status or "",
        has_errors=bool(has_errors),
    )


def _reset() -> None:
    pager.first_page(PAGER)
    st.session_state.pop(OPEN_KEY, None)


def load_page(load: Callable[..., SessionPage], search: SessionSearch) -> SessionPage:
    """The page the pager points at (the last one when the list got shorter)."""
    return pager.load_current(
        PAGER, lambda page, size: load(session_list, search=search, page=page, page_size=size)
    )


def sessions_table(found: SessionPage) -> None:
    """The page's sessions; selecting a row opens the session below."""
    nonce = st.session_state.get(_TABLE_NONCE, 0)
    key = f"sessions_table_{nonce}"
    st.dataframe(
        found.rows,
        hide_index=True,
        width="stretch",
        key=key,
        on_select=partial(
            open_selected, key, tuple(found.rows["session"].tolist()), OPEN_KEY, _TABLE_NONCE
        ),
        selection_mode="single-row",
        column_config=_LIST_COLUMNS,
    )


def session_picker(found: SessionPage) -> None:
    """The keyboard way: pick a listed session and press Open."""
    keys = found.rows["session"].tolist()
    labels = {
        key: f"{key} · {user or 'no user'} · {traces} trace{'s' * (traces != 1)}"
        for key, user, traces in zip(keys, found.rows["user"], found.rows["traces"], strict=True)
    }
    open_picker(
        "Open a session",
        keys,
        labels,
        key="sessions_pick",
        button="Open session",
        button_key="sessions_open_button",
        icon=":material/forum:",
        on_open=_open,
        help="Or select a row of the table.",
    )


def _open(session: str) -> None:
    st.session_state[OPEN_KEY] = session


def download(found: SessionPage, filters: Filters) -> None:
    pager.download_page(PAGER, found.rows, filters, found.page)


def session_detail(detail: SessionDetail | None, session: str, show_content: bool) -> None:
    """One session's traces in start order, each linking to its trace view."""
    st.subheader(f"Session {plain.text(session)}")
    if detail is None:
        st.warning(
            f"Session {plain.code(session)} has no traces in the selected period, teams and "
            "environments.",
            icon=":material/search_off:",
        )
        return
    st.caption(
        f"User {plain.text(detail.user or '(none)')} · {detail.traces:,} trace"
        f"{'s' * (detail.traces != 1)} in the period · total cost "
        f"{fmt.dollars(detail.total_cost_usd)} (its LLM calls). Click a trace id to see its steps."
    )
    rows = links.with_trace_links(detail.rows)
    if not show_content:
        rows = rows.drop(columns=["first_message"])
    st.dataframe(rows, hide_index=True, width="stretch", column_config=_TRACE_COLUMNS)
    st.button("Close session", key="sessions_close", on_click=close_session)


def close_session() -> None:
    st.session_state.pop(OPEN_KEY, None)


def empty_note(search: SessionSearch, filters: Filters) -> None:
    if search.active:
        st.info(
            "No session matches these filters in the period: clear a field or pick a longer "
            "period.",
            icon=":material/info:",
        )
    else:
        st.info(
            f"No sessions in {fmt.day_span(filters)} for "
            f"{plain.text(fmt.team_text(filters.teams))}: traces without a session id are listed "
            "on the Traces page.",
            icon=":material/info:",
        )
