"""The top of every page: its title, what the filters select, and notices about them."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from telemetry import format as fmt
from telemetry.demo import DEMO_ORG
from telemetry.filters import Filters
from ui import plain
from ui.filters import View, current_view


def page_header(title: str, *, compares: bool = False) -> View:
    """Draw the page's title, the filter summary and any notice; return the run's View.

    ``compares``: the page shows changes against the previous period, so say which.
    """
    view = current_view()
    st.title(title)
    summary = filter_summary(view.filters)
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
        st.warning(notice, icon=":material/lock:")  # names in it are plain text already
    return view


def filter_summary(filters: Filters) -> str:
    """``fmt.describe`` as Markdown: the organization, team and environment names (they
    come from telemetry) as plain text."""

    def inert(names: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if names is None else tuple(plain.text(name) for name in names)

    shown = replace(
        filters,
        org=plain.text(filters.org),
        teams=inert(filters.teams),
        environments=inert(filters.environments),
    )
    return fmt.describe(shown)
