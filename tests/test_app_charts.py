"""The activity chart: bars span their whole bucket, week ticks fall on Mondays."""

from __future__ import annotations

import pandas as pd

from telemetry.charts.base import activity_chart
from telemetry.charts.billing import TOKEN_KINDS, model_cost_chart, tokens_chart
from telemetry.filters import Grouping


def chart_rows(starts: list[str], grouping: Grouping) -> list[dict]:
    timeline = pd.DataFrame(
        {
            "bucket": pd.to_datetime(starts),
            "traces": [3] * len(starts),
            "users_active": [1] * len(starts),
        }
    )
    spec = activity_chart(timeline, grouping).to_dict()
    return next(iter(spec["datasets"].values())), spec


def test_month_bars_end_where_the_next_month_starts():
    rows, _ = chart_rows(["2026-01-01", "2026-02-01"], Grouping.MONTH)
    assert [(row["bucket"], row["end"]) for row in rows] == [
        ("2026-01-01T00:00:00", "2026-02-01T00:00:00"),
        ("2026-02-01T00:00:00", "2026-03-01T00:00:00"),
    ]


def test_hour_bars_last_one_hour_and_the_user_line_sits_mid_bucket():
    rows, _ = chart_rows(["2026-01-01 05:00"], Grouping.HOUR)
    assert (rows[0]["end"], rows[0]["middle"]) == ("2026-01-01T06:00:00", "2026-01-01T05:30:00")


def test_week_ticks_are_the_mondays_that_start_the_weeks():
    _, spec = chart_rows(["2026-08-24", "2026-08-31"], Grouping.WEEK)
    ticks = spec["layer"][0]["encoding"]["x"]["axis"]["values"]
    assert [(tick["year"], tick["month"], tick["date"]) for tick in ticks] == [
        (2026, 8, 24),
        (2026, 8, 31),
    ]


def test_every_cost_bar_is_labelled_with_a_whole_unambiguous_model_name():
    models = pd.DataFrame(
        {
            "provider": ["anthropic", "anthropic", "openai", "azure"],
            "model": ["claude-sonnet-4-5-20250929", "claude-opus-4-1", "gpt-4o", "gpt-4o"],
            "cost_usd": [3.0, 2.0, 1.0, 0.5],
            "calls": [3, 2, 1, 1],
            "unpriced_calls": [0, 0, 0, 0],
        }
    )
    spec = model_cost_chart(models).to_dict()
    axis = spec["encoding"]["y"]["axis"]
    assert axis["labelOverlap"] is False and axis["labelLimit"] >= 300
    labels = [row["label"] for row in spec["datasets"][spec["data"]["name"]]]
    # The same model name from two providers says which is which; the others stand alone.
    assert labels == [
        "claude-sonnet-4-5-20250929",
        "claude-opus-4-1",
        "gpt-4o (openai)",
        "gpt-4o (azure)",
    ]


def test_tokens_per_model_names_each_model_in_full():
    models = pd.DataFrame(
        {
            "provider": ["anthropic", "anthropic"],
            "model": ["claude-sonnet-4-5-20250929", "claude-3-5-haiku-latest"],
            **{kind: [10, 20] for kind in TOKEN_KINDS},
        }
    )
    spec = tokens_chart(models).to_dict()
    assert spec["encoding"]["y"]["axis"]["labelLimit"] >= 300
    labels = {row["label"] for row in spec["datasets"][spec["data"]["name"]]}
    assert labels == {"claude-sonnet-4-5-20250929", "claude-3-5-haiku-latest"}
