"""The sidebar's period presets: whole UTC days, today included; automatic grouping."""

from __future__ import annotations

from datetime import date

import pytest

from telemetry.filters import Grouping
from ui.periods import PRESETS, automatic_grouping, preset_range, resolve_grouping

TODAY = date(2026, 3, 15)


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
def test_presets_are_whole_utc_days_ending_today(preset, start, end):
    assert preset_range(preset, TODAY) == (start, end)


def test_last_month_in_january_is_december_of_the_year_before():
    assert preset_range("Last month", date(2026, 1, 10)) == (date(2025, 12, 1), date(2025, 12, 31))


def test_every_preset_but_custom_has_a_range():
    for preset in PRESETS[:-1]:
        preset_range(preset, TODAY)
    with pytest.raises(ValueError, match="unknown period preset 'Custom range'"):
        preset_range("Custom range", TODAY)


@pytest.mark.parametrize(
    ("days", "grouping"),
    [
        (1, Grouping.HOUR),
        (2, Grouping.HOUR),
        (3, Grouping.DAY),
        (92, Grouping.DAY),
        (93, Grouping.WEEK),
        (366, Grouping.WEEK),
        (367, Grouping.MONTH),
    ],
)
def test_automatic_grouping_follows_the_period_length(days, grouping):
    start = date(2025, 1, 1)
    end = date.fromordinal(start.toordinal() + days - 1)
    assert automatic_grouping(start, end) == grouping


def test_a_chosen_grouping_wins_over_automatic():
    assert resolve_grouping("Week", TODAY, TODAY) == Grouping.WEEK
    assert resolve_grouping("Automatic", TODAY, TODAY) == Grouping.HOUR
