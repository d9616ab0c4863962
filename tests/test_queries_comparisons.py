"""Honest comparisons: "new" against an empty previous period, the same time of day for
"today so far" and sub-day windows, and every card's formula with the numbers behind it."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from telemetry import kpi_text
from telemetry.filters import Filters
from telemetry.queries import overview_kpis, trends
from telemetry.timeutil import to_us
from tests.factories import Dataset, generation, root
from tests.metrics_oracle import Oracle

TODAY = date(2026, 3, 15)
NOW_US = to_us(datetime(2026, 3, 15, 14, 37))
HOUR = 3_600_000_000


@pytest.fixture
def ds(engine) -> Dataset:
    ds = Dataset(engine)
    ds.team("alpha")
    for name in ("ana", "bob", "cy", "dee"):
        ds.user(name, team="alpha", created=datetime(2026, 3, 1))
    runs = [
        ("y-morning", "ana", datetime(2026, 3, 14, 9, 0), "ok"),
        ("y-evening", "bob", datetime(2026, 3, 14, 16, 0), "error"),  # after 14:37
        ("t-early", "ana", datetime(2026, 3, 15, 8, 0), "ok"),
        ("t-hour-before", "bob", datetime(2026, 3, 15, 13, 10), "error"),
        ("t-last-hour", "cy", datetime(2026, 3, 15, 13, 50), "ok"),
    ]
    for trace_id, user, start, status in runs:
        ds.trace(
            trace_id,
            user=user,
            start=start,
            spans=[
                root(status=status),
                generation(input_tokens=100, output_tokens=10, cost_usd=0.01),
            ],
        )
    return ds


def _by_key(kpis) -> dict:
    return {kpi.key: kpi for kpi in kpis}


def test_against_a_period_without_data_every_card_reads_new(engine, ds):
    kpis = _by_key(overview_kpis(engine, Filters(start=date(2026, 3, 14), end=TODAY)))
    # The two days before (12-13 March) hold no run and no LLM call.
    for kpi in kpis.values():
        assert kpi.new and kpi.change is None, kpi.key
        assert kpi_text.change_text(kpi) == "new", kpi.key
    # Total users existed before (created on 1 March): still no "+4 users" change.
    assert kpis["users_total"].previous == 4
    assert "holds no data" in kpi_text.help_text(kpis["users_total"], "12 – 13 Mar")


def test_against_a_period_with_data_cards_show_the_change(engine, ds):
    kpis = _by_key(overview_kpis(engine, Filters(start=TODAY, end=TODAY)))
    assert not kpis["traces"].new
    assert (kpis["traces"].value, kpis["traces"].previous, kpis["traces"].change) == (3, 2, 1)
    assert kpi_text.change_text(kpis["traces"]) == "+1"


def test_today_so_far_compares_with_yesterday_up_to_the_same_time_of_day(engine, ds):
    today = Filters.up_to(TODAY, NOW_US)
    kpis = _by_key(overview_kpis(engine, today))
    # Today until 14:37: three runs. Yesterday until 14:37: only the 09:00 one, not 16:00.
    assert (kpis["traces"].value, kpis["traces"].previous) == (3, 1)
    assert (kpis["error_rate"].value, kpis["error_rate"].previous) == (1 / 3, 0.0)
    assert kpis["traces"].previous == Oracle(ds, today.previous()).runs()["traces"]


def test_the_last_hour_compares_with_the_hour_before(engine, ds):
    hour = Filters.window(NOW_US - HOUR, NOW_US)
    kpis = _by_key(overview_kpis(engine, hour))
    assert (kpis["traces"].value, kpis["traces"].previous) == (1, 1)  # 13:50 / 13:10
    assert (kpis["error_rate"].value, kpis["error_rate"].previous) == (0.0, 1.0)


def test_every_card_says_its_formula_with_the_numbers_behind_it(engine, ds):
    kpis = _by_key(overview_kpis(engine, Filters(start=TODAY, end=TODAY)))
    # cy, ana and bob ran by the end of the day; dee never did: 3 of 4 users activated.
    activation = kpi_text.help_text(kpis["activation_rate"], "14 Mar 2026 (1 day)")
    assert activation.startswith(
        "Activation rate = users with a first run by the period's end (3) ÷ total users (4) "
        "= 75.0%."
    )
    # Yesterday's end: ana and bob had run.
    assert activation.endswith("Previous period, 14 Mar 2026 (1 day): 2 ÷ 4 = 50.0%.")
    errors = kpi_text.help_text(kpis["error_rate"], "yesterday")
    assert "runs with status error (1) ÷ finished runs (3) = 33.3%" in errors
    tokens = kpi_text.help_text(kpis["tokens"], "yesterday")
    assert "input tokens (cached included) (300) + output tokens (30) = 330" in tokens
    runs = kpi_text.help_text(kpis["traces"], "yesterday")
    assert runs == (
        "Runs = runs (traces) started in the period (3). Previous period, yesterday: 2."
    )
    for kpi in kpis.values():
        assert kpi.terms, f"{kpi.key} has no formula"


def test_trend_cards_read_new_without_data_before(engine, ds):
    found = _by_key(trends(engine, Filters(start=date(2026, 3, 14), end=TODAY)).kpis)
    assert all(kpi.new for kpi in found.values())
    found = _by_key(trends(engine, Filters(start=TODAY, end=TODAY)).kpis)
    assert not found["traces"].new and found["traces"].change == 1
    assert "runs with status error (1) ÷ finished runs (3)" in kpi_text.help_text(
        found["error_rate"], "yesterday"
    )
