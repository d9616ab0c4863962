"""The Live runs page's body: running traces, refreshed in place every few seconds.

Only the table is a fragment (``st.fragment(run_every=...)``), so a refresh
re-queries the store and redraws the table without re-running the page. The
query is not cached: "elapsed" is computed against the moment of each refresh.
"""

from __future__ import annotations

import streamlit as st

from telemetry.blocks import drilldown
from telemetry.blocks.model import Source
from telemetry.filters import Filters
from telemetry.queries.live import LIVE_WINDOW_US, live_runs
from telemetry.timeutil import US_PER_HOUR, from_us, now_us
from ui import block_view, plain
from ui.cache import get_engine
from ui.trace_links import TRACE_PARAM, TRACES_PAGE, filter_params, trace_url

REFRESH_SECONDS = 5
LIVE_LIMIT = 100
PAUSE_KEY = "live_paused"
TABLE_KEY = "live_runs_table"
EMPTY = (
    "No run is in progress for these teams and environments. A run shows here while its "
    "root span is still open: agents that export spans as they finish (the OpenTelemetry "
    "SDK's batch processor) send the steps first and the root span last."
)
RUN_LINK = st.column_config.LinkColumn(
    "Run", display_text=r"trace=([^&]{1,12})", help="Opens the trace (in a new tab)"
)


def show_live_runs(filters: Filters) -> None:
    """The pause toggle, what the page counts, and the self-refreshing table."""
    window_hours = LIVE_WINDOW_US // US_PER_HOUR
    st.caption(
        f"Runs whose root span has not ended, started in the last {window_hours} hours "
        "(older open runs are taken as abandoned). The period filter does not apply here; "
        "team and environment filters do."
    )
    paused = st.toggle(
        f"Pause auto-refresh (every {REFRESH_SECONDS} s)", key=PAUSE_KEY, value=False
    )
    every = None if paused else REFRESH_SECONDS
    st.fragment(run_every=every)(live_table)(filters)


def live_table(filters: Filters) -> None:
    """One refresh: query the running traces now and draw them (a fragment's body)."""
    moment = now_us()
    runs = live_runs(get_engine(), filters, moment, limit=LIVE_LIMIT)
    st.caption(f"Updated {from_us(moment):%H:%M:%S} UTC · {len(runs)} running")
    if runs.empty:
        st.info(EMPTY, icon=":material/hourglass_empty:")
        return
    if len(runs) == LIVE_LIMIT:
        st.caption(f"Showing the {LIVE_LIMIT} most recent running runs.")
    block = drilldown.LIVE.build(Source(filters, None, from_us(moment).date()), runs)
    link = block_view.Extra("run", [trace_url(trace_id) for trace_id in runs["trace_id"]], RUN_LINK)
    picked = block_view.table(
        drilldown.LIVE,
        block,
        filters,
        title=False,
        extras=[link],
        csv_name="",
        on_select="rerun",
        selection_mode="single-row",
        key=TABLE_KEY,
    )
    st.caption("Select a row to open its trace here, or follow the run's link.")
    rows = picked.selection.rows if picked is not None else []
    if rows:
        open_trace(str(runs["trace_id"].iloc[rows[0]]))


def open_trace(trace_id: str) -> None:
    """Go to the Traces page showing ``trace_id``, with the same filters."""
    try:
        st.switch_page(TRACES_PAGE, query_params={TRACE_PARAM: trace_id, **filter_params()})
    except st.errors.StreamlitAPIException:
        st.markdown(f"[Open trace {plain.text(trace_id)}]({trace_url(trace_id)})")
