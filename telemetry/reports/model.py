"""What a report is made of: the request, the items it can hold, and each item's built block.

The builder (:mod:`telemetry.reports.builder`) turns a :class:`ReportRequest`
into a :class:`Report` item by item; the renderers turn a :class:`Report` into
PDF or HTML. Nothing here touches the database or a file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import pandas as pd
from sqlalchemy import Engine

# Re-exported: report code has always found them here.
from telemetry.blocks.model import EXACT as EXACT
from telemetry.blocks.model import Fidelity as Fidelity
from telemetry.blocks.model import Snapshot as Snapshot
from telemetry.filters import Filters


class ReportFormat(StrEnum):
    PDF = "pdf"
    HTML = "html"


class ItemStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"


@dataclass(frozen=True)
class ReportRequest:
    """Everything that decides a report's content.

    ``filters`` already carries the caller's scoping: a manager's request has
    ``teams`` limited to their own teams before it reaches the builder.
    ``items`` are item keys (``"module.item"``) in the order the report shows them.
    ``billing_month`` is a ``timeutil.month_number`` or ``None`` (no Billing module).
    """

    filters: Filters
    format: ReportFormat
    items: tuple[str, ...]
    generated_by: str
    generated_at_us: int
    billing_month: int | None = None
    organization_name: str = ""

    @property
    def modules(self) -> tuple[str, ...]:
        """The modules of the chosen items, in first-seen order."""
        return tuple(dict.fromkeys(key.split(".", 1)[0] for key in self.items))


@dataclass(frozen=True)
class KpiLine:
    """One figure of a KPI group, already formatted the way the pages show it."""

    label: str
    value: str
    change: str | None = None
    help: str = ""


@dataclass(frozen=True)
class KpiBlock:
    lines: tuple[KpiLine, ...]
    caption: str = ""


@dataclass(frozen=True)
class ChartBlock:
    """A Vega-Lite chart (``altair.Chart.to_dict()``) and a sentence saying what it shows."""

    spec: dict[str, Any]
    caption: str = ""


@dataclass(frozen=True)
class TableBlock:
    """A table: ``columns`` maps frame columns to headings, in display order; cells are text."""

    frame: pd.DataFrame
    columns: dict[str, str]
    caption: str = ""
    snapshot: Snapshot | None = None


Block = KpiBlock | ChartBlock | TableBlock


@dataclass(frozen=True)
class ItemSpec:
    """One item a report can include, and how to build it."""

    key: str
    module: str
    title: str
    kind: str  # "kpis", "chart" or "table"
    build: Callable[[Engine, ReportRequest], tuple[Block, Fidelity]]
    description: str = ""
    # A list of users: its result carries a Snapshot (complete, partial or unavailable).
    lists_users: bool = False


@dataclass(frozen=True)
class ItemResult:
    key: str
    module: str
    title: str
    status: ItemStatus
    block: Block | None = None
    fidelity: Fidelity = EXACT
    error: str = ""
    seconds: float = 0.0
    # For items that list users: the block's snapshot, or "unavailable" when the item failed.
    snapshot: Snapshot | None = None

    @property
    def failed(self) -> bool:
        return self.status is ItemStatus.FAILED


@dataclass(frozen=True)
class Report:
    request: ReportRequest
    results: tuple[ItemResult, ...] = field(default_factory=tuple)

    @property
    def failed(self) -> tuple[ItemResult, ...]:
        return tuple(result for result in self.results if result.failed)

    def with_results(self, results: tuple[ItemResult, ...]) -> Report:
        return replace(self, results=results)
