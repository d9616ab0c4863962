"""Building blocks of the Analytics page: figure cards, tables with a safe CSV download,
durations, and the sentence that says why a block is empty."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from telemetry import format as fmt
from telemetry.csvsafe import to_safe_csv
from telemetry.db import database_url
from telemetry.filters import Filters
from telemetry.queries import Kpi
from ui.cache import org_has_traces

# Where "up" is bad, or neither good nor bad, the card's delta is coloured so.
DELTA_COLORS = {
    "errors": "inverse",
    "error_rate": "inverse",
    "timeouts": "inverse",
    "input_tokens": "off",
    "output_tokens": "off",
    "cache_read_tokens": "off",
    "session_time_mean_s": "off",
    "session_time_median_s": "off",
}


def duration_text(seconds: float | None) -> str:
    """A duration for people: ``850 ms``, ``42.0 s``, ``12 min 05 s``, ``3 h 20 min``."""
    if seconds is None or pd.isna(seconds):
        return fmt.MISSING
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def value_text(value: float | int | None, unit: str) -> str:
    return duration_text(value) if unit == "seconds" else fmt.value_text(value, unit)


def change_text(kpi: Kpi) -> str | None:
    change = kpi.change
    if change is None:
        return None
    if kpi.unit == "seconds":
        return ("-" if change < 0 else "+") + duration_text(abs(change))
    return fmt.change_text(change, kpi.unit)


def figure_cards(kpis: Sequence[Kpi], filters: Filters, *, rows: Sequence[int] = (6, 5)) -> None:
    """One card per figure with its change against the previous period of equal length.

    ``rows`` says how many cards go on each row (the last row takes the rest).
    """
    previous = filters.previous()
    start = 0
    for index, size in enumerate(rows):
        chunk = kpis[start:] if index == len(rows) - 1 else kpis[start : start + size]
        start += size
        for column, kpi in zip(st.columns(max(size, len(chunk))), chunk, strict=False):
            change = kpi.change
            column.metric(
                kpi.label,
                value_text(kpi.value, kpi.unit),
                delta=0 if change == 0 else change_text(kpi),
                delta_color=DELTA_COLORS.get(kpi.key, "normal"),
                delta_description=None if change is None else f"vs previous {previous.days} days",
                help=f"Previous period ({fmt.day_span(previous)}): "
                f"{value_text(kpi.previous, kpi.unit)}.",
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
    st.download_button(
        "Download CSV",
        to_safe_csv(frame),
        file_name=f"{name}_{filters.org}_{filters.start}_{filters.end}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key=f"download-{name}",
    )


def why_empty(filters: Filters, version: int, what: str) -> str:
    """Why ``what`` has nothing to show, and what to try."""
    if filters.teams == ():
        return f"No {what}: no team is selected for your account."
    if not org_has_traces(database_url(), filters.org, version):
        return (
            f"No {what}: organization **{filters.org}** has not received any telemetry yet. "
            "Point your agents' OpenTelemetry exporter at `/v1/traces` on this server, or "
            "import files with `python -m telemetry ingest FILE`."
        )
    return (
        f"No {what} in {fmt.day_span(filters)} for {fmt.team_text(filters.teams)} and "
        f"{fmt.environment_text(filters.environments)}. Try a longer period or fewer filters."
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
