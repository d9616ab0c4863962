"""Builds shared by the report item modules: a query's frame as a table, a capped users table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import pandas as pd
from sqlalchemy import Engine

from telemetry import queries
from telemetry.reports import cells, shared
from telemetry.reports.model import EXACT, Block, Fidelity, ReportRequest, Snapshot, TableBlock

Build = Callable[[Engine, ReportRequest], tuple[Block, Fidelity]]


def table_item(query: str, columns: cells.Columns, caption: str, **options: Any) -> Build:
    """An item's build: the frame of ``telemetry.queries.<query>(engine, filters, **options)``
    as a table of ``columns`` under ``caption``, exact.

    The query is looked up by name when the item is built, as the items written out in full
    do, so a query replaced in :mod:`telemetry.queries` (a test's stand-in) is the one used.
    """

    def build(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
        frame = shared.query(getattr(queries, query), engine, request.filters, **options)
        return cells.table(frame, columns, caption=caption), EXACT

    return build


class Capped(Protocol):
    """A listing cut at its limit: the shown ``rows`` of ``matched`` in all."""

    rows: pd.DataFrame
    matched: int

    @property
    def complete(self) -> bool: ...


def capped_table(found: Capped, columns: cells.Columns, caption: str, noun: str) -> TableBlock:
    """The shown rows as a table with their snapshot; a cut list says how many of how many."""
    if not found.complete:
        caption += f" Showing the {len(found.rows):,} costliest of {found.matched:,} {noun}."
    snapshot = Snapshot(shown=len(found.rows), total=found.matched)
    return cells.table(found.rows, columns, caption=caption, snapshot=snapshot)
