"""Altair charts of the pages, built from the query layer's small DataFrames."""

from __future__ import annotations

import altair as alt
import pandas as pd

from telemetry.filters import Grouping

TRACE_COLOR = "#2563eb"
USER_COLOR = "#f59e0b"
# How a time bucket reads in a tooltip, per grouping.
BUCKET_FORMAT = {
    Grouping.FIVE_MINUTES: "%d %b %H:%M",
    Grouping.HOUR: "%d %b %H:00",
    Grouping.DAY: "%d %b %Y",
    Grouping.WEEK: "week of %d %b %Y",
    Grouping.MONTH: "%B %Y",
}
_AXIS_FORMAT = {
    Grouping.FIVE_MINUTES: "%H:%M",
    Grouping.HOUR: "%d %b %H:00",
    Grouping.DAY: "%d %b",
    Grouping.WEEK: "%d %b",
    Grouping.MONTH: "%b %Y",
}


def _bucket_ends(starts: pd.Series, grouping: Grouping) -> pd.Series:
    if grouping == Grouping.MONTH:
        return starts + pd.offsets.MonthBegin(1)
    step = {
        Grouping.FIVE_MINUTES: "5min",
        Grouping.HOUR: "1h",
        Grouping.DAY: "1D",
        Grouping.WEEK: "7D",
    }[grouping]
    return starts + pd.Timedelta(step)


def _week_ticks(timeline: pd.DataFrame, grouping: Grouping) -> list[alt.DateTime] | None:
    """Ticks on the Mondays that start the weeks (Vega's own week ticks fall on Sundays)."""
    if grouping != Grouping.WEEK or timeline.empty:
        return None
    step = max(1, -(-len(timeline) // 12))
    return [
        alt.DateTime(year=start.year, month=start.month, date=start.day)
        for start in timeline["bucket"].iloc[::step]
    ]


def activity_chart(timeline: pd.DataFrame, grouping: Grouping) -> alt.LayerChart:
    """Runs per bucket as bars spanning the bucket, active users as a line on their own axis."""
    label = {
        Grouping.FIVE_MINUTES: "5 minutes",
        Grouping.HOUR: "Hour",
        Grouping.DAY: "Day",
        Grouping.WEEK: "Week",
    }.get(grouping, "Month")
    ends = _bucket_ends(timeline["bucket"], grouping)
    spans = timeline.assign(end=ends, middle=timeline["bucket"] + (ends - timeline["bucket"]) / 2)
    axis = alt.Axis(
        format=_AXIS_FORMAT[grouping],
        labelOverlap=True,
        values=_week_ticks(timeline, grouping) or alt.Undefined,
    )
    base = alt.Chart(spans).encode(
        tooltip=[
            alt.Tooltip("bucket:T", title=label, format=BUCKET_FORMAT[grouping]),
            alt.Tooltip("traces:Q", title="Runs", format=","),
            alt.Tooltip("users_active:Q", title="Active users", format=","),
        ],
    )
    # A white outline keeps neighbouring buckets apart.
    bars = base.mark_bar(color=TRACE_COLOR, opacity=0.85, stroke="white", strokeWidth=1).encode(
        x=alt.X("bucket:T", title=f"{label} (UTC)", axis=axis),
        x2="end:T",
        y=alt.Y("traces:Q", title="Runs", axis=alt.Axis(titleColor=TRACE_COLOR)),
        y2=alt.datum(0),
    )
    line = base.mark_line(color=USER_COLOR, point=len(timeline) <= 60, strokeWidth=2).encode(
        x=alt.X("middle:T", title=f"{label} (UTC)", axis=axis),
        y=alt.Y("users_active:Q", title="Active users", axis=alt.Axis(titleColor=USER_COLOR)),
    )
    return alt.layer(bars, line).resolve_scale(y="independent").properties(height=300)


def module_chart(modules: pd.DataFrame) -> alt.LayerChart:
    """Runs per module, most used first, each bar labelled with its active users."""
    height = max(160, 36 * len(modules) + 50)
    labelled = modules.assign(
        users_label=[f"{users:,} user{'s' * (users != 1)}" for users in modules["users_active"]]
    )
    # Room on the right for the longest bar's label.
    widest = max(1, int(modules["traces"].max())) if len(modules) else 1
    base = alt.Chart(labelled).encode(
        x=alt.X("traces:Q", title="Runs", scale=alt.Scale(domain=[0, widest * 1.3])),
        y=alt.Y("module:N", title=None, sort="-x"),
        tooltip=[
            alt.Tooltip("module:N", title="Module"),
            alt.Tooltip("traces:Q", title="Runs", format=","),
            alt.Tooltip("users_active:Q", title="Active users", format=","),
        ],
    )
    bars = base.mark_bar(color=TRACE_COLOR)
    labels = base.mark_text(align="left", dx=4, color="#4b5563").encode(text="users_label:N")
    return alt.layer(bars, labels).properties(height=height)


DAYS_SELECTION = "days"


def daily_traces_chart(timeline: pd.DataFrame) -> alt.Chart:
    """Traces per UTC day; the tooltip adds the day's active users. A drag across days is the
    interval selection ``days`` (the Users page makes it the period of every page)."""
    brush = alt.selection_interval(encodings=["x"], name=DAYS_SELECTION)
    return (
        alt.Chart(timeline)
        .mark_bar(color=TRACE_COLOR)
        .encode(
            x=alt.X("utcyearmonthdate(bucket):T", title="Day (UTC)"),
            y=alt.Y("traces:Q", title="Traces"),
            tooltip=[
                alt.Tooltip("utcyearmonthdate(bucket):T", title="Day", format="%a %d %b %Y"),
                alt.Tooltip("traces:Q", title="Traces", format=","),
                alt.Tooltip("users_active:Q", title="Active users", format=","),
            ],
        )
        .add_params(brush)
        .properties(height=160)
    )
