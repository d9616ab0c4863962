"""Time buckets of the Analytics timelines: which buckets a period touches, and their starts.

A bucket is an integer computed from the stored bucket columns (no per-row date
functions): the 5-minute period ``start_us // 300_000_000``, the hour, the day,
the ISO week ``(day + 3) // 7`` (weeks start on Monday, day 0 was a Thursday) or
the month number; see ``trace_bucket`` and
:func:`telemetry.queries.observations.observation_bucket`. The buckets of a
period are those its instants touch: the last hour ending at 14:37 touches the
5-minute buckets from 13:35 to 14:35.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import ColumnElement, Integer, literal_column

from telemetry.filters import Filters, Grouping
from telemetry.timeutil import (
    US_PER_FIVE_MINUTES,
    US_PER_HOUR,
    day_of_number,
    month_number,
    month_start,
    week_number_of_day,
    week_start,
)


def integer(value: int) -> ColumnElement[int]:
    """An inlined integer constant, typed so that ``//`` and ``%`` stay integer arithmetic."""
    return literal_column(str(int(value)), Integer)


def bucket_numbers(filters: Filters) -> range:
    """Every bucket number the period touches, oldest first."""
    grouping = filters.grouping
    if grouping == Grouping.FIVE_MINUTES:
        return _touched(filters, US_PER_FIVE_MINUTES)
    if grouping == Grouping.HOUR:
        return _touched(filters, US_PER_HOUR)
    if grouping == Grouping.WEEK:
        return range(week_number_of_day(filters.start_day), week_number_of_day(filters.end_day) + 1)
    if grouping == Grouping.MONTH:
        return range(month_number(filters.start), month_number(filters.end) + 1)
    return range(filters.start_day, filters.end_day + 1)


def _touched(filters: Filters, size_us: int) -> range:
    return range(filters.start_us // size_us, (filters.end_us - 1) // size_us + 1)


def bucket_start(grouping: Grouping, number: int) -> pd.Timestamp:
    """The naive UTC start of a bucket (a week or month may start before the period)."""
    if grouping == Grouping.FIVE_MINUTES:
        return pd.Timestamp(number * US_PER_FIVE_MINUTES, unit="us")
    if grouping == Grouping.HOUR:
        return pd.Timestamp(number * US_PER_HOUR, unit="us")
    if grouping == Grouping.WEEK:
        return pd.Timestamp(week_start(number))
    if grouping == Grouping.MONTH:
        return pd.Timestamp(month_start(number))
    return pd.Timestamp(day_of_number(number))
