"""The HTML report in headless Chromium, offline: charts draw, tooltips work, nothing leaves.

Opens the file through file:// with every other request aborted (and recorded),
then counts the charts vega-embed drew. Needs Debian's chromium at
/usr/bin/chromium: skipped with a reason when it is missing, a failure when CI=true.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from telemetry.filters import Filters
from telemetry.reports.builder import build_report
from telemetry.reports.catalog import DEFAULT_ITEMS
from telemetry.reports.html import render_html
from telemetry.reports.model import ChartBlock, ReportFormat, ReportRequest
from tests.edge_case_week import WEEK_END, WEEK_START, build_edge_case_week
from tests.report_samples import (
    CHART_COUNT,
    GENERATED_AT_US,
    HOSTILE_NAMES,
    SCRIPT_NAME,
    sample_report,
)

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (scripts/bootstrap.sh dev installs Debian's chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def report_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_html(sample_report()), encoding="utf-8")
    return path


@pytest.fixture
def offline_page(browser, report_file):
    """The report opened from disk; ``page.leaks`` lists requests that tried to leave."""
    context = browser.new_context(viewport={"width": 1200, "height": 1600})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.leaks, page.errors, page.dialogs = [], [], []

    page.route("**/*", lambda route: _file_only(route, page.leaks))
    page.on("request", lambda r: None if r.url.startswith("file:") else page.leaks.append(r.url))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(report_file.as_uri())
    yield page
    context.close()


def test_every_chart_renders_offline_without_any_request(offline_page):
    page = offline_page
    page.wait_for_function(
        f"document.querySelectorAll('.vega-embed svg.marks').length >= {CHART_COUNT}"
    )
    page.wait_for_timeout(500)
    assert page.locator(".vega-embed svg.marks").count() == CHART_COUNT
    # Each drew its bars (3 days, 2 models), not an empty frame.
    assert page.locator("#chart-1 .mark-rect path").count() == 3
    assert page.locator("#chart-2 .mark-rect path").count() == 2
    assert page.leaks == [] and page.errors == [] and page.dialogs == []
    page.screenshot(path=str(_artifacts() / "report-html.png"), full_page=True)


def test_hostile_names_show_as_text_and_run_nothing(offline_page):
    page = offline_page
    page.wait_for_function("document.querySelectorAll('.vega-embed svg.marks').length >= 2")
    cells = page.locator("table.data td").all_inner_texts()
    assert [cell for cell in cells if cell in HOSTILE_NAMES] == list(HOSTILE_NAMES)
    assert page.locator("img").count() == 0
    assert page.dialogs == []


def test_hovering_a_bar_shows_its_tooltip(offline_page):
    page = offline_page
    bars = page.locator("#chart-1 .mark-rect path")
    bars.first.wait_for()
    bars.first.hover()
    tooltip = page.locator("#vg-tooltip-element.visible")
    tooltip.wait_for()
    # The tooltip holds the first day's hostile name, as text.
    assert SCRIPT_NAME in tooltip.inner_text()
    assert page.dialogs == []


def test_a_built_report_draws_every_chart_block_offline(browser, sqlite_engine, tmp_path):
    """Every item of every module from the real builder: one drawn chart per chart block."""
    build_edge_case_week(sqlite_engine)
    request = ReportRequest(
        filters=Filters(start=WEEK_START, end=WEEK_END),
        format=ReportFormat.HTML,
        items=DEFAULT_ITEMS,
        generated_by="ana",
        generated_at_us=GENERATED_AT_US,
    )
    report = build_report(sqlite_engine, request)
    assert report.failed == ()
    charts = sum(isinstance(result.block, ChartBlock) for result in report.results)
    assert charts >= 8
    path = tmp_path / "built.html"
    path.write_text(render_html(report), encoding="utf-8")
    context = browser.new_context(viewport={"width": 1200, "height": 1600})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    leaks, errors = [], []
    page.route("**/*", lambda route: _file_only(route, leaks))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(path.as_uri())
    page.wait_for_function(f"document.querySelectorAll('.vega-embed svg.marks').length >= {charts}")
    page.wait_for_timeout(500)
    assert page.locator(".vega-embed svg.marks").count() == charts
    assert page.locator(".chart.failed").count() == 0
    # Drawn, not an empty frame: every chart has a size and marks inside.
    sizes = page.eval_on_selector_all(
        ".vega-embed svg.marks",
        "svgs => svgs.map(s => [s.width.baseVal.value, s.height.baseVal.value])",
    )
    assert all(width > 100 and height > 50 for width, height in sizes), sizes
    assert (leaks, errors) == ([], [])
    page.screenshot(path=str(_artifacts() / "report-html-built.png"), full_page=True)
    context.close()


def _file_only(route, leaks: list[str]) -> None:
    if route.request.url.startswith("file:"):
        route.continue_()
    else:
        leaks.append(route.request.url)
        route.abort()


def _artifacts() -> Path:
    folder = Path(__file__).resolve().parent.parent / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder
