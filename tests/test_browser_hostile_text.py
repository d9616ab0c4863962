"""Telemetry text is text: hostile strings in every field, every page, a real browser, nothing runs.

The product (``streamlit run app.py``) runs on a temporary store filled through
the real ingest paths with Markdown, HTML and links in every field
(tests/hostile_store.py). An admin and a manager of the hostile team open
every page, tab, dialog and trace step, and a generated HTML report. Any
request to another origin is aborted and recorded, and so are dialogs and
console errors; the pages must hold no link, image, frame or element built
from telemetry, no math, colour, badge, icon or emoji made of it, and show the
hostile strings where they appear as the characters they are. Screenshots
(1440x900) go to test-artifacts/hostile-*.png.
"""

from __future__ import annotations

import io
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from pypdf import PdfReader

from telemetry.db import make_engine
from telemetry.filters import Filters
from telemetry.reports.builder import build_report
from telemetry.reports.catalog import DEFAULT_ITEMS
from telemetry.reports.model import ChartBlock, ReportFormat, ReportRequest
from telemetry.reports.pdf import render_pdf
from telemetry.timeutil import now_us
from tests import hostile_store as hostile
from tests.browser_support import (
    ARTIFACTS,
    START_TIMEOUT,
    UI_TIMEOUT,
    Server,
    chromium_browser,
    need_chromium,
    running_server,
)
from tests.browser_watch import VIEWPORT, Watch, choose, go, log_in, open_options, settle

pytestmark = pytest.mark.browser

JOINER = "\u2060"
FAILED_TRACE = f"{0xA1:032x}"
REPORT_TIMEOUT = 300_000  # milliseconds: every item of every module, built and rendered
ANALYTICS_TABS = ("Trends", "Runs", "Models", "Peak usage", "Code & outcomes", "Audit")
# What the page may carry that is not telemetry: the status badge of a trace.
STATUS_BADGES = {"ok", "error", "timeout", "running", "unknown status"}
# Run in every frame: what telemetry must never have become (see the file).
_RENDERED = (Path(__file__).parent / "rendered_telemetry.js").read_text()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    need_chromium()
    home = tmp_path_factory.mktemp("hostile")
    env = {"TELEMETRY_REPORTS_DIR": str(home / "reports")}
    with running_server(home, demo=False, env=env) as running:
        running.wait_for(r"password: (\S+)", START_TIMEOUT)
        hostile.seed(running)
        yield running


@pytest.fixture(scope="module")
def browser(server):
    with chromium_browser() as chromium:
        yield chromium


@pytest.fixture(scope="module", params=["admin", "manager"])
def role(request, server, browser):
    """A logged-in page of the role, and the watch over its context."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(UI_TIMEOUT)
    watch = Watch(server.url)
    watch.attach(context)
    page = context.new_page()
    if request.param == "admin":
        password = server.wait_for(r"password: (\S+)", 1).group(1)
        log_in(page, server.url, "admin", password)
    else:
        log_in(page, server.url, hostile.MANAGER, hostile.MANAGER_PASSWORD)
    yield request.param, page, watch
    context.close()


def shown_text(page) -> str:
    """Everything the page shows as text, the invisible word joiners left out."""
    text = page.evaluate("() => document.body.innerText").replace(JOINER, "")
    return re.sub(r"\s+", " ", text)


def assert_shown_literally(page, *strings: str) -> None:
    text = shown_text(page)
    missing = [value for value in strings if re.sub(r"\s+", " ", value) not in text]
    assert missing == [], f"not shown as text on {page.url}: {missing}"


def assert_inert(page, watch: Watch, where: str) -> None:
    rendered = []
    for frame in page.frames:
        try:
            rendered += [f"{frame.url[:60]}: {item}" for item in frame.evaluate(_RENDERED)]
        except Exception as error:  # a frame that went away meanwhile
            if "detached" not in str(error).lower():
                raise
    # A status badge reads "<icon name> <status>": the only badge a page may hold.
    rendered = [
        item
        for item in rendered
        if not ("badge:" in item and item.split("badge:")[1].split(" ", 1)[-1] in STATUS_BADGES)
    ]
    assert rendered == [], f"{where}: telemetry rendered as markup: {rendered}"
    assert watch.problems() == {}, f"{where}: {watch.problems()}"


def screenshot(page, role_name: str, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"hostile-{role_name}-{name}.png"))


def test_overview(role, server):
    name, page, watch = role
    watch.reset()
    query = urlencode({"team": hostile.TEAM, "env": hostile.ENVIRONMENT})
    go(page, server.url, f"/?{query}")  # Overview: the default page lives at /
    page.get_by_test_id("stMetric").first.wait_for()
    assert_shown_literally(page, hostile.TEAM, hostile.ENVIRONMENT)
    page.get_by_text("alert rule(s) firing").wait_for()
    assert_shown_literally(page, hostile.RULE_NAME, hostile.AGENT, hostile.FORMULAS[0])
    # The modules chart: its tooltips name the modules, as text.
    assert any(hostile.MODULE in tip for tip in hover_every_mark(page))
    screenshot(page, name, "overview")
    assert_inert(page, watch, "Overview")
    if name == "manager":  # a link to another team: the notice names the manager's own
        go(page, server.url, "/?team=Unassigned")
        page.get_by_text("outside your access").wait_for()
        assert_shown_literally(page, f"showing your teams: {hostile.TEAM}.")
        assert_inert(page, watch, "Overview, link notice")


def test_analytics_every_tab(role, server):
    name, page, watch = role
    watch.reset()
    go(page, server.url, "/analytics")
    for tab in ANALYTICS_TABS:
        page.get_by_role("tab", name=tab).click()
        settle(page)
        if tab == "Trends":
            choose(page, "Break down by", "Agent")
        if tab == "Runs":
            # FORMULAS[0]'s run is by a user of the hostile team: the manager sees it too.
            assert_shown_literally(page, hostile.AGENT, hostile.FORMULAS[0])
        if tab == "Models":
            assert_shown_literally(page, hostile.MODEL)
        screenshot(page, name, f"analytics-{tab.split()[0].lower()}")
        assert_inert(page, watch, f"Analytics, {tab}")


def test_alerts_every_tab(role, server):
    name, page, watch = role
    watch.reset()
    go(page, server.url, "/alerts")
    tabs = ["Rules", "History", "Budgets"] + (["Channels"] if name == "admin" else [])
    for tab in tabs:
        page.get_by_role("tab", name=tab).click()
        settle(page)
        screenshot(page, name, f"alerts-{tab.lower()}")
        assert_inert(page, watch, f"Alerts, {tab}")


def test_users_and_a_users_detail(role, server):
    name, page, watch = role
    watch.reset()
    go(page, server.url, "/users")
    assert_inert(page, watch, "Users")
    choose(page, "User detail", hostile.USER_EMAIL)
    page.get_by_role("button", name="Open detail").click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    settle(page)
    assert_shown_literally(
        page, hostile.USER_NAME, hostile.USER_ID, hostile.USER_EMAIL, hostile.COMPANY, hostile.TEAM
    )
    screenshot(page, name, "user-detail")
    assert_inert(page, watch, "Users, detail dialog")


def test_billing_and_a_price_for_a_hostile_model(role, server):
    name, page, watch = role
    watch.reset()
    go(page, server.url, "/billing")
    for tab in ("By Model", "By User"):
        page.get_by_role("tab", name=tab).click()
        settle(page)
    screenshot(page, name, "billing")
    assert_inert(page, watch, "Billing")
    if name != "admin":
        return
    choose(page, "Model", "gpt-evil")
    for label, price in (("Input", "1"), ("Output", "2")):
        page.get_by_role("spinbutton", name=label, exact=True).fill(price)
    page.get_by_role("button", name="Set price and re-price stored calls").click()
    page.get_by_text("Price set for").wait_for()
    settle(page)
    assert_shown_literally(page, f"Price set for {hostile.MODEL}:")
    assert_inert(page, watch, "Billing, price set")


def test_live_runs(role, server):
    name, page, watch = role
    watch.reset()
    go(page, server.url, "/live")
    page.get_by_text("1 running").wait_for()
    page.get_by_text("Pause auto-refresh").click()
    settle(page)
    screenshot(page, name, "live")
    assert_inert(page, watch, "Live runs")


def test_sessions_and_a_session(role, server):
    name, page, watch = role
    watch.reset()
    go(page, server.url, "/sessions")
    assert_inert(page, watch, "Sessions")
    choose(page, "Open a session", "[session](javascript")
    page.get_by_role("button", name="Open session").click()
    settle(page)
    user = f"User {hostile.USER_NAME} ({hostile.USER_ID})"  # the name, the id beside it
    assert_shown_literally(page, f"Session {hostile.SESSION}", user)
    screenshot(page, name, "session")
    assert_inert(page, watch, "Sessions, one session")


def test_traces_list(role, server):
    name, page, watch = role
    watch.reset()
    go(page, server.url, "/traces")
    choose(page, "Open a trace", "jsonl")  # the picker's options are plain text
    screenshot(page, name, "traces")
    assert_inert(page, watch, "Traces")


@pytest.mark.parametrize(
    ("trace_id", "shown"),
    [
        (
            FAILED_TRACE,
            (
                hostile.TRACE_NAME,
                hostile.USER_ID,
                hostile.TEAM,
                hostile.AGENT,
                hostile.MODULE,
                hostile.ENVIRONMENT,
                hostile.SESSION,
                hostile.STEP_NAME,
                hostile.TOOL_ERROR,
                f"{hostile.ERROR_TYPE}: {hostile.TOOL_ERROR}",
                hostile.TOOL,
                hostile.TOOL_TYPE,
            ),
        ),
        (hostile.HOSTILE_TRACE_ID, (hostile.HOSTILE_TRACE_ID, hostile.JSONL_TRACE_NAME)),
    ],
    ids=["otlp-trace", "jsonl-trace"],
)
def test_a_trace_and_every_step(role, server, trace_id, shown):
    name, page, watch = role
    watch.reset()
    go(page, server.url, "/traces?" + urlencode({"trace": trace_id}))
    page.get_by_text("Step detail").wait_for()
    assert_shown_literally(page, *shown)
    # The waterfall's tooltips: step names and errors, as text.
    tips = hover_every_mark(page)
    assert any(value in tip for tip in tips for value in shown), tips
    screenshot(page, name, f"trace-{trace_id[:8].encode().hex()}")
    assert_inert(page, watch, f"trace {trace_id}")
    count = open_options(page, "Step").count()
    page.keyboard.press("Escape")
    for number in range(1, count + 1):
        open_options(page, "Step").nth(number - 1).click()
        settle(page)
        # The step's own expander (the sidebar's help mentions attributes too).
        attributes = page.get_by_test_id("stExpander").filter(
            has=page.locator("summary").get_by_text("Attributes", exact=True)
        )
        if attributes.count():
            attributes.locator("summary").click()
            settle(page)
        assert_inert(page, watch, f"trace {trace_id}, step {number}")
        if page.get_by_text("Provider").count() and trace_id == FAILED_TRACE:
            assert_shown_literally(page, hostile.MODEL, hostile.PROVIDER)
            if name == "admin":
                assert_shown_literally(page, hostile.CONTENT)
            screenshot(page, name, "trace-llm-step")


def test_a_missing_trace_with_a_hostile_id(role, server):
    _, page, watch = role
    watch.reset()
    missing = "![x](https://tracker.evil.example/missing.png) `x`"
    go(page, server.url, "/traces?" + urlencode({"trace": missing}))
    page.get_by_text("here: it does not exist").wait_for()
    assert_shown_literally(page, f"No trace {missing} here")
    assert_inert(page, watch, "a missing trace")


def test_reports_page_and_the_html_report(role, server, tmp_path, browser):
    name, page, watch = role
    watch.reset()
    go(page, server.url, "/reports")
    page.get_by_text("HTML", exact=True).click()
    page.get_by_role("button", name="Generate report").click()
    download_button = page.get_by_role("button", name="Download HTML")
    download_button.wait_for(timeout=REPORT_TIMEOUT)
    settle(page)
    # The preview is the whole file (the chart library inlined): slow to draw on a busy machine.
    preview = page.frame_locator("[data-testid=stIFrame]")
    preview.locator(".vega-embed svg").first.wait_for(timeout=REPORT_TIMEOUT)
    page.wait_for_timeout(1000)
    screenshot(page, name, "reports")
    assert_inert(page, watch, "Reports, preview")
    with page.expect_download() as started:
        download_button.click()
    path = tmp_path / "report.html"
    started.value.save_as(path)
    assert_html_report_is_inert(browser, path)


def assert_html_report_is_inert(browser, path) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(UI_TIMEOUT)
    watch = Watch("file://")
    watch.attach(context)
    page = context.new_page()
    page.goto(path.as_uri())
    page.wait_for_function(
        "document.querySelectorAll('.vega-embed svg.marks').length > 3", timeout=REPORT_TIMEOUT
    )
    page.wait_for_timeout(500)
    assert_shown_literally(page, hostile.USER_NAME, hostile.TEAM)
    tooltips = hover_every_mark(page)
    assert any(hostile.EVIL in tip for tip in tooltips), tooltips
    assert_inert(page, watch, "the HTML report")
    page.screenshot(path=str(ARTIFACTS / "hostile-report.html.png"), full_page=True)
    context.close()


def hover_every_mark(page) -> list[str]:
    """Hover each bar and point of every chart; the tooltips' texts (vega-tooltip fills its
    element with innerHTML, after escaping "<" and "&")."""
    texts = []
    marks = page.locator(".vega-embed .mark-rect path, .vega-embed .mark-symbol path")
    for index in range(min(marks.count(), 120)):
        marks.nth(index).hover(force=True)
        page.wait_for_timeout(30)
        tooltip = page.locator("#vg-tooltip-element.visible")
        if tooltip.count():
            assert tooltip.locator("img, script, iframe, svg, a, style").count() == 0
            texts.append(tooltip.inner_text())
    return texts


def test_pdf_report_prints_hostile_text_and_fetches_nothing(server, monkeypatch):
    """The PDF of the same store (built in-process, so every outgoing connection is seen)."""
    attempts = []

    def refuse(sock, address):
        attempts.append(address)
        raise OSError(f"no network in this test: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    engine = make_engine(server.env["TELEMETRY_DATABASE_URL"])
    today = datetime.now(UTC).date()
    request = ReportRequest(
        filters=Filters(start=today - timedelta(days=29), end=today, org="default"),
        format=ReportFormat.PDF,
        items=DEFAULT_ITEMS,
        generated_by="admin",
        generated_at_us=now_us(),
    )
    report = build_report(engine, request)
    assert report.failed == ()
    reader = PdfReader(io.BytesIO(render_pdf(report)))
    engine.dispose()
    # Narrow PDF table cells wrap anywhere: look for markup, printed, with no spaces.
    text = "".join("".join(page.extract_text() for page in reader.pages).split())
    for printed in ("<imgsrc=xonerror", "<b>Ops</b>", ":blue-badge[agent]", '=HYPERLINK("'):
        assert printed in text
    charts = sum(isinstance(result.block, ChartBlock) for result in report.results)
    assert sum(len(page.images) for page in reader.pages) == charts  # nothing fetched as an image
    assert attempts == []
