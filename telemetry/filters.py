"""The one filter value every query, page, report and CLI command takes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from telemetry.timeutil import day_end_us, day_number, day_start_us


class Grouping(StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Filters:
    """What to look at: organization, an inclusive range of whole UTC days, teams, envs.

    ``teams`` and ``environments`` are ``None`` for "no restriction"; an empty
    tuple means "none" (a manager without teams sees nothing, not everything).
    """

    start: date
    end: date
    org: str = "default"
    teams: tuple[str, ...] | None = None
    environments: tuple[str, ...] | None = None
    grouping: Grouping = Grouping.DAY

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")
        if self.teams is not None:
            object.__setattr__(self, "teams", tuple(sorted(set(self.teams))))
        if self.environments is not None:
            object.__setattr__(self, "environments", tuple(sorted(set(self.environments))))
        object.__setattr__(self, "grouping", Grouping(self.grouping))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def start_day(self) -> int:
        return day_number(self.start)

    @property
    def end_day(self) -> int:
        return day_number(self.end)

    @property
    def start_us(self) -> int:
        return day_start_us(self.start)

    @property
    def end_us(self) -> int:
        """Exclusive: the first microsecond after the period's last day."""
        return day_end_us(self.end)

    def previous(self) -> Filters:
        """The period of equal length just before this one, same other filters."""
        length = timedelta(days=self.days)
        return replace(self, start=self.start - length, end=self.end - length)

    def with_period(self, start: date, end: date) -> Filters:
        return replace(self, start=start, end=end)
