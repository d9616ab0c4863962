"""Overview: adoption and activity KPIs, module usage, the activity timeline and top agents."""

from __future__ import annotations

import streamlit as st

from telemetry import format as fmt
from telemetry.blocks import overview
from telemetry.db import database_url
from ui import block_view, plain
from ui.alerts_banner import alert_banner
from ui.cache import org_has_traces
from ui.header import page_header
from ui.links import link_column, traces_link, traces_url
from ui.quality_view import quality_kpi

view = page_header("Overview")
filters = view.filters
alert_banner(filters.org)


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


source = block_view.page_source(filters, view.data_version)
kpis = overview.KPIS.load(source)
block_view.figures(overview.KPIS, overview.KPIS.build(source, kpis))
priced = next(kpi.value for kpi in kpis if kpi.key == "priced_share")
if priced is not None and priced < 1:
    st.warning(
        f"Cost covers {fmt.percent(priced)} of LLM calls: the others have no known price, so "
        "the total is understated. An admin can add prices for those models.",
        icon=":material/warning:",
    )
if not next(kpi.value for kpi in kpis if kpi.key == "traces"):
    empty_state()
    st.stop()
with st.columns(5)[0]:  # the size of the cards above
    quality_kpi(source)
traces_link("See failing runs (status error) and why they failed", status="error")

left, right = st.columns([3, 2], gap="large")
with left:
    block_view.chart(overview.ACTIVITY, overview.ACTIVITY.build(source))
with right:
    block_view.chart(overview.MODULES, overview.MODULES.build(source))

agents = overview.TOP_AGENTS_TABLE.build(source)
runs_list = block_view.Extra(
    "runs_link",
    [traces_url(agent=agent) for agent in agents.rows["agent"]],
    link_column("Runs list", "This agent's runs on the Traces page.", "Open"),
    after="agent",
)
block_view.table(
    overview.TOP_AGENTS_TABLE, agents, filters, extras=[runs_list], csv_name="top-agents"
)
