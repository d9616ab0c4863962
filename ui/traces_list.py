"""The Traces list: search fields bound to the URL, sort, a pager, and a link to each trace.

The search fields are URL query parameters (``q``, ``user``, ``agent``,
``model``, ``tool``, ``status``, ``sort``), so other pages link to a
pre-filtered list (see :mod:`ui.links`) and a copied URL reproduces it.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from telemetry.blocks import drilldown
from telemetry.blocks.model import Source
from telemetry.filters import Filters
from telemetry.queries.traces import STATUSES, TracePage, TraceSearch, trace_list
from ui import block_view, links, pager
from ui.list_picker import open_picker

BOUND = "query-params"
PAGER = "traces"
ANY = ""
# What the sort box offers: label -> (sort column, descending).
SORTS = {
    "Newest first": ("start", True),
    "Oldest first": ("start", False),
    "Longest first": ("duration", True),
    "Shortest first": ("duration", False),
    "Costliest first": ("cost", True),
    "Cheapest first": ("cost", False),
}
STATUS_LABELS = {ANY: "Any status", **{status: status for status in STATUSES}}

# The trace link shows the id's first 12 characters (enough to tell runs apart; the
# whole id is the last column and in the CSV), so the key columns stay in view.
TRACE_LINK = links.link_column("Trace", "Open the trace's steps.", r"trace=([^&]{1,12})")


def search_controls() -> tuple[TraceSearch, str, bool]:
    """The search fields and the sort box; changing any goes back to page 1."""
    reset = {"on_change": pager.first_page, "args": (PAGER,), "bind": BOUND}
    text_col, user_col, status_col, sort_col = st.columns([3, 2, 1.3, 1.5])
    text = text_col.text_input(
        "Trace id or name",
        key="q",
        placeholder="start of a trace id, or part of a name",
        help="A trace id prefix, or any part of the trace's name (case-insensitive).",
        **reset,
    )
    user = user_col.text_input("User id", key="user", placeholder="exact user id", **reset)
    status = status_col.selectbox(
        "Status", list(STATUS_LABELS), format_func=STATUS_LABELS.get, key="status", **reset
    )
    sort = sort_col.selectbox("Sort", list(SORTS), key="sort", **reset)
    agent_col, model_col, tool_col = st.columns(3)
    agent = agent_col.text_input("Agent", key="agent", placeholder="exact agent name", **reset)
    model = model_col.text_input(
        "Model", key="model", placeholder="exact model, e.g. gpt-4o", **reset
    )
    tool = tool_col.text_input("Tool", key="tool", placeholder="exact tool name", **reset)
    search = TraceSearch(
        text=text or "",
        user=user or "",
        status=status or "",
        agent=agent or "",
        model=model or "",
        tool=tool or "",
    )
    column, descending = SORTS.get(sort or "", SORTS["Newest first"])
    return search, column, descending


def load_page(load: Callable[..., TracePage], search: TraceSearch, sort: str, descending: bool):
    """The page the pager points at (the last one when the list got shorter)."""
    options = {"search": search, "sort": sort, "descending": descending}
    return pager.load_current(
        PAGER, lambda page, size: load(trace_list, page=page, page_size=size, **options)
    )


def traces_table(found: TracePage, source: Source) -> None:
    """The count, the page's traces (the spec's columns after a link per trace), its CSV."""
    st.markdown(f"**{pager.count_text(found.total, found.total_capped, 'trace')}**")
    block = drilldown.TRACES.build(source, found)
    link = block_view.Extra("link", links.trace_links(found.rows), TRACE_LINK)
    spec = drilldown.TRACES
    block_view.table(spec, block, source.filters, title=False, extras=[link], csv_name="")
    pager.download_page(PAGER, block.csv_frame(), source.filters, found.page)


def trace_picker(found: TracePage) -> None:
    """Open a listed trace in this tab (the table's links open a new one)."""
    rows = found.rows
    ids = rows["trace_id"].tolist()
    labels = {
        trace_id: f"{trace_id[:16]} · {name or '(no name)'} · {status}"
        for trace_id, name, status in zip(ids, rows["name"], rows["status"], strict=True)
    }
    open_picker(
        "Open a trace",
        ids,
        labels,
        key="traces_pick",
        button="Open trace",
        button_key="traces_open",
        icon=":material/account_tree:",
        on_open=_open_trace,
    )


def _open_trace(trace_id: str) -> None:
    st.query_params["trace"] = trace_id


def empty_note(search: TraceSearch, filters: Filters) -> None:
    if search.active:
        st.info(
            "No trace matches these search fields in the period: clear a field or pick a "
            "longer period.",
            icon=":material/info:",
        )
    else:
        st.info(
            f"No traces in {filters.start} – {filters.end} for the selected teams and "
            "environments. Try a longer period.",
            icon=":material/info:",
        )
