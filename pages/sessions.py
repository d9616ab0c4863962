"""Sessions: the period's conversations, searchable, and one session's traces in order."""

from __future__ import annotations

import streamlit as st

from telemetry.db import database_url
from telemetry.queries.sessions import session_traces
from ui import pager, sessions_view
from ui.account import is_admin
from ui.cache import cached_query, environment_names
from ui.header import page_header

view = page_header("Sessions")
filters = view.filters


def load(function, **options):
    return cached_query(function, filters, view.data_version, **options)


st.caption(
    "A session is the runs (traces) that share a session id; it is listed when one of its runs "
    "started in the period, with its figures over those runs: duration = last run's end − first "
    "run's start, cost = its LLM calls, errors = runs with status error. Search matches part of "
    "the session id, user id or user name; pick a row (or a session below) to see its runs."
)
environments = environment_names(database_url(), filters.org, view.allowed_teams, view.data_version)
search = sessions_view.search_controls(environments)
found = sessions_view.load_page(load, search)
if found.rows.empty:
    sessions_view.empty_note(search, filters)
    st.stop()
sessions_view.sessions_table(found)
pager.draw(
    sessions_view.PAGER,
    pages=found.pages,
    total=found.total,
    capped=found.total_capped,
    noun="session",
)
sessions_view.session_picker(found)
sessions_view.download(found, filters)

opened = st.session_state.get(sessions_view.OPEN_KEY)
if opened:
    admin = is_admin()
    detail = load(session_traces, session_key=opened, include_content=admin)
    sessions_view.session_detail(detail, opened, show_content=admin)
