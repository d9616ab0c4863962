"""A pager for lists paginated in SQL: page size, page number, "page x of y · n matches".

The page and size live in the session state under ``<prefix>_page`` and
``<prefix>_size``; the list's query reads them first (:func:`current`), the
pager draws below the rows once the total is known (:func:`draw`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

import pandas as pd
import streamlit as st

from telemetry.filters import Filters
from ui.downloads import csv_download

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_SIZE = 50


def current(prefix: str) -> tuple[int, int]:
    """The page (from 1) and page size to query."""
    size = st.session_state.get(f"{prefix}_size", DEFAULT_SIZE)
    page = st.session_state.get(f"{prefix}_page", 1)
    return max(int(page or 1), 1), int(size if size in PAGE_SIZES else DEFAULT_SIZE)


def go_to(prefix: str, page: int) -> None:
    """Make ``page`` the page to show (call before the pager is drawn in this run)."""
    st.session_state[f"{prefix}_page"] = max(int(page), 1)


def first_page(prefix: str) -> None:
    """Back to page 1: a callback for widgets that change what the list holds."""
    go_to(prefix, 1)


def draw(prefix: str, *, pages: int, total: int, capped: bool, noun: str) -> None:
    """Page size and page number inputs and where the shown page sits among the matches.

    ``total`` matches (at least that many when ``capped``) of a singular ``noun``.
    """
    size_col, page_col, text_col = st.columns([1, 1, 3], vertical_alignment="bottom")
    size_col.selectbox(
        "Rows per page",
        PAGE_SIZES,
        index=PAGE_SIZES.index(DEFAULT_SIZE),
        key=f"{prefix}_size",
        on_change=first_page,
        args=(prefix,),
    )
    page = page_col.number_input(
        "Page", min_value=1, max_value=max(pages, 1), step=1, key=f"{prefix}_page"
    )
    text_col.caption(f"Page {page:,} of {pages:,} · {count_text(total, capped, noun)}")


def count_text(total: int, capped: bool, noun: str) -> str:
    """ "10,579 traces", or past the count's cap "more than 100,000 traces (counted up to
    100,000)" (the cap is the query's, telemetry.queries.traces.COUNT_CAP)."""
    if capped:
        return f"more than {total:,} {noun}s (counted up to {total:,})"
    return f"{total:,} {noun}{'s' * (total != 1)}"


class _Paged(Protocol):
    pages: int


Page = TypeVar("Page", bound=_Paged)


def load_current(prefix: str, load_page: Callable[[int, int], Page]) -> Page:
    """``load_page(page, size)`` of the page the pager points at; the last page when the list
    got shorter than that (a page beyond the end would show nothing)."""
    page, size = current(prefix)
    found = load_page(page, size)
    if page > found.pages:
        go_to(prefix, found.pages)
        found = load_page(found.pages, size)
    return found


def download_page(prefix: str, rows: pd.DataFrame, filters: Filters, page: int) -> None:
    """The shown page as CSV (formula-like cells neutralised), named after list, scope and page."""
    csv_download(
        rows,
        filters,
        prefix,
        key=f"{prefix}_csv",
        label="Download CSV (this page)",
        suffix=f"_p{page}",
    )
