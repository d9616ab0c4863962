"""Quality on the pages: the Overview KPI, the Analytics Quality tab, per-user and per-model tables.

Every number comes from :mod:`telemetry.queries.quality` (definitions in
docs/metrics.md, "Quality"); score names and labels are telemetry text.
"""

from __future__ import annotations

import streamlit as st

from telemetry import format as fmt
from telemetry.blocks import quality as blocks_quality
from telemetry.blocks.formats import MISSING
from telemetry.blocks.model import Source
from telemetry.charts.analytics import quality_trend_chart
from telemetry.queries import quality
from ui import analytics_blocks as blocks
from ui import block_view
from ui.downloads import csv_download

HOW_QUALITY_WORKS = (
    "A run's verdict is its latest `user_feedback` or `review` score (an organization may "
    "name more); positive = label up/good/yes/true/pass or value > 0. Feedback coverage = "
    "rated runs ÷ runs; positive rate = positive ÷ rated runs; cost per good run = the "
    "period's cost ÷ positively rated runs. Scores arrive as OTLP `gen_ai.evaluation.result` "
    "events (span events, or log records sent to `/v1/logs`), `POST /api/scores`, JSONL or a "
    "rating on the trace page."
)


def quality_kpi(source: Source) -> None:
    """One Overview card: positive rate, with coverage and cost per good run in its help."""
    totals = blocks_quality.HEADLINE.load(source)
    help_text = (
        f"{fmt.count(totals.positive)} of {fmt.count(totals.rated)} rated runs positive; "
        f"feedback coverage {fmt.percent(totals.feedback_coverage)} "
        f"({fmt.count(totals.rated)} of {fmt.count(totals.runs)} runs rated); "
        f"cost per good run {fmt.dollars(totals.cost_per_good_run)}. {HOW_QUALITY_WORKS}"
    )
    st.metric(
        "Positive rate",
        fmt.percent(totals.positive_rate) if totals.rated else "no ratings",
        # the coverage under the value, as the other cards show their change there
        delta=f"{fmt.percent(totals.feedback_coverage)} of runs rated",
        delta_color="off",
        delta_arrow="off",
        help=f"Positive rate (rated runs). {help_text}",
        border=True,
    )


def quality_tab(source: Source, version: int) -> None:
    """The Analytics Quality tab: headline, trend, quality per dimension, score names."""
    filters = source.filters
    totals = blocks_quality.HEADLINE.load(source)
    headline = blocks_quality.HEADLINE.build(source, totals)
    block_view.figures(blocks_quality.HEADLINE, headline)
    if not totals.runs:
        blocks.empty_note(filters, version, "runs")
        return
    if not totals.rated:
        st.info(
            "No run of this period has feedback or a review yet. Send `user_feedback` scores "
            "from your app (`POST /api/scores`), or rate runs on the Review page.",
            icon=":material/info:",
        )
    trend = source.run(quality.quality_trend, filters)
    st.subheader("Trend")
    st.caption(f"Positive rate and feedback coverage per {filters.grouping.value}, UTC.")
    st.altair_chart(quality_trend_chart(trend, filters.grouping), width="stretch")
    quality_table(source, st.segmented_control(
        "Per", list(blocks_quality.DIMENSION_TITLES), default="agent", key="quality-dimension",
        format_func=blocks_quality.DIMENSION_TITLES.get, bind="query-params",
    ) or "agent")  # fmt: skip
    score_tables(source)


def quality_table(source: Source, dimension: str) -> None:
    """Quality per ``dimension``: the report's block where it has one (agent, model)."""
    spec = _SPECS.get(dimension) or blocks_quality.quality_by(dimension)
    block_view.table(spec, spec.build(source), source.filters, title=f"Quality per {dimension}")


def score_tables(source: Source) -> None:
    spec = blocks_quality.SCORES
    scores = spec.build(source)
    if scores.rows.empty:
        block_view.empty(spec, scores)
        st.info("No scores for the runs of this period.", icon=":material/info:")
        return
    block_view.table(spec, scores, source.filters)
    means = source.run(quality.score_means_by, source.filters, dimension="agent")
    if not means.empty:
        st.caption("Mean of each numeric score per agent.")
        pivot = means.pivot_table(index="agent", columns="name", values="mean").reset_index()
        pivot.columns = [str(column) for column in pivot.columns]
        st.dataframe(pivot.round(3), hide_index=True, width="stretch", placeholder=MISSING)
        name = "score-means-by-agent"
        csv_download(pivot.round(3), source.filters, name, key=f"download-{name}")


_SPECS = {"agent": blocks_quality.BY_AGENT, "model": blocks_quality.BY_MODEL}
