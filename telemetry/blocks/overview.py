"""The Overview blocks: KPI cards against the previous period, activity, modules, top agents."""

from __future__ import annotations

from telemetry import format as fmt
from telemetry.blocks.common import environment_fidelity, kpi_figure
from telemetry.blocks.formats import COUNT, RATIO, USD
from telemetry.blocks.model import BlockSpec, Column, Figure, Source
from telemetry.charts.base import activity_chart, module_chart
from telemetry.queries import Kpi

TITLE = "Overview"
TOP_AGENTS = 10
# The cards, two rows of five: adoption, then activity and cost.
CARD_ORDER = (
    ("users_total", "users_active", "users_new", "activation_rate", "sessions"),
    ("traces", "error_rate", "cost_usd", "priced_share", "tokens"),
)
# Where "up" is bad, or neither good nor bad, the change is coloured so.
TONES = {"error_rate": "inverse", "cost_usd": "off", "tokens": "off", "priced_share": "off"}
# Short card labels; the full one starts the card's help.
SHORT = {"tokens": "Tokens", "priced_share": "Priced share"}


def _figures(source: Source, kpis: list[Kpi]) -> tuple[Figure, ...]:
    by_key = {kpi.key: kpi for kpi in kpis}
    previous = fmt.day_span(source.filters.previous())
    priced = by_key["priced_share"].value
    figures = []
    for key in (key for row in CARD_ORDER for key in row):
        note = fmt.priced_text(priced) if key == "cost_usd" and priced is not None else ""
        figures.append(
            kpi_figure(
                by_key[key],
                previous,
                tone=TONES.get(key, "normal"),
                note=note,
                short=SHORT.get(key, ""),
            )
        )
    return tuple(figures)


def _kpis_caption(source: Source, kpis) -> str:
    return (
        f"Each figure against the previous period, {fmt.day_span(source.filters.previous())} "
        '("new" when that period holds no data); the help of a card gives its formula.'
    )


def _modules_caption(source: Source, usage) -> str:
    active = source.query("adoption").active_modules
    return f"{fmt.count(active)} active modules (service.name) in the period."


KPIS = BlockSpec(
    "overview.kpis",
    "Key figures",
    "kpis",
    "Users, runs, sessions, error rate, cost and tokens against the previous period.",
    query="overview_kpis",
    caption=_kpis_caption,
    figures=_figures,
    card_rows=tuple(len(row) for row in CARD_ORDER),
    fidelity=environment_fidelity("Total users and the activation rate"),
)
ACTIVITY = BlockSpec(
    "overview.activity",
    "Activity",
    "chart",
    "Runs and active users per time bucket.",
    query="activity_timeline",
    caption=lambda source, timeline: (
        f"Runs (bars) and active users (line) per {source.filters.grouping.value}, UTC."
    ),
    chart=lambda source, timeline: activity_chart(timeline, source.filters.grouping),
)
MODULES = BlockSpec(
    "overview.modules",
    "Modules",
    "chart",
    "Runs per module.",
    query="module_usage",
    caption=_modules_caption,
    chart=lambda source, usage: module_chart(usage),
)
TOP_AGENTS_TABLE = BlockSpec(
    "overview.top_agents",
    "Top agents",
    "table",
    "The busiest agents: runs, active users, error rate, cost.",
    query="top_agents",
    options={"limit": TOP_AGENTS},
    caption=lambda source, agents: (
        f"The {TOP_AGENTS} agents with the most runs; error rate = errors ÷ finished runs."
    ),
    columns=(
        Column("agent", "Agent", key=True),
        Column("traces", "Runs", COUNT),
        Column("error_rate", "Error rate", RATIO, key=True),
        Column("cost_usd", "Cost (USD)", USD, key=True),
        Column("users_active", "Active users", COUNT),
    ),
    limit=TOP_AGENTS,
)

BLOCKS = (KPIS, ACTIVITY, MODULES, TOP_AGENTS_TABLE)
