"""The Quality module's report items: feedback headline, quality per agent and model, scores."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from telemetry import format as fmt
from telemetry.queries import quality
from telemetry.reports import cells, shared
from telemetry.reports.model import EXACT, Block, Fidelity, ItemSpec, KpiBlock, ReportRequest

MODULE = "quality"
TITLE = "Quality"


def headline(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    found = shared.query(quality.quality_totals, engine, request.filters)
    lines = (
        cells.line(
            "Feedback coverage",
            fmt.percent(found.feedback_coverage),
            f"{found.rated:,} of {found.runs:,} runs have a verdict (user_feedback or review).",
        ),
        cells.line(
            "Positive rate",
            fmt.percent(found.positive_rate),
            f"{found.positive:,} of {found.rated:,} rated runs: latest verdict positive.",
        ),
        cells.line("Cost per run", fmt.dollars(found.cost_per_run), "The period's cost ÷ runs."),
        cells.line(
            "Cost per good run",
            fmt.dollars(found.cost_per_good_run),
            "The period's cost ÷ runs whose latest verdict is positive.",
        ),
    )
    return KpiBlock(lines), EXACT


def _columns(dimension: str, title: str) -> cells.Columns:
    return {
        dimension: (title, cells.text),
        "runs": ("Calls" if dimension == "model" else "Runs", cells.count),
        "rated": ("Rated", cells.count),
        "feedback_coverage": ("Coverage", cells.percent),
        "positive_rate": ("Positive rate", cells.percent),
        "cost_usd": ("Cost (USD)", cells.dollars),
        "cost_per_run": ("Cost per run", cells.dollars),
        "cost_per_good_run": ("Cost per good run", cells.dollars),
    }


def by_agent(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    frame = shared.query(quality.quality_by, engine, request.filters, dimension="agent")
    caption = "Per agent: runs, rated runs, positive rate and cost per good run."
    return cells.table(frame, _columns("agent", "Agent"), caption=caption), EXACT


def by_model(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    frame = shared.query(quality.quality_by, engine, request.filters, dimension="model")
    caption = (
        "Per model: runs with a call of the model; cost = the model's calls, so cost per good "
        "run = its spend ÷ the positively rated runs it took part in."
    )
    return cells.table(frame, _columns("model", "Model"), caption=caption), EXACT


def scores(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    found = shared.query(quality.score_summary, engine, request.filters)
    rows = [
        (
            score["name"],
            score["count"],
            score["mean"],
            ", ".join(f"{label}: {count:,}" for label, count in score["labels"].items()),
        )
        for score in found
    ]
    frame = pd.DataFrame(rows, columns=["name", "count", "mean", "labels"])
    columns = {
        "name": ("Score", cells.text),
        "count": ("Scores", cells.count),
        "mean": ("Mean value", lambda v: cells.decimal(v, 3)),
        "labels": ("Labels", cells.text),
    }
    caption = "Every score of the period's runs, per name: count, mean value, label counts."
    return cells.table(frame, columns, caption=caption), EXACT


ITEMS = (
    ItemSpec(
        "quality.headline",
        MODULE,
        "Quality at a glance",
        "kpis",
        headline,
        "Feedback coverage, positive rate, cost per run and per good run.",
    ),
    ItemSpec("quality.by_agent", MODULE, "Quality per agent", "table", by_agent, "Per agent."),
    ItemSpec(
        "quality.by_model",
        MODULE,
        "Cost per good run by model",
        "table",
        by_model,
        "Per model: the model's cost ÷ positively rated runs that used it.",
    ),
    ItemSpec("quality.scores", MODULE, "Scores", "table", scores, "Per score name."),
)
