"""The Overview module's report items: KPI cards, activity, modules and top agents."""

from __future__ import annotations

from sqlalchemy import Engine

from telemetry import format as fmt
from telemetry import kpi_text, queries
from telemetry.charts.base import activity_chart, module_chart
from telemetry.reports import cells, shared
from telemetry.reports.items_common import table_item
from telemetry.reports.model import (
    EXACT,
    Block,
    ChartBlock,
    Fidelity,
    ItemSpec,
    KpiBlock,
    ReportRequest,
)

MODULE = "overview"
TITLE = "Overview"
TOP_AGENTS = 10


def kpis(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    """The Overview's KPI cards, each with its change against the previous period.

    Value, change ("new" when the previous period held no data) and help (formula
    with its numbers) are the dashboard cards' own (:mod:`telemetry.kpi_text`).
    """
    filters = request.filters
    found = shared.query(queries.overview_kpis, engine, filters)
    priced = next(kpi.value for kpi in found if kpi.key == "priced_share")
    previous = fmt.day_span(filters.previous())
    lines = []
    for kpi in found:
        label = kpi.label
        if kpi.key == "cost_usd" and priced is not None:
            label = f"{kpi.label} · {fmt.priced_text(priced)}"
        lines.append(
            cells.line(
                label,
                fmt.value_text(kpi.value, kpi.unit),
                help=kpi_text.help_text(kpi, previous),
                change=kpi_text.change_text(kpi),
            )
        )
    fidelity = cells.environment_fidelity(filters, "Total users and the activation rate")
    return KpiBlock(tuple(lines)), fidelity


def activity(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    filters = request.filters
    timeline = shared.query(queries.activity_timeline, engine, filters)
    caption = f"Runs (bars) and active users (line) per {filters.grouping.value}, UTC."
    return ChartBlock(activity_chart(timeline, filters.grouping).to_dict(), caption), EXACT


def modules(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    usage = shared.query(queries.module_usage, engine, request.filters)
    active = shared.query(queries.adoption, engine, request.filters).active_modules
    caption = f"{fmt.count(active)} active modules (service.name) in the period."
    return ChartBlock(module_chart(usage).to_dict(), caption), EXACT


top_agents = table_item(
    "top_agents",
    {
        "agent": ("Agent", cells.text),
        "traces": ("Runs", cells.count),
        "users_active": ("Active users", cells.count),
        "error_rate": ("Error rate", cells.percent),
        "cost_usd": ("Cost (USD)", cells.dollars),
    },
    f"The {TOP_AGENTS} agents with the most runs; error rate = errors ÷ finished runs.",
    limit=TOP_AGENTS,
)


ITEMS = (
    ItemSpec(
        "overview.kpis",
        MODULE,
        "Key figures",
        "kpis",
        kpis,
        "Users, runs, sessions, error rate, cost and tokens against the previous period.",
    ),
    ItemSpec(
        "overview.activity",
        MODULE,
        "Activity",
        "chart",
        activity,
        "Runs and active users per time bucket.",
    ),
    ItemSpec("overview.modules", MODULE, "Modules", "chart", modules, "Runs per module."),
    ItemSpec(
        "overview.top_agents",
        MODULE,
        "Top agents",
        "table",
        top_agents,
        "The busiest agents: runs, active users, error rate, cost.",
    ),
)
