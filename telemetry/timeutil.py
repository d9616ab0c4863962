"""UTC time helpers and the integer time buckets stored on traces and observations.

Times are stored as epoch microseconds (UTC). Buckets are plain integers so that
hot queries group and filter on indexed columns instead of calling date functions
on every row: day = days since 1970-01-01, hour = hours since the epoch,
month = year * 12 + (month - 1).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

US_PER_SECOND = 1_000_000
US_PER_MINUTE = 60 * US_PER_SECOND
US_PER_FIVE_MINUTES = 5 * US_PER_MINUTE
US_PER_HOUR = 3_600 * US_PER_SECOND
US_PER_DAY = 24 * US_PER_HOUR
EPOCH_DAY = date(1970, 1, 1)
# 1970-01-01 was a Thursday; shifting by 3 days makes weeks start on Monday (ISO).
_MONDAY_SHIFT = 3


def to_us(moment: datetime) -> int:
    """Epoch microseconds of an aware datetime (naive ones are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * US_PER_SECOND + delta.microseconds


def from_us(us: int) -> datetime:
    """Aware UTC datetime of epoch microseconds."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)


def now_us() -> int:
    return to_us(datetime.now(UTC))


def minute_ceiling(us: int) -> int:
    """The next whole minute at or after ``us``: where a period ending "now" ends.

    Whole minutes keep a "last hour" the same for a minute (so cached results are
    reused) without ever leaving out the latest data.
    """
    return -(-us // US_PER_MINUTE) * US_PER_MINUTE


def rfc3339(us: int) -> str:
    """``2026-03-15T14:37:00Z`` (microseconds shown only when there are any)."""
    moment = from_us(us)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}"
    return text + "Z"


def day_number(day: date) -> int:
    return (day - EPOCH_DAY).days


def day_of_number(number: int) -> date:
    return EPOCH_DAY + timedelta(days=number)


def day_of_us(us: int) -> int:
    return us // US_PER_DAY


def hour_of_us(us: int) -> int:
    return us // US_PER_HOUR


def month_number(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_of_us(us: int) -> int:
    return month_number(day_of_number(day_of_us(us)))


def month_start(number: int) -> date:
    return date(number // 12, number % 12 + 1, 1)


def week_number_of_day(day_num: int) -> int:
    """ISO week bucket (weeks start on Monday) of a day number."""
    return (day_num + _MONDAY_SHIFT) // 7


def week_start(week_num: int) -> date:
    return day_of_number(week_num * 7 - _MONDAY_SHIFT)


def weekday_of_day(day_num: int) -> int:
    """0 = Monday ... 6 = Sunday."""
    return (day_num + _MONDAY_SHIFT) % 7


def day_start_us(day: date) -> int:
    return day_number(day) * US_PER_DAY


def day_end_us(day: date) -> int:
    """First microsecond after the UTC day (exclusive end)."""
    return (day_number(day) + 1) * US_PER_DAY


def months_touched(start: date, end: date) -> int:
    """Number of calendar months a period [start, end] touches."""
    return month_number(end) - month_number(start) + 1


def days_in_month(year: int, month: int) -> int:
    following = date(year + (month == 12), month % 12 + 1, 1)
    return (following - date(year, month, 1)).days


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 timestamp; a zone is required ('Z' or an offset)."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no time zone; add 'Z' or an offset")
    return value.astimezone(UTC)
