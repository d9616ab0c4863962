"""Filters' periods: whole days, windows, today so far, and the period each compares with."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from telemetry import format as fmt
from telemetry.filters import Filters, Grouping, automatic_grouping
from telemetry.timeutil import to_us

HOUR = 3_600_000_000
DAY = 24 * HOUR


def us(*parts) -> int:
    return to_us(datetime(*parts, tzinfo=UTC))


def test_whole_days_keep_their_meaning():
    week = Filters(start=date(2026, 3, 2), end=date(2026, 3, 8))
    assert (week.start_us, week.end_us) == (us(2026, 3, 2), us(2026, 3, 9))
    assert (week.days, week.length_days, week.whole_days, week.is_window) == (7, 7.0, True, False)
    previous = week.previous()
    assert (previous.start, previous.end) == (date(2026, 2, 23), date(2026, 3, 1))


def test_a_window_knows_the_days_it_touches_and_its_exact_bounds():
    window = Filters.window(us(2026, 3, 14, 14, 37), us(2026, 3, 15, 14, 37), org="demo")
    assert (window.start, window.end, window.days) == (date(2026, 3, 14), date(2026, 3, 15), 2)
    assert (window.start_us, window.end_us) == (us(2026, 3, 14, 14, 37), us(2026, 3, 15, 14, 37))
    assert (window.length_days, window.whole_days, window.org) == (1.0, False, "demo")


def test_a_window_ending_at_midnight_ends_on_the_day_before():
    window = Filters.window(us(2026, 3, 14, 23), us(2026, 3, 15))
    assert (window.start, window.end) == (date(2026, 3, 14), date(2026, 3, 14))


def test_a_window_compares_with_the_window_of_the_same_length_just_before():
    window = Filters.window(us(2026, 3, 15, 0, 0), us(2026, 3, 15, 1, 0), teams=("a",))
    previous = window.previous()
    assert (previous.start_us, previous.end_us) == (us(2026, 3, 14, 23), us(2026, 3, 15))
    assert previous.teams == ("a",) and previous.is_window


def test_today_so_far_compares_with_yesterday_up_to_the_same_time_of_day():
    today = Filters.up_to(date(2026, 3, 15), us(2026, 3, 15, 14, 37))
    assert (today.start_us, today.end_us) == (us(2026, 3, 15), us(2026, 3, 15, 14, 37))
    assert not today.is_window and not today.whole_days
    previous = today.previous()
    assert (previous.start_us, previous.end_us) == (us(2026, 3, 14), us(2026, 3, 14, 14, 37))
    # A whole week so far: the week before, also cut at 14:37.
    week = Filters.up_to(date(2026, 3, 9), us(2026, 3, 15, 14, 37))
    assert week.previous().end_us == us(2026, 3, 8, 14, 37)
    assert week.previous().start == date(2026, 3, 2)


def test_up_to_midnight_is_plain_whole_days():
    assert Filters.up_to(date(2026, 3, 15), us(2026, 3, 16)) == Filters(
        start=date(2026, 3, 15), end=date(2026, 3, 15)
    )


def test_inconsistent_periods_are_refused():
    with pytest.raises(ValueError, match="at or before it starts"):
        Filters.window(us(2026, 3, 15), us(2026, 3, 15))
    with pytest.raises(ValueError, match="needs an end"):
        Filters(date(2026, 3, 15), date(2026, 3, 15), since_us=1)
    with pytest.raises(ValueError, match="do not match"):
        Filters(
            date(2026, 3, 14),
            date(2026, 3, 15),
            since_us=us(2026, 3, 15),
            until_us=us(2026, 3, 15, 2),
        )
    with pytest.raises(ValueError, match="do not match"):  # cut on a day before its last
        Filters(date(2026, 3, 1), date(2026, 3, 15), until_us=us(2026, 3, 14, 1))


def test_changing_a_windows_days_goes_through_with_period():
    window = Filters.window(us(2026, 3, 15, 13), us(2026, 3, 15, 14))
    days = window.with_period(date(2026, 3, 1), date(2026, 3, 2))
    assert days.whole_days and not days.is_window and days.days == 2
    with pytest.raises(ValueError, match="do not match"):
        replace(window, start=date(2026, 3, 1))


def test_windows_are_distinct_cache_keys_to_the_microsecond():
    first = Filters.window(us(2026, 3, 15, 13), us(2026, 3, 15, 14))
    assert first == Filters.window(us(2026, 3, 15, 13), us(2026, 3, 15, 14))
    assert hash(first) != hash(Filters.window(us(2026, 3, 15, 13, 1), us(2026, 3, 15, 14, 1)))


def test_periods_read_for_people():
    assert fmt.day_span(Filters.window(us(2026, 3, 15, 13, 37), us(2026, 3, 15, 14, 37))) == (
        "15 Mar 2026, 13:37–14:37 (1 h)"
    )
    assert fmt.day_span(Filters.window(us(2026, 3, 14, 14, 37), us(2026, 3, 15, 14, 37))) == (
        "14 Mar 2026 14:37 – 15 Mar 2026 14:37 (24 h)"
    )
    assert fmt.day_span(Filters.up_to(date(2026, 3, 15), us(2026, 3, 15, 14, 37))) == (
        "15 Mar 2026, 00:00–14:37 (14 h 37 min)"
    )
    assert fmt.day_span(Filters(date(2026, 3, 2), date(2026, 3, 8))) == (
        "02 Mar 2026 – 08 Mar 2026 (7 days)"
    )


def test_automatic_grouping_gives_five_minutes_to_the_last_hour():
    assert automatic_grouping(HOUR) == Grouping.FIVE_MINUTES
    assert automatic_grouping(DAY) == Grouping.HOUR
