"""Links to the Traces page and to one trace that keep the sidebar filters of the current URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import streamlit as st

# The URL parameters the sidebar filters are bound to (ui/filters.py).
FILTER_PARAMS = ("org", "period", "from", "to", "team", "env", "group")
# Absolute: st.page_link/switch_page resolve paths against ui/dashboard.py's folder.
TRACES_PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "traces.py")
TRACE_PARAM = "trace"


def filter_params() -> dict[str, list[str]]:
    """The filter parameters of the current URL (several values for teams, environments)."""
    found = {name: st.query_params.get_all(name) for name in FILTER_PARAMS}
    return {name: values for name, values in found.items() if values}


def trace_url(trace_id: str) -> str:
    """A relative link to one trace with the current filters (works under a base path too)."""
    return "traces?" + urlencode({TRACE_PARAM: trace_id, **filter_params()}, doseq=True)


def back_to_traces() -> None:
    """A link back to the traces list as it was: same filters and the same search fields."""
    params = {
        name: st.query_params.get_all(name) for name in st.query_params if name != TRACE_PARAM
    }
    try:
        st.page_link(
            TRACES_PAGE, label="Back to traces", icon=":material/arrow_back:", query_params=params
        )
    except st.errors.StreamlitAPIException:
        # The Traces page is not registered in this session (e.g. a page opened alone).
        st.markdown(f"[← Back to traces](traces?{urlencode(params, doseq=True)})")
