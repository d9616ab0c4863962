"""Traces: the period's runs, searchable and sortable; ``?trace=<id>`` opens one run's steps."""

from __future__ import annotations

import importlib

import streamlit as st

from telemetry.blocks import drilldown
from telemetry.queries.traces import TraceSearch, trace_list
from ui import block_view, links, pager, plain, traces_list
from ui.cache import cached_query
from ui.header import page_header

view = page_header("Traces")
filters = view.filters


def load(function, **options):
    return cached_query(function, filters, view.data_version, **options)


def trace_viewer():
    """``ui.trace_view.show_trace`` (the step-by-step view), or None while it is not installed."""
    try:
        module = importlib.import_module("ui.trace_view")
    except ModuleNotFoundError as error:
        if error.name != "ui.trace_view":
            raise
        return None
    return getattr(module, "show_trace", None)


def back_to_list() -> None:
    st.query_params.pop("trace", None)


def show_one(trace_id: str) -> None:
    show_trace = trace_viewer()
    if show_trace is not None:
        show_trace(view, trace_id)  # it draws its own way back to the list
        return
    st.button("All traces", icon=":material/arrow_back:", on_click=back_to_list, key="traces_back")
    # Without the step view, at least the trace's row, through the same scoped query.
    found = load(trace_list, search=TraceSearch(text=trace_id), page_size=5)
    rows = found.rows[found.rows["trace_id"] == trace_id]
    if rows.empty:
        st.warning(
            f"Trace {plain.code(trace_id)} was not found or is not in your teams (for the selected "
            "period and environments). Check the id, or widen the period in the sidebar.",
            icon=":material/search_off:",
        )
        return
    st.dataframe(links.with_trace_links(rows), hide_index=True, width="stretch")


trace_id = (st.query_params.get("trace") or "").strip()
if trace_id:
    show_one(trace_id)
    st.stop()

st.caption(drilldown.TRACES_CAPTION)
search, sort, descending = traces_list.search_controls()
found = traces_list.load_page(load, search, sort, descending)
if found.rows.empty:
    traces_list.empty_note(search, filters)
    st.stop()
traces_list.traces_table(found, block_view.page_source(filters, view.data_version))
pager.draw(
    traces_list.PAGER, pages=found.pages, total=found.total, capped=found.total_capped, noun="trace"
)
traces_list.trace_picker(found)
