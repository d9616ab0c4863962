"""Drawing helpers of the Sessions page: search and filters, the list, one session's traces."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial

import streamlit as st

from telemetry import format as fmt
from telemetry.blocks import drilldown
from telemetry.blocks.model import Source
from telemetry.filters import Filters
from telemetry.queries.sessions import SessionDetail, SessionPage, SessionSearch, session_list
from telemetry.queries.traces import STATUSES
from ui import block_view, links, pager, plain
from ui.list_picker import open_picker, open_selected

BOUND = "query-params"
PAGER = "sessions"
OPEN_KEY = "sessions_open"
_TABLE_NONCE = "sessions_table_nonce"
ANY = ""

# The URL parameter of the open session: /sessions?session=<key> opens it (a link to share).
SESSION_PARAM = "session"
TRACE_LINK = links.link_column("Trace", "Open the trace's steps.", r"trace=([^&]{1,12})")


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
    close_session()


def opened_session() -> str | None:
    """The session to show: one just picked (it goes into the URL), else the URL's."""
    picked = st.session_state.pop(OPEN_KEY, None)
    if picked:
        st.query_params[SESSION_PARAM] = picked
    return (st.query_params.get(SESSION_PARAM) or "").strip() or None


def load_page(load: Callable[..., SessionPage], search: SessionSearch) -> SessionPage:
    """The page the pager points at (the last one when the list got shorter)."""
    return pager.load_current(
        PAGER, lambda page, size: load(session_list, search=search, page=page, page_size=size)
    )


def sessions_table(found: SessionPage, source: Source) -> None:
    """The count and the page's sessions; selecting a row opens the session at the top."""
    st.markdown(f"**{pager.count_text(found.total, found.total_capped, 'session')}**")
    nonce = st.session_state.get(_TABLE_NONCE, 0)
    key = f"sessions_table_{nonce}"
    block = drilldown.SESSIONS.build(source, found)
    block_view.table(
        drilldown.SESSIONS,
        block,
        source.filters,
        title=False,
        csv_name="",
        key=key,
        on_select=partial(
            open_selected, key, tuple(found.rows["session"].tolist()), OPEN_KEY, _TABLE_NONCE
        ),
        selection_mode="single-row",
    )
    pager.download_page(PAGER, block.csv_frame(), source.filters, found.page)


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


def session_detail(
    detail: SessionDetail | None, session: str, show_content: bool, source: Source
) -> None:
    """One session's traces in start order, each linking to its trace view."""
    st.subheader(f"Session {plain.text(session)}")
    st.button("Close session", key="sessions_close", on_click=close_session)
    if detail is None:
        st.warning(
            f"Session {plain.code(session)} has no traces in the selected period, teams and "
            "environments.",
            icon=":material/search_off:",
        )
        return
    st.caption(
        f"User {plain.user(detail.user_name, detail.user, missing='(none)')} · "
        f"{detail.traces:,} trace"
        f"{'s' * (detail.traces != 1)} in the period · total cost "
        f"{fmt.dollars(detail.total_cost_usd)} (its LLM calls). Click a trace id to see its steps."
    )
    spec = drilldown.SESSION_TRACES
    block = spec.build(source, detail)
    if not show_content:  # raw content is for admins: not even an empty column
        block = replace(
            block, columns=tuple(c for c in block.columns if c.field != "first_message")
        )
    link = block_view.Extra("link", links.trace_links(detail.rows), TRACE_LINK)
    block_view.table(spec, block, source.filters, title=False, extras=[link], csv_name="")


def close_session() -> None:
    st.session_state.pop(OPEN_KEY, None)
    st.query_params.pop(SESSION_PARAM, None)


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
