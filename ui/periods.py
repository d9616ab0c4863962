"""The sidebar's period presets, and the timeline grouping that suits a period.

Definitions: docs/metrics.md, "Time and periods". "Last hour" and "Last 24 hours"
are windows ending now; "Today" runs from 00:00 UTC up to now. Now is rounded up
to the next whole minute, so a window stays the same (and its cached queries are
reused) for a minute, and never misses the latest data. The other presets are
whole UTC days: "Last N days" ends today and includes it ("Last 7 days" is today
and the six days before); "This month" runs from the 1st to today; "Last month" is
the whole previous calendar month. "Custom range" takes the from/to dates as
given. The names are also what the URL carries (``?period=Last+hour``,
``?group=5+minutes``), so they are written to read well in both places.
"""

from __future__ import annotations

from datetime import date, timedelta

from telemetry import timeutil
from telemetry.filters import Filters, Grouping, automatic_grouping
from telemetry.timeutil import US_PER_DAY, US_PER_HOUR, day_of_number, day_of_us, minute_ceiling

LAST_HOUR = "Last hour"
LAST_24_HOURS = "Last 24 hours"
TODAY = "Today"
THIS_MONTH = "This month"
LAST_MONTH = "Last month"
CUSTOM = "Custom range"
_LAST_HOURS = {LAST_HOUR: 1, LAST_24_HOURS: 24}
_LAST_N_DAYS = {"Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90}
PRESETS = (*_LAST_HOURS, TODAY, *_LAST_N_DAYS, THIS_MONTH, LAST_MONTH, CUSTOM)
DEFAULT_PRESET = "Last 30 days"
AUTO_GROUPING = "Automatic"
_GROUPING_LABELS = {
    Grouping.FIVE_MINUTES: "5 minutes",
    Grouping.HOUR: "Hour",
    Grouping.DAY: "Day",
    Grouping.WEEK: "Week",
    Grouping.MONTH: "Month",
}
GROUPINGS = (AUTO_GROUPING, *_GROUPING_LABELS.values())
# 5-minute buckets are offered for periods up to this long (2,016 buckets); hours beyond.
FIVE_MINUTES_MAX_US = 7 * US_PER_DAY


def utc_now_us() -> int:
    """Now, in epoch microseconds (UTC). Tests replace it to pin the clock."""
    return timeutil.now_us()


def utc_today() -> date:
    return day_of_number(day_of_us(utc_now_us()))


def preset_range(preset: str, today: date) -> tuple[date, date]:
    """The inclusive (start, end) days of a whole-day preset (not the sub-day or custom ones)."""
    if preset == TODAY:
        return today, today
    if preset in _LAST_N_DAYS:
        return today - timedelta(days=_LAST_N_DAYS[preset] - 1), today
    if preset == THIS_MONTH:
        return today.replace(day=1), today
    if preset == LAST_MONTH:
        last_day = today.replace(day=1) - timedelta(days=1)
        return last_day.replace(day=1), last_day
    if preset in _LAST_HOURS:
        raise ValueError(f"{preset!r} is not whole days; use preset_filters")
    raise ValueError(f"unknown period preset {preset!r}; use one of {', '.join(PRESETS)}")


def preset_filters(preset: str, now_us: int, **rest) -> Filters:
    """The :class:`Filters` of a preset other than "Custom range", at the instant ``now_us``.

    ``rest`` are the other fields of :class:`Filters` (org, teams, environments, grouping).
    """
    end = minute_ceiling(now_us)
    if preset in _LAST_HOURS:
        return Filters.window(end - _LAST_HOURS[preset] * US_PER_HOUR, end, **rest)
    today = day_of_number(day_of_us(now_us))
    if preset == TODAY:
        return Filters.up_to(today, end, **rest)
    start, last = preset_range(preset, today)
    return Filters(start=start, end=last, **rest)


def resolve_grouping(choice: str, length_us: int) -> Grouping:
    """The grouping label chosen in the sidebar (or automatic) for a period of ``length_us``.

    5 minutes over more than :data:`FIVE_MINUTES_MAX_US` falls back to hours (see
    :func:`grouping_notice`).
    """
    if choice == AUTO_GROUPING:
        return automatic_grouping(length_us)
    grouping = next(key for key, label in _GROUPING_LABELS.items() if label == choice)
    if grouping == Grouping.FIVE_MINUTES and length_us > FIVE_MINUTES_MAX_US:
        return Grouping.HOUR
    return grouping


def grouping_notice(choice: str, grouping: Grouping) -> str | None:
    """Why the timelines do not use the grouping chosen, if they do not."""
    if choice == _GROUPING_LABELS[Grouping.FIVE_MINUTES] and grouping != Grouping.FIVE_MINUTES:
        return "5-minute buckets are offered for periods up to 7 days; the timelines use hours."
    return None
