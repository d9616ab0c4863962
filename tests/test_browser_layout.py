"""Every page at 1440x900 in Chromium: tables keep their key columns in view, no raw cells.

Streamlit's dataframe is a canvas (glide-data-grid), but the grid also keeps an
accessible ``<table role="grid">`` of the cells it currently draws: its column
headers are the columns in view (the grid renders only what its viewport shows),
its cells the values. A block's key columns (telemetry/blocks: ``Column.key``)
must all be among the headers, and not the last one when the grid scrolls
sideways (that one may be cut). No text cell may read "None", "nan", "unset" or "{}",
and no KPI card's label may be cut short.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from telemetry.blocks import audit, drilldown
from telemetry.blocks.catalog import REPORT_BLOCKS
from tests.browser_support import (
    UI_TIMEOUT,
    Server,
    chromium_browser,
    demo_server,
)
from ui.block_view import block_key

pytestmark = pytest.mark.browser

PEAK = "/analytics?section=Peak+usage"  # charts only
PAGES = [
    "/overview",
    "/analytics?section=Trends",
    "/analytics?section=Runs",
    "/analytics?section=Models",
    PEAK,
    "/analytics?section=Code+%26+outcomes",
    "/analytics?section=Audit",
    "/users",
    "/billing",
    "/live",
    "/sessions",
    "/traces",
    "/alerts",
    "/analytics?section=Quality",
    "/review",
    "/export",
    "/settings",
    "/audit",
]
# Pages without a block's table in the demo data (Live runs: only while runs are open; the
# Review queue and Export are page-only tables, checked for raw cells only).
NO_TABLE = {"/overview", "/alerts", "/analytics?section=Trends", PEAK, "/live", "/export"}
NO_TABLE |= {"/review", "/settings"}
RAW = {"None", "nan", "NaN", "unset", "{}", "null", "undefined"}
SPECS = {
    block_key(spec): spec
    for spec in (*REPORT_BLOCKS, audit.ACCOUNTS, audit.EVENTS, *drilldown.PAGE_BLOCKS)
}
# For each visible grid: its block's container key (if any), the headers in view, whether
# it scrolls sideways, and every cell's text.
GRIDS = """() => [...document.querySelectorAll('[data-testid="stDataFrame"]')]
  .filter(grid => grid.getBoundingClientRect().width > 0)
  .map(grid => {
    const block = grid.closest('[class*="st-key-block-"]');
    const key = block ? [...block.classList].find(c => c.startsWith('st-key-block-')) : null;
    const table = grid.querySelector('table[role="grid"]');
    const scroller = grid.querySelector('.dvn-scroller');
    return {
      key: key ? key.slice('st-key-'.length) : null,
      headers: table ? [...table.querySelectorAll('th')].map(th => th.textContent.trim()) : [],
      scrolls: scroller ? scroller.scrollWidth > scroller.clientWidth + 1 : false,
      cells: table ? [...table.querySelectorAll('td')].map(td => td.textContent.trim()) : [],
    };
  })"""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    with demo_server(tmp_path_factory.mktemp("layout")) as running:
        yield running


@pytest.fixture(scope="module")
def page(server):
    with chromium_browser() as browser:
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.set_default_timeout(UI_TIMEOUT)
        tab = context.new_page()
        tab.goto(server.url)
        password = server.wait_for(r"password: (\S+)", 1).group(1)
        tab.get_by_role("textbox", name="Username").fill("admin")
        tab.get_by_role("textbox", name="Password").fill(password)
        tab.get_by_role("button", name="Log in").click()
        tab.get_by_test_id("stMetric").first.wait_for()
        yield tab
        context.close()


# KPI card labels whose text is cut (an element inside the label wider than its box).
CUT_LABELS = """() => [...document.querySelectorAll('[data-testid="stMetricLabel"]')]
  .filter(label => [label, ...label.querySelectorAll('*')]
    .some(element => element.scrollWidth > element.clientWidth + 1))
  .map(label => label.innerText.trim())"""


def settled_grids(page) -> list[dict]:
    """The page's grids once Streamlit has finished its run (no status widget, same grids)."""
    previous = None
    for _ in range(60):
        page.wait_for_timeout(700)
        if page.get_by_test_id("stStatusWidget").count():
            continue
        grids = page.evaluate(GRIDS)
        if grids == previous:
            return grids
        previous = grids
    raise AssertionError("the page never settled")


def test_the_default_page_answers_at_its_own_path(server, page):
    page.goto(server.url + "/overview")
    page.get_by_test_id("stMetric").first.wait_for()
    assert page.locator("h1").first.inner_text() == "Overview"
    assert "Page not found" not in page.inner_text("body")
    # No empty band above the title (Streamlit's default top padding puts it at ~140 px).
    assert page.locator("h1").first.bounding_box()["y"] < 90


@pytest.mark.parametrize("path", PAGES)
def test_key_columns_in_view_and_no_raw_cells(server, page, path):
    page.goto(server.url + path + ("&" if "?" in path else "?") + "org=demo")
    expects_table = path not in NO_TABLE
    if expects_table:  # the grid's accessible table fills in once the canvas is drawn
        cell = page.locator('[data-testid="stDataFrame"] table[role="grid"] th').first
        cell.wait_for(state="attached")
    grids = settled_grids(page)
    assert page.evaluate(CUT_LABELS) == [], f"{path}: KPI labels cut"
    checked = []
    for grid in grids:
        assert not RAW & set(grid["cells"]), (path, grid["key"], RAW & set(grid["cells"]))
        spec = SPECS.get(grid["key"])
        if spec is None or not grid["headers"]:
            continue
        in_view = grid["headers"][:-1] if grid["scrolls"] else grid["headers"]
        missing = [title for title in spec.key_titles if title not in in_view]
        assert not missing, f"{path} {spec.key}: {missing} out of view ({grid['headers']})"
        checked.append(spec.key)
    if expects_table:
        assert checked, f"{path}: no block table found"


def test_custom_period_dates_are_shown_whole(server, page):
    page.goto(server.url + "/overview?period=Custom+range&from=2026-11-01&to=2026-11-30")
    page.get_by_test_id("stMetric").first.wait_for()
    fields = page.get_by_test_id("stSidebar").get_by_test_id("stDateInput")
    fields.first.wait_for()
    # Side by side they were ~110 px wide and clipped the day ("2026/11/0"): now full width.
    widths = [box["width"] for box in (field.bounding_box() for field in fields.all())]
    assert len(widths) == 2 and min(widths) >= 200, widths
