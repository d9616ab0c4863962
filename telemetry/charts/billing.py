"""Altair charts of the Billing page: cost by model, top users, tokens per model, cost per day."""

from __future__ import annotations

import altair as alt
import pandas as pd

from telemetry.charts.base import TRACE_COLOR
from telemetry.filters import SUB_DAY_GROUPINGS, Grouping

LABEL_LIMIT = 320  # pixels: the longest model or user name in full
BAR_STEP = 28  # pixels per bar: room for each label's line
TOKEN_KINDS = {
    "input_tokens": "Input (cached included)",
    "output_tokens": "Output",
    "cache_read_tokens": "Cache read",
    "cache_write_tokens": "Cache write",
}


def _model_label(models: pd.DataFrame) -> pd.Series:
    return models["provider"].where(models["provider"] != "", "?") + " / " + models["model"]


def _bar_label(models: pd.DataFrame) -> pd.Series:
    """The model's own name on its bar ("anthropic / claud…" cut labels looked alike): with its
    provider after it only where two providers serve a model of the same name."""
    shared = models["model"].duplicated(keep=False)
    provider = models["provider"].where(models["provider"] != "", "?")
    return models["model"].where(~shared, models["model"] + " (" + provider + ")")


def model_cost_chart(models: pd.DataFrame) -> alt.Chart:
    """Cost per provider and model, costliest first; calls and unpriced calls in the tooltip."""
    frame = models.assign(label=_bar_label(models), full=_model_label(models))
    return _cost_bars(frame, [alt.Tooltip("full:N", title="Model")])


def top_users_chart(users: pd.DataFrame) -> alt.Chart:
    """Cost of the costliest users, most first."""
    frame = users.assign(label=users["name"].where(users["name"] != "", users["user"]))
    tooltips = [alt.Tooltip("label:N", title="User"), alt.Tooltip("user:N", title="Id")]
    return _cost_bars(frame, tooltips)


def _cost_bars(frame: pd.DataFrame, who: list[alt.Tooltip]) -> alt.Chart:
    """A bar of ``cost_usd`` per ``label``, costliest first; the tooltip names the bar (``who``)
    and gives its cost, calls and unpriced calls."""
    return (
        alt.Chart(frame)
        .mark_bar(color=TRACE_COLOR)
        .encode(
            x=alt.X("cost_usd:Q", title="Cost (USD)", axis=alt.Axis(format="$,.2f")),
            # Every bar labelled, in full: no label dropped for overlap, none cut short.
            y=alt.Y(
                "label:N",
                title=None,
                sort="-x",
                axis=alt.Axis(labelOverlap=False, labelLimit=LABEL_LIMIT),
            ),
            tooltip=[
                *who,
                alt.Tooltip("cost_usd:Q", title="Cost", format="$,.4f"),
                alt.Tooltip("calls:Q", title="Calls", format=","),
                alt.Tooltip("unpriced_calls:Q", title="Unpriced calls", format=","),
            ],
        )
        .properties(height=max(120, BAR_STEP * len(frame)))
    )


def tokens_chart(models: pd.DataFrame) -> alt.Chart:
    """Tokens per model, one bar per kind side by side (cache read/write are part of input)."""
    frame = models.assign(label=_bar_label(models), full=_model_label(models)).melt(
        id_vars=["label", "full"],
        value_vars=list(TOKEN_KINDS),
        var_name="kind",
        value_name="tokens",
    )
    frame["kind"] = frame["kind"].map(TOKEN_KINDS)
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("label:N", title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)),
            x=alt.X("tokens:Q", title="Tokens", axis=alt.Axis(format="~s")),
            yOffset=alt.YOffset("kind:N", sort=list(TOKEN_KINDS.values())),
            color=alt.Color(
                "kind:N",
                title=None,
                sort=list(TOKEN_KINDS.values()),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                alt.Tooltip("full:N", title="Model"),
                alt.Tooltip("kind:N", title="Kind"),
                alt.Tooltip("tokens:Q", title="Tokens", format=","),
            ],
        )
        .properties(height=max(140, 70 * models.shape[0]))
    )


# The time unit, title and tooltip format of the cost chart's buckets, finer than a day.
_COST_BUCKETS = {
    Grouping.FIVE_MINUTES: ("utcyearmonthdatehoursminutes", "5 minutes (UTC)", "%d %b %H:%M"),
    Grouping.HOUR: ("utcyearmonthdatehours", "Hour (UTC)", "%d %b %H:00"),
}
_DAY_BUCKETS = ("utcyearmonthdate", "Day (UTC)", "%a %d %b %Y")


def cost_bucket_text(grouping: Grouping) -> str:
    """What one bar of the cost chart covers: ``UTC day``, ``5 minutes`` or ``hour``."""
    return str(grouping) if grouping in SUB_DAY_GROUPINGS else "UTC day"


def daily_cost_chart(daily: pd.DataFrame, grouping: Grouping = Grouping.DAY) -> alt.Chart:
    """Cost per UTC day (per 5 minutes or hour for a grouping that fine), stacked by model."""
    unit, title, tooltip_format = _COST_BUCKETS.get(grouping, _DAY_BUCKETS)
    order = list(dict.fromkeys(daily["model"]))
    return (
        alt.Chart(daily)
        .mark_bar()
        .encode(
            x=alt.X(f"{unit}(day):T", title=title),
            y=alt.Y("sum(cost_usd):Q", title="Cost (USD)", axis=alt.Axis(format="$,.2f")),
            color=alt.Color("model:N", title="Model", sort=order),
            tooltip=[
                alt.Tooltip(f"{unit}(day):T", title=title, format=tooltip_format),
                alt.Tooltip("model:N", title="Model"),
                alt.Tooltip("cost_usd:Q", title="Cost", format="$,.4f"),
            ],
        )
        .properties(height=260)
    )
