"""A dashboard block declared once: its query, caption, columns, chart or figures, and limits.

A :class:`BlockSpec` builds, from a :class:`Source` (filters plus a query runner),
one of three Streamlit-free blocks: :class:`Figures` (KPI cards), :class:`Chart`
or :class:`Table`. The page draws it through ``ui/block_view.py``; the report item of
the same key turns it into PDF or HTML (``telemetry/reports/items.py``). Both get the
same caption, titles and formats, so they cannot drift.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import altair as alt
import pandas as pd
from sqlalchemy import Engine

from telemetry import queries
from telemetry.blocks.formats import TEXT, Format
from telemetry.filters import Filters

KINDS = ("kpis", "chart", "table")


@dataclass(frozen=True)
class Fidelity:
    """Filter fidelity (docs/metrics.md): exact, or approximate with what was approximated."""

    approximated: str = ""

    @property
    def exact(self) -> bool:
        return not self.approximated

    @property
    def label(self) -> str:
        return "exact" if self.exact else f"approximate: {self.approximated}"


EXACT = Fidelity()


@dataclass(frozen=True)
class Snapshot:
    """How much of the user list a users block holds: complete, partial (N of M), unavailable."""

    shown: int
    total: int
    available: bool = True

    @property
    def label(self) -> str:
        if not self.available:
            return "unavailable"
        if self.shown >= self.total:
            return "complete"
        return f"partial ({self.shown:,} of {self.total:,} users)"


@dataclass(frozen=True)
class Column:
    """One column of a table block, in display order.

    ``key``: a column that matters most (the name, cost, errors): the page keeps it in
    view at 1440 px without scrolling sideways; less important columns go to the right.
    ``width``: ``"small"``, ``"medium"`` or ``"large"`` on the page (``None``: to fit).
    """

    field: str
    title: str
    format: Format = TEXT
    key: bool = False
    help: str = ""
    width: str | None = None

    @property
    def csv_title(self) -> str:
        unit = self.format.csv_unit()
        return f"{self.title} ({unit})" if unit else self.title


@dataclass(frozen=True)
class Figure:
    """One KPI figure, already formatted.

    ``label`` is the full name (a report line, and the start of the card's help);
    ``short`` the card's label where the full one would be cut. ``note`` qualifies
    the value ("96% priced"). ``change`` is the change against the previous period
    (``"new"`` when it held no data); ``tone`` colours it: ``normal`` (up is good),
    ``inverse`` (up is bad) or ``off``.
    """

    key: str
    label: str
    value: str
    help: str = ""
    change: str | None = None
    note: str = ""
    short: str = ""
    tone: str = "normal"
    # The change rounds to nothing in its unit ("+0.0 pp", "+0 ms"): a grey zero on the page.
    flat: bool = False

    @property
    def card_label(self) -> str:
        return self.short or self.label

    @property
    def report_label(self) -> str:
        return f"{self.label} · {self.note}" if self.note else self.label


@dataclass(frozen=True)
class Figures:
    """KPI figures; ``rows`` says how many cards go on each row of the page (empty: one row)."""

    figures: tuple[Figure, ...]
    caption: str = ""
    rows: tuple[int, ...] = ()


@dataclass(frozen=True)
class Chart:
    """An Altair chart and the sentence that says what it shows.

    A chart of several ``panels`` (one per figure) lays them out ``columns`` to a row:
    the page puts each in a column of its own, a report draws them as one chart.
    """

    chart: Any
    caption: str = ""
    panels: tuple[Any, ...] = ()
    columns: int = 1

    def combined(self) -> Any:
        """The chart as one Vega-Lite view: the panels concatenated, ``columns`` to a row."""
        if not self.panels:
            return self.chart
        return alt.concat(*self.panels, columns=self.columns)


@dataclass(frozen=True)
class Table:
    """The rows of a table block (values as the query returns them) and its columns."""

    rows: pd.DataFrame
    columns: tuple[Column, ...]
    caption: str = ""
    snapshot: Snapshot | None = None

    def cells(self) -> pd.DataFrame:
        """Every cell as text, one column per :class:`Column` (what a report prints)."""
        return pd.DataFrame(
            {
                column.field: [column.format.text(value) for value in self.rows[column.field]]
                for column in self.columns
            },
            columns=[column.field for column in self.columns],
        )

    def csv_frame(self) -> pd.DataFrame:
        """The table for a CSV file: headers are the column titles, numbers rounded numbers."""
        return pd.DataFrame(
            {
                column.csv_title: column.format.csv(self.rows[column.field])
                for column in self.columns
            }
        )


Block = Figures | Chart | Table


@dataclass(frozen=True)
class Source:
    """Where a block reads: the filters and a query runner.

    ``run(function, filters, **options)`` runs a query of :mod:`telemetry.queries`:
    cached on a page, shared between the items of one report build. ``today`` is
    the UTC day the month in progress ends at; ``report`` says who draws (some
    limits differ: a page scrolls, a PDF does not). ``engine`` and ``account`` are
    for blocks that read outside the query layer (alert rules, budgets).
    """

    filters: Filters
    run: Callable[..., Any]
    today: date
    report: bool = False
    billing_month: int | None = None
    engine: Engine | None = None
    account: Any = None

    def query(self, name: str, *, filters: Filters | None = None, **options: Any) -> Any:
        """``telemetry.queries.<name>(engine, filters, **options)``, looked up when called
        (so a query replaced in :mod:`telemetry.queries`, as tests do, is the one run)."""
        return self.run(getattr(queries, name), filters or self.filters, **options)


def _no_caption(source: Source, data: Any) -> str:
    return ""


def _exact(source: Source) -> Fidelity:
    return EXACT


def listed_rows(data: Any) -> pd.DataFrame:
    """A query's rows: the frame itself, or the ``rows`` of a capped listing."""
    return data.rows if hasattr(data, "rows") else data


Loader = str | Callable[[Source], Any]


@dataclass(frozen=True)
class BlockSpec:
    """One dashboard block, declared once (see the module docstring).

    ``query``: a :mod:`telemetry.queries` function name, run with ``options`` (a
    mapping, or a function of the source for options that depend on it), or a
    function of the source for blocks that read elsewhere. ``caption(source, data)``
    says what the block shows. Tables: ``columns`` and ``rows(data)``; charts:
    ``chart(source, data)`` (a list of charts: panels, ``panel_columns`` to a row);
    KPI figures: ``figures(source, data)`` and ``card_rows``.
    ``limit``: how many rows a "top N" block keeps. ``lists_users``: a list of users,
    whose report item states its snapshot (complete, N of M).
    """

    key: str
    title: str
    kind: str
    description: str
    query: Loader
    options: Mapping[str, Any] | Callable[[Source], Mapping[str, Any]] = field(default_factory=dict)
    caption: Callable[[Source, Any], str] = _no_caption
    columns: tuple[Column, ...] = ()
    rows: Callable[[Any], pd.DataFrame] = listed_rows
    chart: Callable[[Source, Any], Any] | None = None
    figures: Callable[[Source, Any], tuple[Figure, ...]] | None = None
    card_rows: tuple[int, ...] = ()
    panel_columns: int = 1
    limit: int | None = None
    lists_users: bool = False
    fidelity: Callable[[Source], Fidelity] = _exact

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"block {self.key}: kind {self.kind!r} is not one of {KINDS}")

    @property
    def module(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def key_titles(self) -> tuple[str, ...]:
        """The titles of the key columns (what must stay in view)."""
        return tuple(column.title for column in self.columns if column.key)

    def load(self, source: Source, **extra: Any) -> Any:
        """The block's data: its query with its options (``extra`` adds or overrides)."""
        if callable(self.query):
            return self.query(source)
        options = self.options(source) if callable(self.options) else dict(self.options)
        return source.query(self.query, **{**options, **extra})

    def build(self, source: Source, data: Any = None, **extra: Any) -> Block:
        """The block drawn from ``data`` (read with :meth:`load` when not given)."""
        if data is None:
            data = self.load(source, **extra)
        caption = self.caption(source, data)
        if self.kind == "table":
            rows = self.rows(data)
            snapshot = Snapshot(len(rows), data.matched) if self.lists_users else None
            return Table(rows, self.columns, caption, snapshot)
        if self.kind == "chart":
            drawn = self.chart(source, data)
            if isinstance(drawn, list | tuple):
                return Chart(None, caption, panels=tuple(drawn), columns=self.panel_columns)
            return Chart(drawn, caption)
        return Figures(self.figures(source, data), caption, self.card_rows)
