"""The sidebar's period presets (sub-day windows, today so far, whole UTC days) and grouping."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from telemetry.filters import Filters, Grouping
from telemetry.timeutil import to_us
from ui.periods import (
    CUSTOM,
    PRESETS,
    automatic_grouping,
    grouping_notice,
    preset_filters,
    preset_range,
    resolve_grouping,
)

TODAY = date(2026, 3, 15)
NOW = datetime(2026, 3, 15, 14, 37, 12, tzinfo=UTC)
US_PER_HOUR = 3_600_000_000


@pytest.mark.parametrize(
    ("preset", "start", "end"),
    [
        ("Today", date(2026, 3, 15), date(2026, 3, 15)),
        ("Last 7 days", date(2026, 3, 9), date(2026, 3, 15)),
        ("Last 30 days", date(2026, 2, 14), date(2026, 3, 15)),
        ("Last 90 days", date(2025, 12, 16), date(2026, 3, 15)),
        ("This month", date(2026, 3, 1), date(2026, 3, 15)),
        ("Last month", date(2026, 2, 1), date(2026, 2, 28)),
    ],
)
def test_day_presets_are_whole_utc_days_ending_today(preset, start, end):
    assert preset_range(preset, TODAY) == (start, end)


def test_last_month_in_january_is_december_of_the_year_before():
    assert preset_range("Last month", date(2026, 1, 10)) == (date(2025, 12, 1), date(2025, 12, 31))


def test_presets_offer_the_last_hour_and_24_hours_first():
    assert PRESETS[:3] == ("Last hour", "Last 24 hours", "Today")
    assert PRESETS[-1] == CUSTOM


def test_last_hour_and_24_hours_end_at_the_next_whole_minute():
    end = datetime(2026, 3, 15, 14, 38, tzinfo=UTC)
    hour = preset_filters("Last hour", to_us(NOW))
    assert (hour.start_us, hour.end_us) == (
        to_us(datetime(2026, 3, 15, 13, 38, tzinfo=UTC)),
        to_us(end),
    )
    assert hour.is_window and (hour.start, hour.end) == (TODAY, TODAY)
    day = preset_filters("Last 24 hours", to_us(NOW))
    assert (day.start_us, day.end_us) == (to_us(end) - 24 * US_PER_HOUR, to_us(end))
    assert (day.start, day.end) == (date(2026, 3, 14), TODAY)  # it touches two UTC days


def test_today_runs_from_midnight_to_now_and_compares_up_to_the_same_time_of_day():
    today = preset_filters("Today", to_us(NOW))
    midnight = to_us(datetime(2026, 3, 15, tzinfo=UTC))
    assert (today.start_us, today.end_us) == (
        midnight,
        midnight + 14 * US_PER_HOUR + 38 * 60_000_000,
    )
    previous = today.previous()
    assert (previous.start_us, previous.end_us) == (
        midnight - 24 * US_PER_HOUR,
        midnight - 10 * US_PER_HOUR + 38 * 60_000_000,
    )


def test_a_sub_day_window_compares_with_the_window_just_before():
    hour = preset_filters("Last hour", to_us(NOW))
    assert (hour.previous().start_us, hour.previous().end_us) == (
        hour.start_us - US_PER_HOUR,
        hour.start_us,
    )
    # Even when the hour starts at midnight: the hour before, not yesterday's.
    at_one = preset_filters("Last hour", to_us(datetime(2026, 3, 15, 1, 0, tzinfo=UTC)))
    assert at_one.previous().start_us == to_us(datetime(2026, 3, 14, 23, 0, tzinfo=UTC))


def test_every_whole_day_preset_is_plain_days():
    for preset in PRESETS:
        if preset in (CUSTOM, "Last hour", "Last 24 hours", "Today"):
            continue
        filters = preset_filters(preset, to_us(NOW))
        assert (filters.start, filters.end) == preset_range(preset, TODAY)
        assert filters.whole_days and not filters.is_window
    with pytest.raises(ValueError, match="unknown period preset 'Custom range'"):
        preset_range(CUSTOM, TODAY)
    with pytest.raises(ValueError, match="not whole days"):
        preset_range("Last hour", TODAY)


@pytest.mark.parametrize(
    ("hours", "grouping"),
    [
        (1, Grouping.FIVE_MINUTES),
        (6, Grouping.FIVE_MINUTES),
        (7, Grouping.HOUR),
        (24, Grouping.HOUR),
        (48, Grouping.HOUR),
        (72, Grouping.DAY),
        (92 * 24, Grouping.DAY),
        (93 * 24, Grouping.WEEK),
        (366 * 24, Grouping.WEEK),
        (367 * 24, Grouping.MONTH),
    ],
)
def test_automatic_grouping_follows_the_period_length(hours, grouping):
    assert automatic_grouping(hours * US_PER_HOUR) == grouping


def test_a_chosen_grouping_wins_over_automatic():
    day = Filters(start=TODAY, end=TODAY)
    assert resolve_grouping("Week", day.length_us) == Grouping.WEEK
    assert resolve_grouping("Automatic", day.length_us) == Grouping.HOUR
    assert resolve_grouping("5 minutes", day.length_us) == Grouping.FIVE_MINUTES


def test_five_minutes_over_a_long_period_falls_back_to_hours_and_says_so():
    month = Filters(start=date(2026, 2, 14), end=TODAY)
    grouping = resolve_grouping("5 minutes", month.length_us)
    assert grouping == Grouping.HOUR
    assert "up to 7 days" in grouping_notice("5 minutes", grouping)
    assert grouping_notice("Hour", Grouping.HOUR) is None


def test_a_window_ending_now_is_the_same_cache_key_for_a_minute_only():
    at = preset_filters("Last hour", to_us(NOW))  # 14:37:12
    assert at == preset_filters("Last hour", to_us(datetime(2026, 3, 15, 14, 37, 59, tzinfo=UTC)))
    later = preset_filters("Last hour", to_us(datetime(2026, 3, 15, 14, 38, 1, tzinfo=UTC)))
    assert later != at and hash(later) != hash(at)
    assert later.end_us - at.end_us == 60_000_000
