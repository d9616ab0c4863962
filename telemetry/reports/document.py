"""What both report formats say the same way: header facts, fidelity, snapshot, table cells.

The text functions return plain (unescaped) text; each renderer escapes it for
its format. The ``*_html`` ones return fragments both renderers write alike.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC
from html import escape
from typing import Any

import pandas as pd

from telemetry import format as fmt
from telemetry.blocks.catalog import MODULE_TITLES
from telemetry.reports.model import (
    ChartBlock,
    ItemResult,
    KpiBlock,
    Report,
    TableBlock,
)
from telemetry.timeutil import from_us, month_number, month_start

# Charts without a width of their own get this one, in CSS pixels (fits A4 portrait).
CHART_WIDTH = 620
BILLING_MODULE = "billing"


@dataclass(frozen=True)
class Section:
    """One module of a report and its items, in the order the request lists them."""

    module: str
    title: str
    results: tuple[ItemResult, ...]


def title(report: Report) -> str:
    request = report.request
    organization = request.organization_name or request.filters.org
    return f"Telemetry report: {organization}"


def generated_at_text(generated_at_us: int) -> str:
    return from_us(generated_at_us).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def billing_month_text(report: Report) -> str:
    """The billing month; the builder takes the month of generation when none was chosen."""
    request = report.request
    month = request.billing_month
    if month is None:
        if BILLING_MODULE not in request.modules:
            return "none (no Billing module)"
        month = month_number(from_us(request.generated_at_us).date())
    return month_start(month).strftime("%B %Y")


def header_facts(report: Report) -> list[tuple[str, str]]:
    """The header lines as (label, text): organization, period, billing month, filters, who/when."""
    request = report.request
    filters = request.filters
    organization = request.organization_name or filters.org
    if request.organization_name and request.organization_name != filters.org:
        organization = f"{request.organization_name} ({filters.org})"
    environments = filters.environments
    if environments is None:
        environment_text = "all environments"
    else:
        environment_text = ", ".join(environments) or "no environment"
    return [
        ("Organization", organization),
        ("Period", f"{fmt.day_span(filters)}, UTC"),
        ("Billing month", billing_month_text(report)),
        ("Teams", fmt.team_text(filters.teams)),
        ("Environments", environment_text),
        ("Grouping", str(filters.grouping)),
        ("Generated", f"{generated_at_text(request.generated_at_us)} by {request.generated_by}"),
    ]


def failure_summary(report: Report) -> str:
    """One sentence naming the failed items, or "" when every item was built."""
    failed = report.failed
    if not failed:
        return ""
    names = ", ".join(f"{result.title} ({result.key})" for result in failed)
    return f"{len(failed)} of {len(report.results)} items failed: {names}."


def sections(report: Report) -> list[Section]:
    order = list(dict.fromkeys(result.module for result in report.results))
    return [
        Section(
            module=module,
            title=MODULE_TITLES.get(module, module.replace("_", " ").title()),
            results=tuple(result for result in report.results if result.module == module),
        )
        for module in order
    ]


def fidelity_text(result: ItemResult) -> str:
    if result.failed:
        return "Filter fidelity: not applicable (the item failed)"
    return f"Filter fidelity: {result.fidelity.label}"


def snapshot_text(result: ItemResult) -> str:
    """The user snapshot line of a block that lists users ("" for any other block)."""
    snapshot = result.snapshot
    if snapshot is None and isinstance(result.block, TableBlock):
        snapshot = result.block.snapshot
    return f"User snapshot: {snapshot.label}" if snapshot is not None else ""


def kpi_rows(block: KpiBlock) -> list[tuple[str, str, str, str]]:
    """(label, value, change, help) per KPI line; change and help are "" when there is none."""
    return [(line.label, line.value, line.change or "", line.help) for line in block.lines]


def table_cells(block: TableBlock) -> tuple[list[str], list[list[str]]]:
    """Headings and rows of a table block as text, in the block's column order."""
    keys = [key for key in block.columns if key in block.frame.columns]
    headings = [block.columns[key] for key in keys]
    rows = [[_cell(value) for value in row] for row in block.frame[keys].itertuples(index=False)]
    return headings, rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def sized_spec(block: ChartBlock) -> dict[str, Any]:
    """The chart's spec without its $schema URL, given a page-wide width when it has none.

    Only single and layered views get a width: concatenated or faceted charts size their parts.
    """
    spec = copy.deepcopy(block.spec)
    spec.pop("$schema", None)
    single_view = "mark" in spec or "layer" in spec
    if single_view and "width" not in spec:
        spec["width"] = CHART_WIDTH
    return spec


# Both formats are HTML (the PDF is laid out from HTML by xhtml2pdf); these fragments read
# the same in both, already escaped.


def meta_html(result: ItemResult) -> str:
    """The item's fidelity and snapshot lines as ``meta`` paragraphs."""
    lines = [fidelity_text(result)]
    snapshot = snapshot_text(result)
    if snapshot:
        lines.append(snapshot)
    return "".join(f'<p class="meta">{escape(line)}</p>' for line in lines)


def failure_html(result: ItemResult) -> str:
    return f'<p class="error">This item failed: {escape(result.error or "unknown error")}</p>'


def chart_error_html(error: Exception) -> str:
    return f'<p class="error">This chart could not be drawn: {escape(str(error))}</p>'


def caption_html(text: str) -> str:
    return f'<p class="caption">{escape(text)}</p>' if text else ""


def table_html(block: TableBlock) -> tuple[str, str]:
    """The heading cells and the body rows of a table block ("(no rows)" when it has none)."""
    headings, rows = table_cells(block)
    head = "".join(f"<th>{escape(heading)}</th>" for heading in headings)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    if not rows:
        body = f'<tr><td colspan="{max(1, len(headings))}">(no rows)</td></tr>'
    return head, body
