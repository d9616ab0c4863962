"""Links into the drill-down pages that keep the sidebar's filters (org, period, teams, envs).

The sidebar's widgets are bound to the URL (ui/filters.py), so the current
filters are the current page's query parameters; a link carries them along,
and the target page (which re-checks access) shows the same view, narrowed.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
import streamlit as st

# One reading of the filter parameters, shared with the trace view's links.
from ui.trace_links import TRACES_PAGE, filter_params, trace_url

# Relative to the current page's URL, so the links also work under a base URL path.
TRACES_PATH = "traces"
__all__ = [
    "filter_params",
    "link_column",
    "trace_links",
    "trace_url",
    "traces_link",
    "traces_params",
    "traces_url",
    "with_trace_links",
]


def traces_params(**search: str) -> dict[str, list[str] | str]:
    """Query parameters of the Traces list with the current filters and ``search`` fields."""
    return {**filter_params(), **{name: value for name, value in search.items() if value}}


def traces_url(**search: str) -> str:
    """A relative URL of the Traces list narrowed by ``search`` (user=..., agent=..., ...)."""
    return f"{TRACES_PATH}?{urlencode(traces_params(**search), doseq=True)}"


def traces_link(label: str, *, icon: str = ":material/manage_search:", **search: str) -> None:
    """A page link to the Traces list narrowed by ``search`` (same tab)."""
    st.page_link(TRACES_PAGE, label=label, icon=icon, query_params=traces_params(**search))


def link_column(label: str, help: str, pattern: str | None = None):
    """A table column of such URLs; ``pattern`` picks the shown text out of the URL."""
    return st.column_config.LinkColumn(label, help=help, display_text=pattern)


def trace_links(rows: pd.DataFrame) -> list[str]:
    """The trace view URL of each row's ``trace_id``."""
    return [trace_url(trace_id) for trace_id in rows["trace_id"]]


def with_trace_links(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with their ``trace_id`` column turned into a first column of trace view links."""
    shown = rows.drop(columns=["trace_id"])
    shown.insert(0, "link", [trace_url(trace_id) for trace_id in rows["trace_id"]])
    return shown
