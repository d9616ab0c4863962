"""Quality on the pages: the Overview KPI, the Analytics Quality tab, per-user and per-model tables.

Every number comes from :mod:`telemetry.queries.quality` (definitions in
docs/metrics.md, "Quality"); score names and labels are telemetry text.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from telemetry import format as fmt
from telemetry.filters import Filters
from telemetry.queries import quality
from ui import analytics_blocks as blocks

Load = Callable[..., object]
HOW_QUALITY_WORKS = (
    "A run's verdict is its latest `user_feedback` or `review` score (an organization may "
    "name more); positive = label up/good/yes/true/pass or value > 0. Feedback coverage = "
    "rated runs ÷ runs; positive rate = positive ÷ rated runs; cost per good run = the "
    "period's cost ÷ positively rated runs. Scores arrive as OTLP `gen_ai.evaluation.result` "
    "events, `POST /api/scores`, JSONL or a rating on the trace page."
)
_DIMENSION_LABELS = {"agent": "Agent", "model": "Model", "team": "Team", "user": "User"}


def quality_kpi(load: Load) -> None:
    """One Overview card: positive rate, with coverage and cost per good run in its help."""
    totals = load(quality.quality_totals)
    help_text = (
        f"{fmt.count(totals.positive)} of {fmt.count(totals.rated)} rated runs positive; "
        f"feedback coverage {fmt.percent(totals.feedback_coverage)} "
        f"({fmt.count(totals.rated)} of {fmt.count(totals.runs)} runs rated); "
        f"cost per good run {fmt.dollars(totals.cost_per_good_run)}. {HOW_QUALITY_WORKS}"
    )
    st.metric(
        "Positive rate (rated runs)",
        fmt.percent(totals.positive_rate) if totals.rated else "no ratings",
        help=help_text,
        border=True,
    )


def quality_tab(load: Load, filters: Filters, version: int) -> None:
    """The Analytics Quality tab: headline, trend, quality per dimension, score names."""
    totals = load(quality.quality_totals)
    st.caption(HOW_QUALITY_WORKS)
    cards = st.columns(5)
    figures = (
        ("Feedback coverage", fmt.percent(totals.feedback_coverage)),
        ("Positive rate", fmt.percent(totals.positive_rate)),
        ("Rated runs", fmt.count(totals.rated)),
        ("Cost per run", fmt.dollars(totals.cost_per_run)),
        ("Cost per good run", fmt.dollars(totals.cost_per_good_run)),
    )
    for card, (label, value) in zip(cards, figures, strict=True):
        card.metric(label, value, border=True)
    if not totals.runs:
        blocks.empty_note(filters, version, "runs")
        return
    if not totals.rated:
        st.info(
            "No run of this period has feedback or a review yet. Send `user_feedback` scores "
            "from your app (`POST /api/scores`), or rate runs on the Review page.",
            icon=":material/info:",
        )
    trend = load(quality.quality_trend)
    st.subheader("Trend")
    st.caption(f"Positive rate and feedback coverage per {filters.grouping.value}, UTC.")
    st.line_chart(trend.set_index("bucket")[["positive_rate", "feedback_coverage"]], height=220)
    quality_table(load, filters, st.segmented_control(
        "Per", list(_DIMENSION_LABELS), default="agent", key="quality-dimension",
        format_func=_DIMENSION_LABELS.get,
    ) or "agent")  # fmt: skip
    score_tables(load, filters)


def quality_table(load: Load, filters: Filters, dimension: str) -> None:
    frame = load(quality.quality_by, dimension=dimension)
    st.subheader(f"Quality per {dimension}")
    note = (
        "runs with a call of the model; cost = the model's calls"
        if dimension == "model"
        else f"runs by their {dimension}; cost = those runs' cost"
    )
    st.caption(f"Coverage, positive rate and cost per good run ({note}).")
    blocks.table_with_download(
        frame,
        filters,
        name=f"quality-by-{dimension}",
        column_config=quality_columns(dimension),
    )


def quality_columns(dimension: str) -> dict:
    return {
        dimension: st.column_config.TextColumn(_DIMENSION_LABELS[dimension]),
        "runs": blocks.count_column("Calls" if dimension == "model" else "Runs"),
        "rated": blocks.count_column("Rated"),
        "positive": blocks.count_column("Positive"),
        "feedback_coverage": blocks.percent_column("Coverage"),
        "positive_rate": blocks.percent_column("Positive rate"),
        "cost_usd": blocks.dollar_column("Cost"),
        "cost_per_run": blocks.dollar_column("Cost per run"),
        "cost_per_good_run": blocks.dollar_column("Cost per good run"),
    }


def score_tables(load: Load, filters: Filters) -> None:
    scores = load(quality.score_summary)
    st.subheader("Scores")
    st.caption(
        "Every score of the period's runs, per name: how many, the mean of numeric values, "
        "and each label's share."
    )
    if not scores:
        st.info("No scores for the runs of this period.", icon=":material/info:")
        return
    rows = []
    for score in scores:
        total = sum(score["labels"].values())
        shares = ", ".join(
            f"{label} {count / total:.0%}" for label, count in score["labels"].items()
        )
        rows.append((score["name"], score["count"], score["mean"], shares))
    frame = pd.DataFrame(rows, columns=["name", "count", "mean", "labels"])
    blocks.table_with_download(
        frame,
        filters,
        name="scores",
        column_config={
            "name": st.column_config.TextColumn("Score"),
            "count": blocks.count_column("Scores"),
            "mean": st.column_config.NumberColumn("Mean value", format="%.3f"),
            "labels": st.column_config.TextColumn("Label shares"),
        },
    )
    means = load(quality.score_means_by, dimension="agent")
    if not means.empty:
        st.caption("Mean of each numeric score per agent.")
        pivot = means.pivot_table(index="agent", columns="name", values="mean").reset_index()
        pivot.columns = [str(column) for column in pivot.columns]
        blocks.table_with_download(pivot, filters, name="score-means-by-agent", column_config={})
