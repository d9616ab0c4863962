"""When demo work happens: busier on weekdays and working hours (UTC), growing over time."""

from __future__ import annotations

import random
from bisect import bisect_right
from itertools import accumulate

from telemetry.timeutil import US_PER_DAY, US_PER_HOUR, weekday_of_day

# Monday .. Sunday.
WEEKDAY_FACTOR = (1.0, 1.06, 1.04, 1.0, 0.86, 0.17, 0.11)
# Share of a day's sessions starting in each UTC hour: a European office day with a
# lunch dip, plus a thin evening tail from other time zones.
# fmt: off
_WORKDAY_HOURS = (
    0.02, 0.01, 0.01, 0.01, 0.02, 0.04, 0.12, 0.35, 0.8, 1.0, 1.0, 0.95,  # 00-11
    0.6, 0.85, 1.0, 0.95, 0.85, 0.6, 0.35, 0.2, 0.14, 0.1, 0.06, 0.03,  # 12-23
)
_WEEKEND_HOURS = (
    0.05, 0.03, 0.02, 0.02, 0.02, 0.03, 0.05, 0.1, 0.2, 0.35, 0.5, 0.55,
    0.5, 0.5, 0.55, 0.55, 0.5, 0.45, 0.4, 0.35, 0.3, 0.2, 0.12, 0.08,
)
# fmt: on
_WORKDAY_CUMULATIVE = tuple(accumulate(_WORKDAY_HOURS))
_WEEKEND_CUMULATIVE = tuple(accumulate(_WEEKEND_HOURS))


def is_weekend(day: int) -> bool:
    return weekday_of_day(day) >= 5


def daily_counts(rng: random.Random, first_day: int, days: int, total: int) -> list[int]:
    """Split ``total`` over the days (largest remainder), following the weekly rhythm."""
    weights = []
    for offset in range(days):
        growth = 0.65 + 0.35 * offset / max(days - 1, 1)  # adoption grows over the period
        noise = rng.uniform(0.85, 1.15)
        weights.append(WEEKDAY_FACTOR[weekday_of_day(first_day + offset)] * growth * noise)
    scale = total / sum(weights)
    exact = [weight * scale for weight in weights]
    counts = [int(value) for value in exact]
    by_remainder = sorted(range(days), key=lambda i: (counts[i] - exact[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def start_in_day(rng: random.Random, day: int) -> int:
    """A moment of ``day`` (epoch microseconds) drawn from its hour-of-day profile."""
    cumulative = _WEEKEND_CUMULATIVE if is_weekend(day) else _WORKDAY_CUMULATIVE
    hour = bisect_right(cumulative, rng.random() * cumulative[-1])
    return day * US_PER_DAY + min(hour, 23) * US_PER_HOUR + rng.randrange(US_PER_HOUR)


def working_moment(rng: random.Random, day: int) -> int:
    """A moment between 08:00 and 17:00 UTC of ``day``."""
    return day * US_PER_DAY + rng.randint(8, 16) * US_PER_HOUR + rng.randrange(US_PER_HOUR)


def next_working_day(day: int, after: int) -> int:
    """The first Monday-to-Friday day at least ``after`` days after ``day``."""
    candidate = day + after
    while is_weekend(candidate):
        candidate += 1
    return candidate
