"""The sentence that says why an Analytics block is empty, and what to try."""

from __future__ import annotations

import streamlit as st

from telemetry import format as fmt
from telemetry.db import database_url
from telemetry.filters import Filters
from ui import plain
from ui.cache import org_has_traces


def why_empty(filters: Filters, version: int, what: str) -> str:
    """Why ``what`` has nothing to show, and what to try."""
    if filters.teams == ():
        return f"No {what}: no team is selected for your account."
    if not org_has_traces(database_url(), filters.org, version):
        return (
            f"No {what}: organization **{plain.text(filters.org)}** has not received any "
            "telemetry yet. "
            "Point your agents' OpenTelemetry exporter at `/v1/traces` on this server, or "
            "import files with `python -m telemetry ingest FILE`."
        )
    return (
        f"No {what} in {fmt.day_span(filters)} for {plain.text(fmt.team_text(filters.teams))} "
        f"and {plain.text(fmt.environment_text(filters.environments))}. Try a longer period or "
        "fewer filters."
    )


def empty_note(filters: Filters, version: int, what: str) -> None:
    st.info(why_empty(filters, version, what), icon=":material/info:")
