"""Overview: adoption and activity KPIs, module usage, the activity timeline and top agents."""

from __future__ import annotations

import streamlit as st

from telemetry import format as fmt
from telemetry import queries
from telemetry.charts.base import activity_chart, module_chart
from telemetry.db import database_url
from ui import plain
from ui.alerts_banner import alert_banner
from ui.cache import cached_query, org_has_traces
from ui.cards import kpi_cards
from ui.downloads import csv_download
from ui.header import page_header
from ui.links import link_column, traces_link, traces_url
from ui.quality_view import quality_kpi

view = page_header("Overview", compares=True)
filters = view.filters
alert_banner(filters.org)


def load(function, **options):
    return cached_query(function, filters, view.data_version, **options)


def empty_state() -> None:
    """Say why there is nothing to show and what to try."""
    if filters.teams == ():
        st.info("Nothing to show: no team is selected for your account.", icon=":material/info:")
    elif not org_has_traces(database_url(), filters.org, view.data_version):
        st.info(
            f"Organization **{plain.text(filters.org)}** has not received any telemetry yet. Point "
            "your agents' OpenTelemetry exporter at `/v1/traces` on this server (with an API key), "
            "or import files with `python -m telemetry ingest FILE`.",
            icon=":material/info:",
        )
    else:
        st.info(
            f"No runs in {fmt.day_span(filters)} for {plain.text(fmt.team_text(filters.teams))} "
            f"and {plain.text(fmt.environment_text(filters.environments))} in "
            f"**{plain.text(filters.org)}**. Try a longer period, fewer team or environment "
            "filters, or another organization.",
            icon=":material/info:",
        )


kpis = load(queries.overview_kpis)
kpi_cards(kpis, filters)
if not next(kpi.value for kpi in kpis if kpi.key == "traces"):
    empty_state()
    st.stop()
traces_link("See failing runs (status error) and why they failed", status="error")
quality_kpi(load)

adoption = load(queries.adoption)
modules = load(queries.module_usage)
timeline = load(queries.activity_timeline)
agents = load(queries.top_agents, limit=10)

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("Activity")
    st.caption(f"Runs (bars) and active users (line) per {filters.grouping.value}, UTC.")
    st.altair_chart(activity_chart(timeline, filters.grouping), width="stretch")
with right:
    st.subheader("Modules")
    st.caption(f"{fmt.count(adoption.active_modules)} active modules (service.name) in the period.")
    st.altair_chart(module_chart(modules), width="stretch")

st.subheader("Top agents")
st.caption("The 10 agents with the most runs; error rate = errors ÷ finished runs.")
st.dataframe(
    agents.assign(
        error_rate=agents["error_rate"] * 100,
        runs_link=[traces_url(agent=agent) for agent in agents["agent"]],
    ),
    hide_index=True,
    width="stretch",
    column_config={
        "agent": st.column_config.TextColumn("Agent"),
        "runs_link": link_column("Runs list", "This agent's runs on the Traces page.", "Open"),
        "traces": st.column_config.NumberColumn("Runs", format="localized"),
        "users_active": st.column_config.NumberColumn("Active users", format="localized"),
        "error_rate": st.column_config.NumberColumn("Error rate", format="%.1f%%"),
        "cost_usd": st.column_config.NumberColumn("Cost (USD)", format="dollar"),
    },
)
csv_download(agents, filters, "top-agents", key="top-agents_csv")
