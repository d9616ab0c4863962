"""Peak usage (docs/metrics.md, "Activity and quality"): runs and tokens by weekday × hour.

Weekday and hour come from the stored integer buckets with integer arithmetic,
no date functions: weekday = ``(start_day + 3) % 7`` (0 = Monday, since day 0,
1970-01-01, was a Thursday), hour = ``start_hour % 24``.

Both figures are taken from the runs started in the period, at the hour the run
started: ``traces`` counts them, ``tokens`` sums their input + output tokens
(the trace row's sum of its LLM calls). A run's calls are thus placed at the
run's start hour, not at each call's own: the heatmap shows when people use the
agents, and reading the observation table by hour (an hour bucket its covering
index lacks) measured four to five times slower on the bench store. The total can
therefore differ slightly from the period's token figure, which counts LLM calls
by their own start (a run crossing the period's edge).

Read from the hourly trace rollup (``trace_hourly``, :mod:`telemetry.rollups`):
at most 24 rows per day and team instead of every trace of the period.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, select

from telemetry.filters import Filters
from telemetry.models import TraceHourly
from telemetry.queries.buckets import integer
from telemetry.queries.daily import total
from telemetry.queries.rollup_scope import rollup_rows, rollup_where
from telemetry.queries.scope import resolve_scope

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PEAK_COLUMNS = ["weekday", "hour", "traces", "tokens"]


def _weekday(day_column):
    return ((day_column + integer(3)) % integer(7)).label("weekday")


def _hour(hour_column):
    return (hour_column % integer(24)).label("hour")


def peak_usage(engine: Engine, filters: Filters) -> pd.DataFrame:
    """``DataFrame[weekday, hour, traces, tokens]``: 7 × 24 rows, Monday 00 h first, zero-filled.

    ``weekday`` is 0 (Monday) to 6 (Sunday); :data:`WEEKDAYS` names them.
    """
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        hourly = rollup_rows(scope, TraceHourly)
        rows = conn.execute(
            select(
                _weekday(hourly.day),
                _hour(hourly.start_hour),
                total(hourly.traces),
                total(hourly.input_tokens + hourly.output_tokens),
            )
            .where(rollup_where(scope, hourly))
            .group_by("weekday", "hour")
        ).all()
    found = {(int(day), int(hour)): (int(runs), int(tokens)) for day, hour, runs, tokens in rows}
    records = [
        (day, hour, *found.get((day, hour), (0, 0))) for day in range(7) for hour in range(24)
    ]
    return pd.DataFrame(records, columns=PEAK_COLUMNS)
