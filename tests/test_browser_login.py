"""Logins in a real browser: the cookie is HttpOnly and SameSite=Strict, and copies die.

The server runs as scripts/run.sh starts it (tests/browser_support.py), headless
Chromium drives it. A copied cookie stands for someone who stole it: it must
open nothing once the password changed or the login was logged out elsewhere.
Needs Debian's chromium (tests/browser_support.py).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from telemetry.accounts import COOKIE_NAME
from tests.browser_support import ROOT, UI_TIMEOUT, chromium_browser, need_chromium, running_server

pytestmark = pytest.mark.browser

FIRST = "violet-lantern-harbor-91"
SECOND = "copper-meadow-satellite-47"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    need_chromium()
    with running_server(tmp_path_factory.mktemp("login-server"), demo=False) as started:
        yield started


@pytest.fixture(scope="module")
def browser(server):
    with chromium_browser() as chromium:
        yield chromium


def cli(server, *args: str, stdin: str) -> None:
    """``python -m telemetry ARGS`` against the server's store and accounts file."""
    command = [sys.executable, "-m", "telemetry", *args]
    subprocess.run(command, cwd=ROOT, env=server.env, input=stdin, text=True, check=True)


class Browsers:
    """Separate browser contexts: each is another person's (or a thief's) browser."""

    def __init__(self, browser) -> None:
        self.browser = browser
        self.contexts = []

    def new(self, cookies=()):
        context = self.browser.new_context(viewport={"width": 1300, "height": 1000})
        context.set_default_timeout(UI_TIMEOUT)
        if cookies:
            context.add_cookies(list(cookies))
        self.contexts.append(context)
        return context.new_page()

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsers(browser):
    opened = Browsers(browser)
    yield opened
    opened.close()


def add_admin(server, username: str, password: str) -> None:
    cli(server, "users", "add", username, "--role", "admin", "--password-stdin", stdin=password)


def log_in(page, url: str, username: str, password: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="Log in").wait_for()
    page.wait_for_timeout(1000)  # the page's own first reruns are over, as for a person
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()


def login_cookie(page) -> dict:
    (cookie,) = [c for c in page.context.cookies() if c["name"] == COOKIE_NAME]
    return cookie


def opens_dashboard(page, url: str | None = None) -> bool:
    """Load the page; True if it shows the dashboard, False if only the login form."""
    if url:
        page.goto(url)
    else:
        page.reload()
    either = page.get_by_role("button", name="Log out").or_(
        page.get_by_role("button", name="Log in")
    )
    either.first.wait_for()
    page.wait_for_timeout(1000)  # let the first run finish drawing
    if page.get_by_role("button", name="Log out").count():
        return True
    assert page.get_by_test_id("stMetric").count() == 0
    assert page.get_by_test_id("stSidebar").count() == 0 or "Filters" not in page.inner_text("body")
    return False


def test_the_login_cookie_is_httponly_and_strict_and_brings_you_back(server, browsers):
    add_admin(server, "ana", FIRST)
    page = browsers.new()
    log_in(page, f"{server.url}/users", "ana", FIRST)
    assert page.url.split("?")[0] == f"{server.url}/users"  # back where the login began
    cookie = login_cookie(page)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain http here; Secure when the browser uses https
    assert cookie["path"] == "/"
    assert COOKIE_NAME not in page.evaluate("document.cookie")  # scripts cannot read it
    assert opens_dashboard(page)  # a reload (a new Streamlit session) logs in from it


def test_a_copied_cookie_opens_nothing_after_the_password_changed(server, browsers):
    add_admin(server, "bea", FIRST)
    owner = browsers.new()
    log_in(owner, server.url, "bea", FIRST)
    copied = login_cookie(owner)
    thief = browsers.new(cookies=[copied])
    assert opens_dashboard(thief, server.url)  # the copy works while the login lives
    cli(server, "users", "passwd", "bea", "--password-stdin", stdin=SECOND)
    late_thief = browsers.new(cookies=[copied])
    assert not opens_dashboard(late_thief, server.url)
    assert "Your login has ended" in late_thief.inner_text("body")
    assert not opens_dashboard(thief)
    assert not opens_dashboard(owner)
    log_in(owner, server.url, "bea", SECOND)  # the new password works


def test_logout_in_one_browser_kills_every_copy_of_its_cookie(server, browsers):
    add_admin(server, "cai", FIRST)
    owner = browsers.new()
    log_in(owner, server.url, "cai", FIRST)
    copied = login_cookie(owner)
    other_tab = browsers.new(cookies=[copied])
    assert opens_dashboard(other_tab, server.url)
    owner.get_by_role("button", name="Log out").click()
    owner.get_by_text("You are logged out.").wait_for()
    assert [c for c in owner.context.cookies() if c["name"] == COOKIE_NAME] == []
    assert "logged_out" not in owner.url
    assert not opens_dashboard(other_tab)
    assert not opens_dashboard(browsers.new(cookies=[copied]), server.url)
