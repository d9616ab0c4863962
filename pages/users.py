"""Users: who uses the agents in the period, one row per user, and each user's detail."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from telemetry import format as fmt
from telemetry import queries
from telemetry.filters import Grouping
from ui import plain, quality_view, users_view
from ui.account import is_admin
from ui.cache import cached_query
from ui.filters import current_view
from ui.header import filter_summary
from ui.user_detail_view import user_detail_dialog

view = current_view()
filters = view.filters


def load(function, **options):
    return cached_query(function, filters, view.data_version, **options)


st.title("Users")
st.caption(filter_summary(filters))
users_view.header_cards(load(queries.users_header))

st.subheader("Activity")
st.caption("Traces per UTC day. Drag across days to make them the period of every page.")
daily = cached_query(
    queries.activity_timeline, replace(filters, grouping=Grouping.DAY), view.data_version
)
users_view.activity_histogram(daily, filters)

st.subheader("Users")
controls = users_view.table_controls(load(queries.user_companies))
table = load(queries.user_table, **controls.options())
if table.rows.empty:
    if any(controls.options().values()):
        st.info("No user matches: try another search or fewer filters.", icon=":material/info:")
    else:
        st.info(
            f"No users in {fmt.day_span(filters)} for {plain.text(fmt.team_text(filters.teams))}: "
            "none in the directory of these teams and none with telemetry in the period. Try a "
            "longer period or other teams.",
            icon=":material/info:",
        )
    st.stop()
users_view.rollup_line(table, controls.rollup)
users_view.users_table(table)
users_view.detail_picker(table)
users_view.download(table, filters)
if st.toggle("Quality per user: feedback coverage, positive rate, cost per good run"):
    quality_view.quality_table(load, filters, "user")

chosen = st.session_state.get(users_view.DETAIL_KEY)
if chosen is not None:
    user_detail_dialog(filters, view.data_version, chosen, is_admin())
