"""The sidebar's period presets, as inclusive ranges of whole UTC days.

Periods are whole UTC days (METRICS.md, "Time"), so there is no rolling
"last 24 hours": the shortest preset is ``today`` (the current UTC day so
far). "Last N days" ends today and includes it: "Last 7 days" is today and
the six days before. "This month" runs from the 1st to today; "Last month" is
the whole previous calendar month. "Custom range" takes the from/to dates as
given. The names are also what the URL carries (``?period=Last+7+days``,
``?group=Week``), so they are written to read well in both places.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from telemetry.filters import Grouping

TODAY = "Today"
THIS_MONTH = "This month"
LAST_MONTH = "Last month"
CUSTOM = "Custom range"
_LAST_N_DAYS = {"Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90}
PRESETS = (TODAY, *_LAST_N_DAYS, THIS_MONTH, LAST_MONTH, CUSTOM)
DEFAULT_PRESET = "Last 30 days"
AUTO_GROUPING = "Automatic"
GROUPINGS = (AUTO_GROUPING, *(grouping.value.title() for grouping in Grouping))


def utc_today() -> date:
    return datetime.now(UTC).date()


def preset_range(preset: str, today: date) -> tuple[date, date]:
    """The inclusive (start, end) of a preset other than "Custom range"."""
    if preset == TODAY:
        return today, today
    if preset in _LAST_N_DAYS:
        return today - timedelta(days=_LAST_N_DAYS[preset] - 1), today
    if preset == THIS_MONTH:
        return today.replace(day=1), today
    if preset == LAST_MONTH:
        last_day = today.replace(day=1) - timedelta(days=1)
        return last_day.replace(day=1), last_day
    raise ValueError(f"unknown period preset {preset!r}; use one of {', '.join(PRESETS)}")


def automatic_grouping(start: date, end: date) -> Grouping:
    """Hours for a day or two, days up to three months, weeks up to a year, then months."""
    days = (end - start).days + 1
    if days <= 2:
        return Grouping.HOUR
    if days <= 92:
        return Grouping.DAY
    if days <= 366:
        return Grouping.WEEK
    return Grouping.MONTH


def resolve_grouping(choice: str, start: date, end: date) -> Grouping:
    if choice == AUTO_GROUPING:
        return automatic_grouping(start, end)
    return Grouping(choice.lower())
