"""Draws a block (telemetry/blocks) on a page: KPI cards, a chart, or a table with its CSV.

Every block sits in a container keyed ``block-<module>-<item>`` (a CSS class
``st-key-block-...`` in the browser), under its caption. Captions and help are
made plain text (ui/plain.py) before Streamlit reads them as Markdown; table
cells are text already. A table's columns come from the spec: titles, one format
and precision per column, missing values as a dash, and a CSV whose headers are
the column titles and whose numbers are rounded numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from telemetry import kpi_text
from telemetry.blocks.formats import MISSING, Format
from telemetry.blocks.model import BlockSpec, Chart, Column, Figure, Figures, Source, Table
from telemetry.filters import Filters
from ui import plain
from ui.cache import cached_query, get_engine
from ui.downloads import csv_download
from ui.periods import utc_today

# Streamlit's moment.js patterns for the strftime clocks of telemetry/blocks/formats.py.
_MOMENT_CLOCKS = {"%H:%M": "D MMM YYYY, HH:mm", "%H:%M:%S": "D MMM YYYY, HH:mm:ss"}


@dataclass(frozen=True)
class Extra:
    """A page-only column beside a block's own (a link, a sparkline): never in a report.

    ``after``: the field it follows (``None``: first).
    """

    field: str
    values: Sequence[Any]
    config: Any
    after: str | None = None


def page_source(filters: Filters, version: int, **fields: Any) -> Source:
    """Where a page's blocks read: cached queries of ``filters`` at the data ``version``."""
    fields.setdefault("today", utc_today())
    fields.setdefault("engine", get_engine())
    return Source(filters=filters, run=partial(_cached, version), **fields)


def _cached(version: int, function, filters: Filters, **options: Any) -> Any:
    return cached_query(function, filters, version, **options)


def block_key(spec: BlockSpec) -> str:
    return "block-" + spec.key.replace(".", "-")


def heading(spec: BlockSpec, title: str | bool = True) -> None:
    """The block's title as a subheader (``title``: another text, or ``False`` for none)."""
    if title:
        st.subheader(spec.title if title is True else title)


def caption(text: str) -> None:
    if text:
        st.caption(plain.text(text))


def empty(spec: BlockSpec, block: Table | Chart, *, title: str | bool = True) -> None:
    """A block with nothing to draw: its title and the caption that says so."""
    with st.container(key=block_key(spec)):
        heading(spec, title)
        caption(block.caption)


# --- KPI figures ----------------------------------------------------------------------


def figures(spec: BlockSpec, block: Figures, *, title: str | bool = False) -> None:
    """One card per figure, ``block.rows`` cards to a row; the caption above them."""
    with st.container(key=block_key(spec)):
        heading(spec, title)
        caption(block.caption)
        sizes = list(block.rows) or [len(block.figures)]
        width = max(sizes)
        start = 0
        for index, size in enumerate(sizes):
            last = index == len(sizes) - 1
            chunk = block.figures[start:] if last else block.figures[start : start + size]
            start += size
            for column, figure in zip(st.columns(width), chunk, strict=False):
                with column:
                    card(figure)


def card(figure: Figure) -> None:
    """A KPI card: short label, value, the change (a grey chip when it rounds to nothing or is
    "new") or the value's note, and help that starts with the full label."""
    label = figure.card_label
    if figure.change is not None and figure.note:
        label = f"{label} · {figure.note}"
    options: dict[str, Any] = {}
    if figure.change is not None:
        new = figure.change == kpi_text.NEW
        options = {
            "delta": 0 if figure.flat else figure.change,
            "delta_color": "off" if new else figure.tone,
            "delta_arrow": "off" if new else "auto",
        }
    elif figure.note:
        options = {"delta": figure.note, "delta_color": "off", "delta_arrow": "off"}
    help_text = figure.help
    if figure.short and not help_text.startswith(figure.label):
        help_text = f"{figure.label}. {help_text}"
    st.metric(label, figure.value, help=plain.text(help_text), border=True, **options)


# --- charts ---------------------------------------------------------------------------


def chart(
    spec: BlockSpec, block: Chart, *, title: str | bool = True, hint: str = "", **options: Any
):
    """The chart under its caption (``hint``: a page-only sentence after it, such as how to
    select). ``options`` go to ``st.altair_chart`` (``on_select``, ``key``)."""
    with st.container(key=block_key(spec)):
        heading(spec, title)
        caption(block.caption)
        if block.panels:
            columns = st.columns(block.columns)
            for index, panel in enumerate(block.panels):
                with columns[index % block.columns]:
                    st.altair_chart(panel, width="stretch", **options)
            shown = None
        else:
            shown = st.altair_chart(block.chart, width="stretch", **options)
        caption(hint)
    return shown


# --- tables ---------------------------------------------------------------------------


def table(
    spec: BlockSpec,
    block: Table,
    filters: Filters,
    *,
    title: str | bool = True,
    extras: Sequence[Extra] = (),
    csv_name: str | None = None,
    notes: Sequence[str] = (),
    **options: Any,
):
    """The table under its caption, then its CSV download (``csv_name=""``: none).

    ``extras``: page-only columns (links, sparklines); ``notes``: page-only captions
    after the block's own (how to open a row). ``options`` go to ``st.dataframe``
    (``key``, ``on_select``, ``selection_mode``).
    """
    with st.container(key=block_key(spec)):
        heading(spec, title)
        caption(block.caption)
        for note in notes:
            caption(note)
        frame, order = shown_frame(block, extras)
        config = column_config(block.columns)
        config.update({extra.field: extra.config for extra in extras})
        shown = st.dataframe(
            frame,
            hide_index=True,
            width="stretch",
            column_order=order,
            column_config=config,
            placeholder=MISSING,
            **options,
        )
        name = spec.key.replace(".", "-").replace("_", "-") if csv_name is None else csv_name
        if name:
            csv_download(block.csv_frame(), filters, name, key=f"{name}_csv")
    return shown


def shown_frame(block: Table, extras: Sequence[Extra] = ()) -> tuple[pd.DataFrame, list[str]]:
    """The rows as the grid takes them (each column's values in its shown unit), and the
    column order with the extras in their places."""
    data = {
        column.field: _grid_values(column.format, block.rows[column.field])
        for column in block.columns
    }
    order = [column.field for column in block.columns]
    for extra in extras:
        data[extra.field] = list(extra.values)
        order.insert(order.index(extra.after) + 1 if extra.after in order else 0, extra.field)
    return pd.DataFrame(data, index=block.rows.index), order


def _grid_values(format: Format, values: pd.Series) -> pd.Series:
    if format.kind == "seconds":
        seconds = format.values(values).round(format.decimals)
        return pd.to_timedelta(seconds, unit="s")  # drawn as "35 min, 5 sec"
    if format.kind == "datetime":
        return pd.to_datetime(values)
    return format.values(values)


def column_config(columns: Sequence[Column]) -> dict[str, Any]:
    """Streamlit's column settings of each column: its title, help, width and format."""
    return {column.field: _config(column) for column in columns}


def _config(column: Column) -> Any:
    common = {"help": plain.text(column.help) or None, "width": column.width}
    kind, decimals = column.format.kind, column.format.decimals
    number = st.column_config.NumberColumn
    if kind == "count":
        return number(column.title, format="localized", step=1, **common)
    if kind == "number":
        return number(column.title, format="localized", step=10**-decimals, **common)
    if kind == "ratio":
        return number(column.title, format="percent", step=10 ** -(decimals + 2), **common)
    if kind == "usd":
        return number(column.title, format="dollar", step=10**-decimals, **common)
    if kind == "seconds":
        return number(column.title, format="localized", **common)
    if kind == "datetime":
        moment = _MOMENT_CLOCKS.get(column.format.clock, _MOMENT_CLOCKS["%H:%M"])
        return st.column_config.DatetimeColumn(column.title, format=moment, **common)
    return st.column_config.TextColumn(column.title, **common)
