"""Analytics: trends against the previous period, commands, runs of agents, tools and models,
upstream efficiency, quality, peak usage, generated code and task outcomes, the audit trail."""

from __future__ import annotations

import streamlit as st

from ui import analytics_audit, analytics_sections, block_view, quality_view
from ui.filters import current_view
from ui.header import filter_summary

view = current_view()
filters = view.filters
version = view.data_version

st.title("Analytics")
st.caption(filter_summary(filters))
actor = analytics_audit.audit_actor(view.allowed_teams, st.session_state.get("username"))
source = block_view.page_source(filters, version)


SECTIONS = {
    "Trends": lambda: analytics_sections.trends(source, version),
    "Runs": lambda: analytics_sections.runs(source, version),
    "Models": lambda: analytics_sections.model_runs(source, version),
    "Quality": lambda: quality_view.quality_tab(source, version),
    "Peak usage": lambda: analytics_sections.peak_usage(source, version),
    "Code & outcomes": lambda: analytics_audit.code_and_outcomes(source),
    "Audit": lambda: analytics_audit.audit(source, actor),
}
# Kept in the URL (?section=...), and only the open tab runs its queries.
tabs = st.tabs(list(SECTIONS), key="section", bind="query-params")
for tab, draw in zip(tabs, SECTIONS.values(), strict=True):
    if tab.open is not False:
        with tab:
            draw()
