"""Analytics: trends against the previous period, commands, runs of agents, tools and models,
upstream efficiency, peak usage, generated code and task outcomes, the audit trail."""

from __future__ import annotations

import streamlit as st

from ui import analytics_audit, analytics_sections
from ui import format as fmt
from ui.cache import cached_query
from ui.filters import current_view

view = current_view()
filters = view.filters
version = view.data_version


def load(function, **options):
    return cached_query(function, filters, version, **options)


st.title("Analytics")
st.caption(fmt.describe(filters))
trends, runs, models, peaks, code, audit = st.tabs(
    ["Trends", "Runs", "Models", "Peak usage", "Code & outcomes", "Audit"]
)
with trends:
    analytics_sections.trends(load, filters, version)
with runs:
    analytics_sections.run_statistics(load, filters, version)
    analytics_sections.commands(load, filters, version)
    analytics_sections.agent_runs(load, filters, version)
    analytics_sections.tool_runs(load, filters, version)
with models:
    analytics_sections.model_runs(load, filters, version)
with peaks:
    analytics_sections.peak_usage(load, filters, version)
with code:
    analytics_audit.code_and_outcomes(load, filters)
with audit:
    actor = analytics_audit.audit_actor(view.allowed_teams, st.session_state.get("username"))
    analytics_audit.audit(load, filters, actor)
