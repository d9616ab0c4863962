"""Pieces shared by the SQL-paginated lists (Traces, Sessions): the page, its total, the search."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Select, func, select


@dataclass(frozen=True)
class ListPage:
    """One page of a list's ``rows`` and how many rows match (at least ``total`` if capped)."""

    rows: pd.DataFrame
    total: int
    total_capped: bool
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def total_text(self) -> str:
        return f"{self.total:,}+" if self.total_capped else f"{self.total:,}"


def page_bounds(page: int, page_size: int, max_page_size: int) -> tuple[int, int]:
    """The page (from 1) and a page size between 1 and ``max_page_size``."""
    return max(int(page), 1), min(max(int(page_size), 1), max_page_size)


def capped_total(conn: Connection, matching: Select, cap: int) -> tuple[int, bool]:
    """How many rows ``matching`` selects, counted up to ``cap``; and whether there are more."""
    total = int(
        conn.execute(
            select(func.count()).select_from(matching.limit(cap + 1).subquery())
        ).scalar_one()
    )
    return min(total, cap), total > cap


def clean_search(search: Any, fields: tuple[str, ...], statuses: tuple[str, ...]) -> None:
    """Strip a frozen search's text ``fields``; refuse a ``status`` not among ``statuses``."""
    for name in fields:
        object.__setattr__(search, name, (getattr(search, name) or "").strip())
    if search.status and search.status not in statuses:
        raise ValueError(
            f"unknown trace status {search.status!r}; use one of {', '.join(statuses)}"
        )


def list_frame(records: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """The records as a frame of ``columns``: ``started`` as datetimes, ``duration_s`` numbers
    (so an empty page or one of running traces keeps those column types)."""
    frame = pd.DataFrame(records, columns=columns)
    frame["started"] = pd.to_datetime(frame["started"])
    frame["duration_s"] = pd.to_numeric(frame["duration_s"])
    return frame
