"""Users: who uses the agents in the period, one row per user, and each user's detail."""

from __future__ import annotations

import streamlit as st

from telemetry import format as fmt
from telemetry.blocks import users
from ui import block_view, plain, quality_view, users_view
from ui.account import is_admin
from ui.filters import current_view
from ui.header import filter_summary
from ui.user_detail_view import user_detail_dialog

view = current_view()
filters = view.filters
source = block_view.page_source(filters, view.data_version)


st.title("Users")
st.caption(filter_summary(filters))
block_view.figures(users.HEADER, users.HEADER.build(source))
users_view.activity_histogram(source, filters)

st.subheader("Users")
controls = users_view.table_controls(source.query("user_companies"))
table = users.TABLE.load(source, **controls.options())
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
users_view.users_table(table, source, filters)
users_view.detail_picker(table)
if st.toggle("Quality per user: feedback coverage, positive rate, cost per good run"):
    quality_view.quality_table(source, "user")

chosen = st.session_state.get(users_view.DETAIL_KEY)
if chosen is not None:
    user_detail_dialog(filters, view.data_version, chosen, is_admin())
