"""How numbers read on the pages: counts, percentages, dollars, and the changes between periods."""

from __future__ import annotations

import pandas as pd

from telemetry.filters import Filters
from telemetry.timeutil import US_PER_DAY, US_PER_MINUTE, from_us, month_start

MISSING = "–"
# What change_text gives for a change that rounds to zero in its unit.
NO_CHANGE = frozenset({"+0", "-0", "+0.0 pp", "-0.0 pp", "+$0.00", "-$0.00"})
# Counts up to this are printed in full; above it, compactly (12.3M) with the exact value in help.
FULL_COUNT_LIMIT = 10_000_000
# The unit of figures shown as durations (telemetry.queries.analytics.UNIT_SECONDS).
SECONDS = "seconds"


def count(value: float | int | None) -> str:
    if value is None:
        return MISSING
    if abs(value) >= FULL_COUNT_LIMIT:
        return compact(value)
    return f"{round(value):,}"


def compact(value: float | int) -> str:
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}{suffix}"
    return f"{round(value):,}"


def percent(ratio: float | None, decimals: int = 1) -> str:
    return MISSING if ratio is None else f"{ratio * 100:.{decimals}f}%"


def dollars(value: float | None) -> str:
    if value is None:
        return MISSING
    if 0 < abs(value) < 0.0001:
        return "<$0.0001"
    if 0 < abs(value) < 1:
        # Small amounts keep up to 4 decimals so a few cents of usage does not read as $0.00.
        text = f"{value:.4f}".rstrip("0")
        return "$" + (f"{value:.2f}" if len(text.split(".")[1]) < 2 else text)
    return f"${value:,.2f}"


def value_text(value: float | int | None, unit: str) -> str:
    """A KPI value in its unit (``count``, ``ratio`` or ``usd``)."""
    if unit == "ratio":
        return percent(value)
    if unit == "usd":
        return dollars(value)
    return count(value)


def change_text(change: float | int | None, unit: str) -> str | None:
    """The signed change against the previous period, or ``None`` when there is none to show."""
    if change is None:
        return None
    sign = "-" if change < 0 else "+"
    size = abs(change)
    if unit == "ratio":
        return f"{sign}{size * 100:.1f} pp"
    if unit == "usd":
        return f"{sign}{dollars(size)}"
    return f"{sign}{compact(size) if size >= 1_000_000 else count(size)}"


def duration(seconds: float | None) -> str:
    """A duration for people: ``850 ms``, ``42.0 s``, ``12 min 05 s``, ``3 h 20 min``."""
    if seconds is None or pd.isna(seconds):
        return MISSING
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def figure_text(value: float | int | None, unit: str) -> str:
    """Like :func:`value_text`, and a ``seconds`` figure as a :func:`duration`."""
    return duration(value) if unit == SECONDS else value_text(value, unit)


def figure_change_text(change: float | int | None, unit: str) -> str | None:
    """Like :func:`change_text`, and a change of a ``seconds`` figure as a signed duration."""
    if change is not None and unit == SECONDS:
        return ("-" if change < 0 else "+") + duration(abs(change))
    return change_text(change, unit)


def priced_text(share: float | None) -> str:
    """The "N% priced" beside a cost; 99.6% never rounds up to 100% (that would hide calls)."""
    if share is None:
        return "no calls"
    decimals = 1 if 0.99 < share < 1 else 0
    return f"{percent(share, decimals)} priced"


def month_label(month: int, current: int) -> str:
    """A billing month's name, ``(in progress)`` when it is the ``current`` one."""
    text = f"{month_start(month):%B %Y}"
    return f"{text} (in progress)" if month == current else text


def day_span(filters: Filters) -> str:
    """The period for people: ``01 Mar 2026 – 07 Mar 2026 (7 days)``, and for a period
    that is not whole days its times: ``15 Mar 2026, 13:38–14:38 (1 h)``."""
    if filters.whole_days and not filters.is_window:
        days = filters.days
        if days == 1:
            return f"{filters.start:%d %b %Y} (1 day)"
        return f"{filters.start:%d %b %Y} – {filters.end:%d %b %Y} ({days} days)"
    start, end = from_us(filters.start_us), from_us(filters.end_us)
    length = length_text(filters.length_us)
    if filters.start == filters.end or (filters.end_us % US_PER_DAY == 0 and filters.days == 1):
        end_time = "24:00" if filters.end_us % US_PER_DAY == 0 else _clock(end)
        return f"{start:%d %b %Y}, {_clock(start)}–{end_time} ({length})"
    return f"{start:%d %b %Y} {_clock(start)} – {end:%d %b %Y} {_clock(end)} ({length})"


def _clock(moment) -> str:
    return f"{moment:%H:%M:%S}" if moment.second or moment.microsecond else f"{moment:%H:%M}"


def length_text(us: int) -> str:
    """A period's length: ``15 min``, ``1 h``, ``14 h 37 min``, ``24 h``, ``2 days 3 h``."""
    minutes = us // US_PER_MINUTE
    days, minutes = divmod(minutes, 24 * 60) if minutes >= 48 * 60 else (0, minutes)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} day{'s' * (days != 1)}"] if days else []
    parts += [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes or not parts else []
    return " ".join(parts)


def team_text(teams: tuple[str, ...] | None) -> str:
    if teams is None:
        return "all teams"
    if not teams:
        return "no team"
    return ("team " if len(teams) == 1 else "teams ") + ", ".join(teams)


def environment_text(environments: tuple[str, ...] | None) -> str:
    return "all environments" if environments is None else ", ".join(environments)


def describe(filters: Filters) -> str:
    """One line saying what the page shows: organization, period, teams, environments."""
    return (
        f"{filters.org} · {day_span(filters)}, UTC · {team_text(filters.teams)} · "
        f"{environment_text(filters.environments)}"
    )
