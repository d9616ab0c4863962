"""Every download neutralised: every table of every page, downloaded in Chromium every way offered.

The store holds formula-like text in every field (tests/hostile_store.py). On
every page, tab, dialog and trace view the test clicks each of the app's own
download buttons, and hovers each table and each chart for Streamlit's toolbar:
a "Download as CSV" there (on a table, or on a chart's "Show data" view) is
used too. No cell of any file may start with =, +, -, @, tab or carriage
return unless it is neutralised (a leading apostrophe, telemetry/csvsafe.py)
or a number. The product turns the toolbar's export off
(.streamlit/config.toml, client.disableDataExport): Streamlit 1.67 exports
cells as they are and has no per-table switch.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests import hostile_store as hostile
from tests.browser_support import (
    START_TIMEOUT,
    UI_TIMEOUT,
    Server,
    chromium_browser,
    need_chromium,
    running_server,
)
from tests.browser_watch import VIEWPORT, Watch, choose, go, log_in, settle

pytestmark = pytest.mark.browser

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The neutralised forms the files must hold, so the test is never vacuous.
EXPECTED_NEUTRALISED = ("'=HYPERLINK(", "'@SUM(1+1)", "'+cmd|", "'-2+3")
TOOLBAR_DOWNLOAD = "Download as CSV"
# Streamlit's toolbar export writes through the File System Access API when the
# browser has it (a native save dialog); without it, it falls back to a download.
NO_SAVE_PICKER = "delete window.showSaveFilePicker;"


@dataclass
class Downloads:
    """Every file fetched, by where it came from, and the cells that would run as formulas."""

    files: dict[str, list[list[str]]] = field(default_factory=dict)
    formulas: list[tuple[str, str]] = field(default_factory=list)

    def add(self, where: str, content: bytes) -> None:
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
        self.files[where] = rows
        self.formulas += [(where, cell) for row in rows for cell in row if runs_as_formula(cell)]

    def cells(self) -> set[str]:
        return {cell for rows in self.files.values() for row in rows for cell in row}


def runs_as_formula(cell: str) -> bool:
    if not cell.startswith(FORMULA_STARTS):
        return False
    try:
        float(cell)
    except ValueError:
        return True
    return False  # a number, such as a negative cost


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    need_chromium()
    home = tmp_path_factory.mktemp("downloads")
    env = {"TELEMETRY_REPORTS_DIR": str(home / "reports")}
    with running_server(home, demo=False, env=env) as running:
        running.wait_for(r"password: (\S+)", START_TIMEOUT)
        hostile.seed(running)
        yield running


@pytest.fixture(scope="module")
def browser(server):
    with chromium_browser() as chromium:
        yield chromium


@pytest.fixture(params=["admin", "manager"])
def signed_in(request, server, browser):
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(UI_TIMEOUT)
    context.add_init_script(NO_SAVE_PICKER)
    watch = Watch(server.url)
    watch.attach(context)
    page = context.new_page()
    if request.param == "admin":
        password = server.wait_for(r"password: (\S+)", 1).group(1)
        log_in(page, server.url, "admin", password)
    else:
        log_in(page, server.url, hostile.MANAGER, hostile.MANAGER_PASSWORD)
    yield page
    assert watch.problems() == {}
    context.close()


def test_every_download_of_every_page_is_neutralised(signed_in, server):
    page, downloads = signed_in, Downloads()

    def everything(where: str, scope=None) -> None:
        download_everything(page, scope or page, downloads, where)

    go(page, server.url, "/")  # Overview: the default page lives at /
    everything("Overview")
    go(page, server.url, "/analytics")
    for tab in ("Trends", "Runs", "Models", "Peak usage", "Code & outcomes", "Audit"):
        page.get_by_role("tab", name=tab).click()
        settle(page)
        everything(f"Analytics {tab}")
    go(page, server.url, "/users")
    everything("Users")
    choose(page, "User detail", hostile.USER_EMAIL)
    page.get_by_role("button", name="Open detail").click()
    page.get_by_role("dialog").wait_for()
    settle(page)
    for tab in ("By model", "By provider", "By tool"):
        dialog = page.get_by_role("dialog")
        dialog.get_by_role("tab", name=tab).click()
        everything(f"User detail {tab}", dialog)
    go(page, server.url, "/billing")
    for tab in ("By Model", "By User"):
        page.get_by_role("tab", name=tab).click()
        settle(page)
        everything(f"Billing {tab}")
    go(page, server.url, "/live")
    page.get_by_text("Pause auto-refresh").click()
    settle(page)
    everything("Live runs")
    go(page, server.url, "/sessions")
    choose(page, "Open a session", "HYPERLINK")
    page.get_by_role("button", name="Open session").click()
    settle(page)
    everything("Sessions")
    go(page, server.url, "/alerts")
    for tab in ("Rules", "History", "Budgets"):
        page.get_by_role("tab", name=tab).click()
        settle(page)
        everything(f"Alerts {tab}")
    go(page, server.url, "/traces")
    everything("Traces")
    go(page, server.url, f"/traces?trace={0xB0:032x}")
    everything("Trace view")

    assert downloads.files, "no file was downloaded"
    assert downloads.formulas == [], f"cells a spreadsheet would run: {downloads.formulas}"
    cells = downloads.cells()
    for start in EXPECTED_NEUTRALISED:
        assert any(cell.startswith(start) for cell in cells), f"no {start!r} cell downloaded"


def download_everything(page, scope, downloads: Downloads, where: str) -> None:
    """``scope``'s own download buttons (the page or a dialog), then the toolbar of every
    table and chart view in it."""
    buttons = scope.get_by_test_id("stDownloadButton").locator("button")
    for index in range(buttons.count()):
        button = buttons.nth(index)
        if button.is_visible():
            fetch(page, button, downloads, f"{where}: {button.inner_text().strip()} #{index}")
    boxes = scope.get_by_test_id("stElementContainer")
    tables = boxes.filter(has=page.get_by_test_id("stDataFrame"))
    for index in range(tables.count()):
        if tables.nth(index).is_visible():
            toolbar_download(page, tables.nth(index), downloads, f"{where}: table {index}")
    # By position among all element containers: "Show data" swaps the chart out of its box.
    charts = boxes.evaluate_all(
        "boxes => boxes.flatMap((box, index) =>"
        " box.querySelector('[data-testid=stVegaLiteChart]') ? [index] : [])"
    )
    for index in charts:
        box = boxes.nth(index)
        if not box.is_visible():
            continue
        box.scroll_into_view_if_needed()
        box.hover()
        # Toolbar buttons float over the chart's marks: a real click could land on a bar.
        box.get_by_role("button", name="Show data").dispatch_event("click")
        box.get_by_test_id("stDataFrame").wait_for()
        toolbar_download(page, box, downloads, f"{where}: chart {index}, its data")
        box.get_by_role("button", name="Show chart").dispatch_event("click")


def toolbar_download(page, box, downloads: Downloads, where: str) -> None:
    """The element's own toolbar "Download as CSV", when Streamlit offers one."""
    box.scroll_into_view_if_needed()
    box.hover()
    page.wait_for_timeout(200)
    offered = box.get_by_role("button", name=TOOLBAR_DOWNLOAD)
    if offered.count():
        fetch(page, offered.first, downloads, f"{where} ({TOOLBAR_DOWNLOAD})", dispatch=True)


def fetch(page, button, downloads: Downloads, where: str, *, dispatch: bool = False) -> None:
    with page.expect_download() as started:
        if dispatch:
            button.dispatch_event("click")
        else:
            button.click()
    download = started.value
    if download.suggested_filename.endswith(".csv"):
        with open(download.path(), "rb") as handle:
            downloads.add(where, handle.read())
