"""Building blocks of the Analytics page: figure cards, tables with a safe CSV download,
durations, and the sentence that says why a block is empty."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from telemetry import format as fmt
from telemetry import kpi_text
from telemetry.db import database_url
from telemetry.filters import Filters
from telemetry.queries import Kpi
from ui import plain
from ui.cache import org_has_traces
from ui.downloads import csv_download

# Where "up" is bad, or neither good nor bad, the card's delta is coloured so.
DELTA_COLORS = {
    "errors": "inverse",
    "error_rate": "inverse",
    "timeouts": "inverse",
    "input_tokens": "off",
    "output_tokens": "off",
    "cache_read_tokens": "off",
    "session_time_median_s": "off",
    "session_time_p90_s": "off",
}


def figure_cards(kpis: Sequence[Kpi], filters: Filters, *, rows: Sequence[int] = (4, 4, 3)) -> None:
    """One card per figure with its change against the previous period ("new" without data).

    ``rows`` says how many cards go on each row (the last row takes the rest): four
    to a row, so that at 1440 px "Session time (median)" and "18 min 42 s" fit. The
    help says the figure's formula with its numbers, and the previous period's.
    """
    previous = fmt.day_span(filters.previous())
    start = 0
    for index, size in enumerate(rows):
        chunk = kpis[start:] if index == len(rows) - 1 else kpis[start : start + size]
        start += size
        for column, kpi in zip(st.columns(max(size, len(chunk))), chunk, strict=False):
            change = kpi_text.change_text(kpi)
            new = change == kpi_text.NEW
            column.metric(
                kpi.label,
                fmt.figure_text(kpi.value, kpi.unit),
                delta=0 if kpi.change == 0 else change,
                delta_color="off" if new else DELTA_COLORS.get(kpi.key, "normal"),
                delta_arrow="off" if new else "auto",
                help=kpi_text.help_text(kpi, previous),
                border=True,
            )


def seconds_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Millisecond columns (``*_ms``) shown and exported as seconds (``*_s``)."""
    shown = frame.copy()
    for column in [c for c in frame.columns if c.endswith("_ms")]:
        shown[column[: -len("_ms")] + "_s"] = pd.to_numeric(shown.pop(column)) / 1000
    return shown[[c[: -len("_ms")] + "_s" if c.endswith("_ms") else c for c in frame.columns]]


def table_with_download(
    frame: pd.DataFrame, filters: Filters, *, name: str, column_config: dict
) -> None:
    """The table, then a CSV download of exactly its rows (formula-like cells neutralised)."""
    st.dataframe(frame, hide_index=True, width="stretch", column_config=column_config)
    csv_download(frame, filters, name, key=f"download-{name}")


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


def count_column(label: str, help: str | None = None):
    return st.column_config.NumberColumn(label, format="localized", help=help)


def percent_column(label: str, help: str | None = None):
    return st.column_config.NumberColumn(label, format="percent", help=help)


def seconds_column(label: str, help: str | None = None):
    return st.column_config.NumberColumn(label, format="%.2f s", help=help)


def dollar_column(label: str, help: str | None = None):
    return st.column_config.NumberColumn(label, format="dollar", help=help)
