"""Charts of the Alerts page and report: a rule's replay, a budget's burn-down."""

from __future__ import annotations

import altair as alt
import pandas as pd

ALERT_COLOR = "#dc2626"
WARN_COLOR = "#f59e0b"
VALUE_COLOR = "#2563eb"


def backtest_chart(
    series: pd.DataFrame, threshold: float, warn_threshold: float | None, unit_title: str
) -> alt.LayerChart:
    """The metric at each sample (a line per group), the thresholds, and where it was in ALERT."""
    grouped = series["group"].nunique() > 1
    color = alt.Color("group:N", title="Group") if grouped else alt.value(VALUE_COLOR)
    base = alt.Chart(series).encode(x=alt.X("at:T", title="Sample (UTC)"))
    line = base.mark_line(point=False).encode(
        y=alt.Y("value:Q", title=unit_title),
        color=color,
        tooltip=[
            alt.Tooltip("at:T", title="At", format="%d %b %H:%M"),
            alt.Tooltip("group:N", title="Group"),
            alt.Tooltip("value:Q", title=unit_title, format=",.4~f"),
            alt.Tooltip("state:N", title="State"),
        ],
    )
    firing = (
        alt.Chart(series[series["state"] == "ALERT"])
        .mark_point(color=ALERT_COLOR, filled=True, size=40)
        .encode(x="at:T", y="value:Q")
    )
    limits = [{"limit": threshold, "kind": "alert"}]
    if warn_threshold is not None:
        limits.append({"limit": warn_threshold, "kind": "warning"})
    rules = (
        alt.Chart(pd.DataFrame(limits))
        .mark_rule(strokeDash=[6, 4])
        .encode(
            y="limit:Q",
            color=alt.Color(
                "kind:N",
                scale=alt.Scale(
                    domain=[limit["kind"] for limit in limits],
                    range=[ALERT_COLOR, WARN_COLOR][: len(limits)],
                ),
                title="Threshold",
            ),
        )
    )
    return alt.layer(line, rules, firing).resolve_scale(color="independent").properties(height=260)


def burn_down_chart(days: pd.DataFrame, budget_usd: float) -> alt.LayerChart:
    """Cumulative spend per day of the month against the budget line."""
    spent = (
        alt.Chart(days)
        .mark_area(opacity=0.35, line=True, color=VALUE_COLOR)
        .encode(
            x=alt.X("day:T", title="Day (UTC)", axis=alt.Axis(format="%d %b")),
            y=alt.Y("spent_usd:Q", title="Spent this month (USD)"),
            tooltip=[
                alt.Tooltip("day:T", title="Day", format="%d %b %Y"),
                alt.Tooltip("spent_usd:Q", title="Spent", format="$,.2f"),
                alt.Tooltip("remaining_usd:Q", title="Remaining", format="$,.2f"),
            ],
        )
    )
    budget = (
        alt.Chart(pd.DataFrame({"budget": [budget_usd]}))
        .mark_rule(color=ALERT_COLOR, strokeDash=[6, 4])
        .encode(y="budget:Q")
    )
    return alt.layer(spent, budget).properties(height=180)
