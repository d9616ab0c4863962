"""The sidebar's sub-day presets in the app: the URL round trip, exact figures, honest cards.

The clock is pinned at 15 March 2026 14:36:20 UTC (``ui.periods.utc_now_us``), so
"Last hour" is 13:37-14:37; the data are tests/window_data.py's.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from telemetry import format as fmt
from telemetry.filters import Filters, Grouping
from telemetry.timeutil import to_us
from tests.app_support import metric_values, shown, signed_in_app
from tests.metrics_oracle import Oracle
from tests.window_data import NOW_US, US_PER_HOUR, build_window_store
from ui import periods

CLOCK_US = to_us(datetime(2026, 3, 15, 14, 36, 20))
LAST_HOUR = Filters.window(NOW_US - US_PER_HOUR, NOW_US)
LAST_DAY = Filters.window(NOW_US - 24 * US_PER_HOUR, NOW_US)


@pytest.fixture
def ds(app_env, monkeypatch):
    monkeypatch.setattr(periods, "utc_now_us", lambda: CLOCK_US)
    return build_window_store(app_env.engine)


def _cards(at) -> dict:
    return {metric.label.split(" · ")[0]: metric for metric in at.metric}


def test_last_hour_from_the_url_shows_the_hours_figures(ds):
    at = signed_in_app("root", query={"period": "Last hour"}).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="period").value == "Last hour"
    assert at.selectbox(key="period").options[:3] == ["Last hour", "Last 24 hours", "Today"]
    runs = Oracle(ds, LAST_HOUR).runs()
    values = metric_values(at)
    assert values["Runs"] == fmt.count(runs["traces"])
    assert values["Error rate"] == fmt.percent(runs["error_rate"])
    assert any(c.value == "15 Mar 2026, 13:37–14:37 (1 h), UTC" for c in at.sidebar.caption)
    # The cards say what they compare with: the hour before.
    cards = at.get_by_key("block-overview-kpis")
    assert "previous period, 15 Mar 2026, 12:37–13:37 (1 h)" in shown(cards.caption[0].value)


def test_choosing_last_24_hours_shows_what_its_url_shows(ds):
    # The widget writes ?period=Last+24+hours in the browser (tests/test_browser_periods.py);
    # here: choosing it and opening that URL give the same view.
    at = signed_in_app("root").run()
    at.selectbox(key="period").set_value("Last 24 hours").run()
    assert not at.exception, at.exception
    assert metric_values(at)["Runs"] == fmt.count(Oracle(ds, LAST_DAY).runs()["traces"])
    again = signed_in_app("root", query={"period": "Last 24 hours"}).run()
    assert metric_values(again) == metric_values(at)
    assert [card.help for card in again.metric] == [card.help for card in at.metric]


def test_five_minute_grouping_round_trips_through_the_url(ds):
    at = signed_in_app("root", query={"period": "Last hour", "group": "5 minutes"}).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="group").value == "5 minutes"
    assert "Runs (bars) and active users (line) per 5 minutes, UTC." in [
        shown(caption.value) for caption in at.caption
    ]
    at.selectbox(key="group").set_value("Hour").run()
    assert "Runs (bars) and active users (line) per hour, UTC." in [
        shown(caption.value) for caption in at.caption
    ]


def test_five_minutes_over_a_long_period_says_it_uses_hours(ds):
    at = signed_in_app("root", query={"period": "Last 30 days", "group": "5 minutes"}).run()
    assert any("5-minute buckets are offered" in warning.value for warning in at.warning)


def test_today_compares_with_yesterday_up_to_the_same_time(ds):
    at = signed_in_app("root", query={"period": "Today"}).run()
    today = Filters.up_to(LAST_HOUR.end, NOW_US)
    runs = _cards(at)["Runs"]
    now, before = Oracle(ds, today).runs()["traces"], Oracle(ds, today.previous()).runs()["traces"]
    assert runs.value == fmt.count(now)
    assert shown(runs.help).endswith(
        f"Previous period, 14 Mar 2026, 00:00–14:37 (14 h 37 min): {fmt.count(before)}."
    )


def test_cards_say_their_formula_and_read_new_without_data_before(ds):
    at = signed_in_app("root", query={"period": "Last 90 days"}).run()
    cards = _cards(at)
    # The store starts on 12 March: the 90 days before hold nothing.
    for label in ("Runs", "Activation rate", "Error rate", "Cost"):
        assert cards[label].delta == "new", label
    assert shown(cards["Activation rate"].help).startswith(
        "Activation rate = users with a first run by the period's end (5) ÷ total users (6)"
    )
    assert "holds no data" in cards["Activation rate"].help


def test_report_kpis_say_what_the_cards_say(ds):
    from telemetry.reports.catalog import item
    from telemetry.reports.model import ReportFormat, ReportRequest

    at = signed_in_app("root", query={"period": "Last 24 hours"}).run()
    request = ReportRequest(
        filters=replace(LAST_DAY, grouping=Grouping.HOUR),
        format=ReportFormat.HTML,
        items=("overview.kpis",),
        generated_by="root",
        generated_at_us=CLOCK_US,
    )
    block, _ = item("overview.kpis").build(ds.engine, request)
    report = {
        line.help.split(" = ")[0]: (line.value, line.change, line.help) for line in block.lines
    }
    # The quality card is the Quality module's headline in reports, not overview.kpis.
    cards = {
        shown(card.help).split(" = ")[0]: (card.value, card.delta, shown(card.help))
        for card in at.get_by_key("block-overview-kpis").metric
    }
    assert set(cards) == set(report) and len(cards) == 10
    for name, (value, delta, help_text) in cards.items():
        assert value == report[name][0], name
        assert help_text == report[name][2], name
        if delta not in ("0", ""):
            assert delta == report[name][1], name
