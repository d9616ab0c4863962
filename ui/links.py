"""Links into the drill-down pages that keep the sidebar's filters (org, period, teams, envs).

The sidebar's widgets are bound to the URL (ui/filters.py), so the current
filters are the current page's query parameters; a link carries them along,
and the target page (which re-checks access) shows the same view, narrowed.
"""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

# One reading of the filter parameters, shared with the trace view's links.
from ui.trace_links import TRACES_PAGE, filter_params, trace_url

# Relative to the current page's URL, so the links also work under a base URL path.
TRACES_PATH = "traces"
__all__ = [
    "filter_params",
    "link_column",
    "trace_url",
    "traces_link",
    "traces_params",
    "traces_url",
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
