"""Sessions: the period's conversations, searchable; ``?session=<key>`` opens one at the top."""

from __future__ import annotations

import streamlit as st

from telemetry.blocks import drilldown
from telemetry.db import database_url
from telemetry.queries.sessions import session_traces
from ui import block_view, pager, sessions_view
from ui.account import is_admin
from ui.cache import cached_query, environment_names
from ui.header import page_header

view = page_header("Sessions")
filters = view.filters
source = block_view.page_source(filters, view.data_version)


def load(function, **options):
    return cached_query(function, filters, view.data_version, **options)


opened = sessions_view.opened_session()
if opened:
    admin = is_admin()
    detail = load(session_traces, session_key=opened, include_content=admin)
    sessions_view.session_detail(detail, opened, show_content=admin, source=source)

st.caption(drilldown.SESSIONS_CAPTION)
environments = environment_names(database_url(), filters.org, view.allowed_teams, view.data_version)
search = sessions_view.search_controls(environments)
found = sessions_view.load_page(load, search)
if found.rows.empty:
    sessions_view.empty_note(search, filters)
else:
    sessions_view.sessions_table(found, source)
    pager.draw(
        sessions_view.PAGER,
        pages=found.pages,
        total=found.total,
        capped=found.total_capped,
        noun="session",
    )
    sessions_view.session_picker(found)
