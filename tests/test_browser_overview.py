"""The real thing in a real browser: the server as scripts/run.sh starts it, headless Chromium.

The server runs ``streamlit run app.py`` (what scripts/run.sh execs) on a free
port, pointed at a temporary store and accounts file (tests/browser_support.py). Its first start
fills the store with demo data and prints the first admin's password, which the
test reads from the server's output and logs in with. KPI cards are compared
with ``python -m telemetry metrics --json`` for the same organization, period
and teams. Screenshots go to test-artifacts/ (git-ignored).

Needs Debian's chromium at /usr/bin/chromium (never downloaded): skipped with a
reason when it is missing, a failure when CI=true.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest

from telemetry.demo.catalog import TEAMS
from tests.browser_support import (
    ARTIFACTS,
    ROOT,
    UI_TIMEOUT,
    Server,
    chromium_browser,
    demo_server,
)

pytestmark = pytest.mark.browser

# Card label -> how `metrics --json` names the same number.
CARD_KEYS = {
    "Total users": "users_total",
    "Active users": "users_active",
    "New users": "users_new",
    "Activation rate": "activation_rate",
    "Runs": "traces",
    "Sessions": "sessions",
    "Error rate": "error_rate",
    "Cost": "cost_usd",
    "Priced share": "priced_share",
    "Tokens": "tokens",
    "Positive rate": "positive_rate",
}
# What a card shows when its figure is null (nothing to divide by).
NULL_TEXT = {"Positive rate": "no ratings"}
OWN_TEAM = "Engineering"
OTHER_TEAM = "Customer Support"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    with demo_server(tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture(scope="module")
def browser(server):
    with chromium_browser() as chromium:
        yield chromium


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    context.set_default_timeout(UI_TIMEOUT)
    yield context.new_page()
    context.close()


def cli(server: Server, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "telemetry", *args],
        cwd=ROOT,
        env=server.env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def metrics_json(server: Server, org: str, start: date, end: date, teams=()) -> dict:
    args = ["metrics", "--json", "--org", org, "--from", str(start), "--to", str(end)]
    for team in teams:
        args += ["--team", team]
    figures = json.loads(cli(server, *args))
    figures["tokens"] = figures["input_tokens"] + figures["output_tokens"]
    return figures


def log_in(page, username: str, password: str) -> None:
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("stMetric").first.wait_for()


def shown_period(page) -> tuple[date, date]:
    """The period the sidebar says it shows, e.g. "25 Oct 2026 – 23 Nov 2026 · 30 days, UTC"."""
    text = page.get_by_test_id("stSidebar").get_by_text(re.compile(r"days?, UTC")).inner_text()
    first, last = re.findall(r"\d{2} \w{3} \d{4}", text)
    return tuple(datetime.strptime(day, "%d %b %Y").date() for day in (first, last))


def settled_cards(page) -> dict[str, str]:
    """Card label -> value, once two reads a second apart agree (the run has finished)."""
    previous: dict[str, str] = {}
    for _ in range(60):
        page.wait_for_timeout(1000)
        cards = {}
        for card in page.get_by_test_id("stMetric").all():
            label = card.get_by_test_id("stMetricLabel").inner_text().split(" · ")[0].strip()
            cards[label] = card.get_by_test_id("stMetricValue").inner_text().strip()
        if cards and cards == previous:
            return cards
        previous = cards
    raise AssertionError(f"the KPI cards never settled: {previous}")


def card_number(text: str) -> tuple[float, float]:
    """The number a card shows and how far rounding may have moved it."""
    plain = text.replace(",", "").replace("$", "")
    if plain.endswith("%"):
        return float(plain[:-1]) / 100, 0.0005
    for suffix, scale in (("k", 1e3), ("M", 1e6), ("B", 1e9), ("T", 1e12)):
        if plain.endswith(suffix):
            return float(plain[:-1]) * scale, 0.05 * scale
    return float(plain), 0.005


def assert_cards_match(cards: dict[str, str], figures: dict) -> None:
    assert set(cards) == set(CARD_KEYS), cards
    for label, key in CARD_KEYS.items():
        expected = figures[key]
        if expected is None:
            assert cards[label] == NULL_TEXT.get(label, "–"), label
            continue
        shown, slack = card_number(cards[label])
        assert abs(shown - expected) <= slack, f"{label}: card {cards[label]}, metrics {expected}"


def choose(page, widget_label: str, option: str) -> None:
    page.get_by_test_id("stSelectbox").filter(has_text=widget_label).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_first_start_printed_the_admin_password_once(server):
    assert len(re.findall(r"password: \S+", server.output())) == 1
    assert "First start: generating demo data" in server.output()


def test_visitor_gets_only_the_login_form_on_every_url(server, page):
    # Run first, on a fresh server: the first request must not skip the login either.
    for path in ("/overview", "/", "/billing", "/settings", "/overview?org=demo&team=Engineering"):
        page.goto(server.url + path)
        page.get_by_role("button", name="Log in").wait_for()
        page.wait_for_timeout(1500)
        assert page.get_by_test_id("stMetric").count() == 0, path
        body = page.inner_text("body")
        assert "Runs" not in body and OWN_TEAM not in body, path
    page.screenshot(path=str(ARTIFACTS / "login.png"))


def test_ingest_endpoint_answers_on_the_same_port(server):
    request = urllib.request.Request(
        f"{server.url}/v1/traces",
        data=b"{}",
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401


def test_admin_overview_matches_metrics_json_and_follows_the_period(server, page):
    password = server.wait_for(r"password: (\S+)", 1).group(1)
    page.goto(server.url)
    log_in(page, "admin", password)
    start, end = shown_period(page)
    assert (end - start).days + 1 == 30
    assert_cards_match(settled_cards(page), metrics_json(server, "demo", start, end))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "overview-admin-30-days.png"), full_page=True)

    choose(page, "Period", "Last 7 days")
    page.get_by_text(re.compile(r"· 7 days, UTC")).wait_for()
    start, end = shown_period(page)
    assert (end - start).days + 1 == 7
    assert "period=Last+7+days" in page.url
    assert_cards_match(settled_cards(page), metrics_json(server, "demo", start, end))
    page.screenshot(path=str(ARTIFACTS / "overview-admin-7-days.png"), full_page=True)


def test_manager_sees_only_own_team_whatever_the_url_says(server, page):
    cli(
        server,
        *("users", "add", "mia", "--role", "manager", "--team", OWN_TEAM, "--org", "demo"),
        "--password-stdin",
        stdin="mias-long-password\n",
    )
    page.goto(f"{server.url}/?org=demo&team={OTHER_TEAM.replace(' ', '+')}")
    log_in(page, "mia", "mias-long-password")
    cards = settled_cards(page)
    start, end = shown_period(page)
    assert_cards_match(cards, metrics_json(server, "demo", start, end, teams=[OWN_TEAM]))
    text = page.inner_text("body")
    assert "The link asked for teams outside your access" in text
    for profile in TEAMS:
        if profile.name != OWN_TEAM:
            assert profile.name not in text, f"{profile.name} reached the manager"
    page.screenshot(path=str(ARTIFACTS / "overview-manager.png"), full_page=True)


def shown_window_end(page) -> str:
    """The end of the sub-day window the sidebar shows, as --until takes it (RFC 3339)."""
    text = page.get_by_test_id("stSidebar").get_by_text(re.compile(r"\(\d+ h\), UTC")).inner_text()
    day = re.findall(r"\d{2} \w{3} \d{4}", text)[-1]
    clock = re.findall(r"\d{2}:\d{2}", text)[-1]
    moment = datetime.strptime(f"{day} {'00:00' if clock == '24:00' else clock}", "%d %b %Y %H:%M")
    if clock == "24:00":
        moment += timedelta(days=1)
    return moment.strftime("%Y-%m-%dT%H:%M:00Z")


def test_last_hour_goes_into_the_url_and_matches_metrics_last_1h(server, page):
    password = server.wait_for(r"password: (\S+)", 1).group(1)
    page.goto(server.url)
    log_in(page, "admin", password)
    choose(page, "Period", "Last hour")
    page.get_by_test_id("stSidebar").get_by_text(re.compile(r"\(1 h\), UTC")).wait_for()
    assert "period=Last+hour" in page.url
    cards = settled_cards(page)
    until = shown_window_end(page)
    args = ["metrics", "--json", "--org", "demo", "--last", "1h", "--until", until]
    figures = json.loads(cli(server, *args))
    figures["tokens"] = figures["input_tokens"] + figures["output_tokens"]
    assert_cards_match(cards, figures)
    page.screenshot(path=str(ARTIFACTS / "overview-admin-last-hour.png"), full_page=True)


def test_overview_by_its_own_name_opens_as_the_menu_lists_it_with_its_filters(server, page):
    """/overview (a bookmark, a shared link) is the default page's alias: it opens the page
    the menu lists, highlighted there, at "/" with the link's filters."""
    password = server.wait_for(r"password: (\S+)", 1).group(1)
    page.goto(server.url)
    log_in(page, "admin", password)
    page.goto(f"{server.url}/overview?period=Last+7+days")
    page.wait_for_url(re.compile(r"^[^?]*/\?period=Last\+7\+days$"))
    page.get_by_text(re.compile(r"· 7 days, UTC")).wait_for()
    active = page.locator('[data-testid="stSidebarNavLink"][aria-current="page"]')
    assert active.count() == 1
    assert active.inner_text().split()[-1] == "Overview"  # after its icon's name
    page.screenshot(path=str(ARTIFACTS / "overview-alias.png"))
