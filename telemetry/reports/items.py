"""Report items made from block specs (telemetry/blocks): the page's block, written for a report.

Each item builds its :class:`~telemetry.blocks.model.BlockSpec` from a report
:class:`~telemetry.blocks.model.Source` (the request's filters, queries shared
within the build) and turns the block into text: KPI lines, a Vega-Lite spec,
table cells in each column's format. Caption, titles and formats are the spec's,
so a report item reads as its page block does.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

from sqlalchemy import Engine

from telemetry.accounts import ADMIN, MANAGER, Account
from telemetry.blocks.model import Block, BlockSpec, Chart, Fidelity, Figures, Source, Table
from telemetry.reports import shared
from telemetry.reports.model import Block as ReportBlock
from telemetry.reports.model import (
    ChartBlock,
    ItemSpec,
    KpiBlock,
    KpiLine,
    ReportRequest,
    TableBlock,
)
from telemetry.timeutil import from_us


def report_day(request: ReportRequest) -> date:
    """The UTC day the report was generated: "today" for the billing month in progress."""
    return from_us(request.generated_at_us).date()


def reader(request: ReportRequest) -> Account:
    """An account seeing what the report's filters allow: every team, or the listed ones."""
    filters = request.filters
    if filters.teams is None:
        return Account(request.generated_by, request.generated_by, ADMIN)
    return Account(
        request.generated_by, request.generated_by, MANAGER, ((filters.org, filters.teams),)
    )


def source_for(engine: Engine, request: ReportRequest) -> Source:
    """Where a report's blocks read: the request's filters, day and billing month."""
    return Source(
        filters=request.filters,
        run=partial(_shared_query, engine),
        today=report_day(request),
        report=True,
        billing_month=request.billing_month,
        engine=engine,
        account=reader(request),
    )


def _shared_query(engine: Engine, function, filters, **options: Any) -> Any:
    return shared.query(function, engine, filters, **options)


def report_block(block: Block) -> ReportBlock:
    """A built block as the report renderers take it: text lines, a chart spec, text cells."""
    if isinstance(block, Figures):
        lines = tuple(
            KpiLine(figure.report_label, figure.value, figure.change, figure.help)
            for figure in block.figures
        )
        return KpiBlock(lines, block.caption)
    if isinstance(block, Chart):
        return ChartBlock(block.combined().to_dict(), block.caption)
    if isinstance(block, Table):
        headings = {column.field: column.title for column in block.columns}
        return TableBlock(block.cells(), headings, block.caption, block.snapshot)
    raise TypeError(f"not a block: {type(block).__name__}")


def item(spec: BlockSpec) -> ItemSpec:
    """The report item of ``spec``: same key, title and description."""

    def build(engine: Engine, request: ReportRequest) -> tuple[ReportBlock, Fidelity]:
        source = source_for(engine, request)
        return report_block(spec.build(source)), spec.fidelity(source)

    return ItemSpec(
        spec.key,
        spec.module,
        spec.title,
        spec.kind,
        build,
        spec.description,
        lists_users=spec.lists_users,
    )
