"""Altair charts of the Analytics page: a period against the previous one, breakdowns, heatmaps."""

from __future__ import annotations

import altair as alt
import pandas as pd

from telemetry.charts.base import BUCKET_FORMAT, TRACE_COLOR
from telemetry.filters import Grouping
from telemetry.queries.peaks import WEEKDAYS

PREVIOUS_COLOR = "#9ca3af"
HEATMAP_SCHEME = "blues"
_VALUE_FORMAT = {"count": ",.0f", "ratio": ".1%", "seconds": ",.0f"}


def comparison_chart(
    timeline: pd.DataFrame, key: str, label: str, unit: str, grouping: Grouping, shift_us: int
) -> alt.Chart:
    """``key`` per bucket: this period as a solid line, the previous one dashed, moved forward
    by ``shift_us`` (how far back the previous period lies, ``Filters.previous_offset_us``)
    so the two lie on the same axis (the tooltip keeps the real date)."""
    frame = timeline[["period", "bucket", key]].rename(columns={key: "value"}).copy()
    frame["shown_at"] = frame["bucket"] + pd.to_timedelta(
        (frame["period"] == "previous") * shift_us, unit="us"
    )
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    value_format = _VALUE_FORMAT.get(unit, ",")
    axis_title = f"{label} (s)" if unit == "seconds" else label
    return (
        alt.Chart(frame)
        .mark_line(point=len(frame) <= 62, strokeWidth=2)
        .encode(
            x=alt.X("shown_at:T", title=None),
            y=alt.Y("value:Q", title=axis_title, axis=alt.Axis(format=value_format)),
            color=alt.Color(
                "period:N",
                title=None,
                scale=alt.Scale(
                    domain=["current", "previous"], range=[TRACE_COLOR, PREVIOUS_COLOR]
                ),
                legend=alt.Legend(orient="top"),
            ),
            strokeDash=alt.StrokeDash(
                "period:N",
                scale=alt.Scale(domain=["current", "previous"], range=[[1, 0], [4, 3]]),
                legend=None,
            ),
            tooltip=[
                alt.Tooltip("period:N", title="Period"),
                alt.Tooltip("bucket:T", title="Bucket (UTC)", format=BUCKET_FORMAT[grouping]),
                alt.Tooltip("value:Q", title=label, format=value_format),
            ],
        )
        .properties(height=200)
    )


def breakdown_chart(frame: pd.DataFrame, label: str, series_title: str) -> alt.Chart:
    """Stacked areas per series over time (the top values and "(other)")."""
    order = list(dict.fromkeys(frame["series"]))
    ranked = frame.assign(
        series_rank=frame["series"].map({name: i for i, name in enumerate(order)})
    )
    return (
        alt.Chart(ranked)
        .mark_area(opacity=0.85)
        .encode(
            x=alt.X("bucket:T", title=None),
            y=alt.Y("value:Q", title=label, stack="zero"),
            color=alt.Color(
                "series:N",
                title=series_title,
                sort=order,
                legend=alt.Legend(orient="bottom", columns=2, labelLimit=160),
            ),
            order=alt.Order("series_rank:Q"),
            tooltip=[
                alt.Tooltip("bucket:T", title="Bucket (UTC)"),
                alt.Tooltip("series:N", title=series_title),
                alt.Tooltip("value:Q", title=label, format=","),
            ],
        )
        .properties(height=240)
    )


def heatmap(peaks: pd.DataFrame, value: str, label: str) -> alt.Chart:
    """Weekday (rows, Monday first) × hour of day (columns, UTC), shaded by ``value``."""
    frame = peaks.assign(day=[WEEKDAYS[number] for number in peaks["weekday"]])
    return (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X("hour:O", title="Hour of day (UTC)"),
            y=alt.Y("day:N", title=None, sort=list(WEEKDAYS)),
            color=alt.Color(f"{value}:Q", title=label, scale=alt.Scale(scheme=HEATMAP_SCHEME)),
            tooltip=[
                alt.Tooltip("day:N", title="Weekday"),
                alt.Tooltip("hour:O", title="Hour (UTC)"),
                alt.Tooltip(f"{value}:Q", title=label, format=","),
            ],
        )
        .properties(height=220)
    )


QUALITY_SERIES = {"positive_rate": "Positive rate", "feedback_coverage": "Feedback coverage"}


def quality_trend_chart(trend: pd.DataFrame, grouping: Grouping) -> alt.Chart:
    """Positive rate and feedback coverage per bucket, as percentages (a bucket without
    rated runs has no positive rate: a gap in that line, not a zero)."""
    frame = trend.melt(
        id_vars=["bucket"], value_vars=list(QUALITY_SERIES), var_name="key", value_name="value"
    )
    frame["series"] = frame["key"].map(QUALITY_SERIES)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    return (
        alt.Chart(frame)
        .mark_line(point=len(trend) <= 62, strokeWidth=2)
        .encode(
            x=alt.X("bucket:T", title=None),
            y=alt.Y("value:Q", title=None, axis=alt.Axis(format=".0%")),
            color=alt.Color(
                "series:N",
                title=None,
                sort=list(QUALITY_SERIES.values()),
                scale=alt.Scale(range=[TRACE_COLOR, PREVIOUS_COLOR]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                alt.Tooltip("bucket:T", title="Bucket (UTC)", format=BUCKET_FORMAT[grouping]),
                alt.Tooltip("series:N", title="Figure"),
                alt.Tooltip("value:Q", title="Value", format=".1%"),
            ],
        )
        .properties(height=220)
    )
