"""The Quality blocks (Analytics' Quality tab, and the report's Quality module): the headline,
quality per agent, model, team or user, and the period's scores (docs/metrics.md, "Quality")."""

from __future__ import annotations

import pandas as pd

from telemetry import format as fmt
from telemetry.blocks.formats import COUNT, RATIO, USD, USD_FINE, number
from telemetry.blocks.model import BlockSpec, Column, Figure, Source
from telemetry.queries import quality

TITLE = "Quality"
DIMENSION_TITLES = {"agent": "Agent", "model": "Model", "team": "Team", "user": "User"}
SCORE_COLUMNS = ["name", "count", "mean", "labels"]


def _totals(source: Source) -> quality.QualityTotals:
    return source.run(quality.quality_totals, source.filters)


def _headline(source: Source, totals: quality.QualityTotals) -> tuple[Figure, ...]:
    return (
        Figure(
            "feedback_coverage",
            "Feedback coverage",
            fmt.percent(totals.feedback_coverage),
            f"Feedback coverage = rated runs ÷ runs: {totals.rated:,} of {totals.runs:,} runs "
            "have a verdict (user_feedback or review).",
        ),
        Figure(
            "positive_rate",
            "Positive rate",
            fmt.percent(totals.positive_rate),
            f"Positive rate = positive ÷ rated runs: {totals.positive:,} of {totals.rated:,} "
            "rated runs have a positive latest verdict.",
        ),
        Figure("rated", "Rated runs", fmt.count(totals.rated), "Runs with a verdict."),
        Figure(
            "cost_per_run",
            "Cost per run",
            fmt.dollars(totals.cost_per_run),
            f"Cost per run = the period's cost ({fmt.dollars(totals.cost_usd)}) ÷ runs "
            f"({totals.runs:,}).",
        ),
        Figure(
            "cost_per_good_run",
            "Cost per good run",
            fmt.dollars(totals.cost_per_good_run),
            f"Cost per good run = the period's cost ({fmt.dollars(totals.cost_usd)}) ÷ runs "
            f"whose latest verdict is positive ({totals.positive:,}).",
        ),
    )


HEADLINE = BlockSpec(
    "quality.headline",
    "Quality at a glance",
    "kpis",
    "Feedback coverage, positive rate, cost per run and per good run.",
    query=_totals,
    caption=lambda source, totals: (
        "A run's verdict is its latest user_feedback or review score (an organization may name "
        "more); positive = label up/good/yes/true/pass or value > 0. Scores arrive as OTLP "
        "gen_ai.evaluation.result events (span events, or log records sent to /v1/logs), "
        "POST /api/scores, JSONL or a rating on the trace page."
    ),
    figures=_headline,
)


def quality_by(dimension: str, key: str | None = None, title: str | None = None) -> BlockSpec:
    """Quality per ``dimension`` (agent, model, team, user): a table block."""
    model = dimension == "model"
    note = (
        "runs with a call of the model; cost = the model's calls, so cost per good run = its "
        "spend ÷ the positively rated runs it took part in"
        if model
        else f"runs by their {dimension}; cost = those runs' cost"
    )
    return BlockSpec(
        key or f"quality.by_{dimension}",
        title or f"Quality per {dimension}",
        "table",
        f"Per {dimension}: runs, rated runs, positive rate and cost per good run.",
        query=lambda source: source.run(quality.quality_by, source.filters, dimension=dimension),
        caption=lambda source, frame: f"Coverage, positive rate and cost per good run ({note}).",
        columns=(
            Column(dimension, DIMENSION_TITLES[dimension], key=True),
            Column("runs", "Calls" if model else "Runs", COUNT, key=True),
            Column("positive_rate", "Positive rate", RATIO, key=True),
            Column("cost_per_good_run", "Cost per good run", USD_FINE, key=True),
            Column("rated", "Rated", COUNT),
            Column("positive", "Positive", COUNT),
            Column("feedback_coverage", "Coverage", RATIO),
            Column("cost_usd", "Cost (USD)", USD),
            Column("cost_per_run", "Cost per run", USD_FINE),
        ),
    )


def _scores(source: Source) -> pd.DataFrame:
    """One row per score name: how many, the mean of numeric values, each label's count."""
    rows = []
    for score in source.run(quality.score_summary, source.filters):
        total = sum(score["labels"].values())
        labels = ", ".join(
            f"{label}: {count:,} ({count / total:.0%})" for label, count in score["labels"].items()
        )
        rows.append((score["name"], score["count"], score["mean"], labels or None))
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


SCORES = BlockSpec(
    "quality.scores",
    "Scores",
    "table",
    "Per score name.",
    query=_scores,
    caption=lambda source, frame: (
        "Every score of the period's runs, per name: how many, the mean of numeric values, "
        "and each label's count and share."
    ),
    columns=(
        Column("name", "Score", key=True),
        Column("count", "Scores", COUNT, key=True),
        Column("mean", "Mean value", number(3)),
        Column("labels", "Labels", width="large"),
    ),
)
BY_AGENT = quality_by("agent")
BY_MODEL = quality_by("model", title="Cost per good run by model")
BLOCKS = (HEADLINE, BY_AGENT, BY_MODEL, SCORES)
