"""The top of every page: its title, what the filters select, and notices about them."""

from __future__ import annotations

import streamlit as st

from telemetry import format as fmt
from telemetry.demo import DEMO_ORG
from ui.filters import View, current_view


def page_header(title: str, *, compares: bool = False) -> View:
    """Draw the page's title, the filter summary and any notice; return the run's View.

    ``compares``: the page shows changes against the previous period, so say which.
    """
    view = current_view()
    st.title(title)
    summary = fmt.describe(view.filters)
    if compares:
        summary += f" · changes against {fmt.day_span(view.filters.previous())}"
    st.caption(summary)
    if view.is_demo:
        st.info(
            f"Organization **{DEMO_ORG}** holds generated demo data, not real usage. "
            "Remove it with `python -m telemetry demo --remove`.",
            icon=":material/science:",
        )
    for notice in view.notices:
        st.warning(notice, icon=":material/lock:")
    return view
