"""The one filter value every query, page, report and CLI command takes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from telemetry.timeutil import (
    US_PER_DAY,
    US_PER_HOUR,
    day_end_us,
    day_number,
    day_of_number,
    day_of_us,
    day_start_us,
)


class Grouping(StrEnum):
    FIVE_MINUTES = "5 minutes"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


# Groupings finer than a day: timelines in these buckets read the base rows.
SUB_DAY_GROUPINGS = frozenset({Grouping.FIVE_MINUTES, Grouping.HOUR})


def automatic_grouping(length_us: int) -> Grouping:
    """5 minutes up to 6 hours, hours up to 2 days, days up to 92, weeks up to 366, months."""
    if length_us <= 6 * US_PER_HOUR:
        return Grouping.FIVE_MINUTES
    days = length_us / US_PER_DAY
    if days <= 2:
        return Grouping.HOUR
    if days <= 92:
        return Grouping.DAY
    if days <= 366:
        return Grouping.WEEK
    return Grouping.MONTH


@dataclass(frozen=True)
class Filters:
    """What to look at: organization, a period, teams, environments, timeline grouping.

    The period is one of (docs/metrics.md, "Time and periods"):

    - whole UTC days ``start``..``end``, both included (``since_us`` and ``until_us``
      left ``None``): ``Filters(start, end)``;
    - whole days cut at an instant, "today so far": ``Filters.up_to(start, until_us)``
      covers ``[start 00:00, until_us)``; its previous period is the same days
      just before, up to the same time of day;
    - any window ``[start_us, end_us)``: ``Filters.window(start_us, end_us)`` (the
      last hour, the last 24 hours, an alert's 15 minutes); its previous period
      is the window of the same length just before.

    ``start`` and ``end`` are always the first and last UTC day the period touches.
    ``teams`` and ``environments`` are ``None`` for "no restriction"; an empty
    tuple means "none" (a manager without teams sees nothing, not everything).
    """

    start: date
    end: date
    org: str = "default"
    teams: tuple[str, ...] | None = None
    environments: tuple[str, ...] | None = None
    grouping: Grouping = Grouping.DAY
    since_us: int | None = None  # a window's exact start (None: midnight of ``start``)
    until_us: int | None = None  # exact exclusive end (None: the midnight after ``end``)

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")
        if self.teams is not None:
            object.__setattr__(self, "teams", tuple(sorted(set(self.teams))))
        if self.environments is not None:
            object.__setattr__(self, "environments", tuple(sorted(set(self.environments))))
        object.__setattr__(self, "grouping", Grouping(self.grouping))
        self._check_bounds()

    def _check_bounds(self) -> None:
        if self.since_us is not None and self.until_us is None:
            raise ValueError("a window needs an end (until_us) as well as a start (since_us)")
        if self.until_us is None:
            return
        if self.until_us <= self.start_us:
            raise ValueError(f"period ends (at {self.until_us} us) before it starts")
        if day_of_number(day_of_us(self.start_us)) != self.start or self.end != day_of_number(
            day_of_us(self.until_us - 1)
        ):
            raise ValueError(
                f"days {self.start}..{self.end} do not match the window's instants; "
                "build windows with Filters.window() or Filters.up_to()"
            )

    @classmethod
    def window(cls, start_us: int, end_us: int, **rest) -> Filters:
        """The half-open window ``[start_us, end_us)`` (epoch microseconds, UTC).

        ``rest`` are the other fields (``org``, ``teams``, ``environments``,
        ``grouping``). Raises ``ValueError`` when the window is empty.
        """
        if end_us <= start_us:
            raise ValueError(f"window ends ({end_us} us) at or before it starts ({start_us} us)")
        first, last = day_of_number(day_of_us(start_us)), day_of_number(day_of_us(end_us - 1))
        return cls(start=first, end=last, since_us=start_us, until_us=end_us, **rest)

    @classmethod
    def up_to(cls, start: date, until_us: int, **rest) -> Filters:
        """Whole days from ``start`` up to the instant ``until_us`` (excluded): "today so far".

        An ``until_us`` at a midnight gives plain whole days.
        """
        if until_us <= day_start_us(start):
            raise ValueError(f"period ends (at {until_us} us) before {start} starts")
        last = day_of_number(day_of_us(until_us - 1))
        cut = None if until_us % US_PER_DAY == 0 else until_us
        return cls(start=start, end=last, until_us=cut, **rest)

    @property
    def is_window(self) -> bool:
        """True for a window built with :meth:`window` (its comparison steps back its length)."""
        return self.since_us is not None

    @property
    def whole_days(self) -> bool:
        """True when the period starts and ends at UTC midnights (the daily rollups answer it)."""
        return self.start_us % US_PER_DAY == 0 and self.end_us % US_PER_DAY == 0

    @property
    def days(self) -> int:
        """How many UTC days the period touches (its length for a whole-day period)."""
        return (self.end - self.start).days + 1

    @property
    def length_us(self) -> int:
        return self.end_us - self.start_us

    @property
    def length_days(self) -> float:
        """The period's length in days, fractional for windows (1 hour = 1/24)."""
        return self.length_us / US_PER_DAY

    @property
    def start_day(self) -> int:
        return day_number(self.start)

    @property
    def end_day(self) -> int:
        return day_number(self.end)

    @property
    def start_us(self) -> int:
        return day_start_us(self.start) if self.since_us is None else self.since_us

    @property
    def end_us(self) -> int:
        """Exclusive: the first microsecond after the period."""
        return day_end_us(self.end) if self.until_us is None else self.until_us

    @property
    def previous_offset_us(self) -> int:
        """How far back the previous period lies: a window's length, else its whole days."""
        return self.length_us if self.is_window else self.days * US_PER_DAY

    def previous(self) -> Filters:
        """The period compared with, same other filters (docs/metrics.md, "Comparisons").

        Whole days: the same number of days just before. A window: the window of
        the same length just before (the hour before the last hour). Days cut at
        an instant ("today so far"): the same days just before, cut at the same
        time of day (today 00:00-14:37 against yesterday 00:00-14:37).
        """
        if self.is_window:
            return Filters.window(
                self.start_us - self.length_us,
                self.start_us,
                org=self.org,
                teams=self.teams,
                environments=self.environments,
                grouping=self.grouping,
            )
        length = timedelta(days=self.days)
        until = None if self.until_us is None else self.until_us - self.previous_offset_us
        return replace(self, start=self.start - length, end=self.end - length, until_us=until)

    def with_period(self, start: date, end: date) -> Filters:
        """The same filters over whole days ``start``..``end``."""
        return replace(self, start=start, end=end, since_us=None, until_us=None)
