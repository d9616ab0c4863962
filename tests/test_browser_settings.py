"""The Settings page in a real browser: an admin creates a manager who then logs in with it;
a key created in the page is accepted by /v1/traces and refused once revoked there.

One server for the module (tests/browser_support.py), headless Debian Chromium.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.browser_support import ROOT, UI_TIMEOUT, chromium_browser, need_chromium, running_server
from tests.browser_watch import settle

pytestmark = pytest.mark.browser

ADMIN_PASSWORD = "violet-lantern-harbor-91"
MANAGER_PASSWORD = "copper-meadow-satellite-47"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    need_chromium()
    with running_server(tmp_path_factory.mktemp("settings-server"), demo=False) as started:
        command = [sys.executable, "-m", "telemetry", "users", "add", "ana", "--role", "admin"]
        subprocess.run(
            [*command, "--password-stdin"],
            cwd=ROOT,
            env=started.env,
            input=ADMIN_PASSWORD,
            text=True,
            check=True,
        )
        yield started


@pytest.fixture(scope="module")
def browser(server):
    with chromium_browser() as chromium:
        yield chromium


@pytest.fixture
def new_page(browser):
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1400, "height": 1100})
        context.set_default_timeout(UI_TIMEOUT)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def log_in(page, url: str, username: str, password: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="Log in").wait_for()
    page.wait_for_timeout(1000)  # the page's own first reruns are over, as for a person
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()


def open_tab(page, server, name: str) -> None:
    page.goto(f"{server.url}/settings")
    page.get_by_role("tab", name=name).click()


def test_an_admin_creates_a_manager_who_then_logs_in(server, new_page):
    admin = new_page()
    log_in(admin, f"{server.url}/settings", "ana", ADMIN_PASSWORD)
    admin.get_by_text("Add an account").click()
    admin.get_by_role("textbox", name="Username").fill("mia")
    admin.get_by_text("Generate a password (shown once)").click()  # untick: type one
    admin.get_by_role("textbox", name="Password (when not generated)").fill(MANAGER_PASSWORD)
    admin.get_by_role("textbox", name="Password (when not generated)").press("Enter")
    admin.get_by_role("button", name="Add account").click()
    admin.get_by_text("Account 'mia' created.").wait_for()

    manager = new_page()
    log_in(manager, server.url, "mia", MANAGER_PASSWORD)
    assert "Settings" not in manager.get_by_test_id("stSidebarNav").inner_text()
    manager.goto(f"{server.url}/settings")  # by URL: the default page, not Settings
    manager.get_by_role("button", name="Log out").wait_for()
    manager.wait_for_timeout(1000)
    assert manager.get_by_role("tab", name="Accounts").count() == 0


def post_traces(server, key: str) -> int:
    now_ns = time.time_ns()
    span = {
        "traceId": "ab" * 16,
        "spanId": "cd" * 8,
        "name": "invoke_agent",
        "kind": 1,
        "startTimeUnixNano": str(now_ns - 1_000_000_000),
        "endTimeUnixNano": str(now_ns),
        "status": {"code": 1},
    }
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
    request = urllib.request.Request(
        f"{server.url}/v1/traces",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_key_created_in_the_page_is_accepted_and_refused_once_revoked(server, new_page):
    admin = new_page()
    log_in(admin, f"{server.url}/settings", "ana", ADMIN_PASSWORD)
    admin.get_by_role("tab", name="API keys").click()
    admin.get_by_label("What the key is for").fill("browser-test")
    admin.get_by_role("button", name="Create key").click()
    shown = admin.get_by_test_id("stCode").first
    shown.wait_for()
    text = shown.inner_text()
    assert "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" in text
    key = re.search(r"Bearer%20(tk_[A-Za-z0-9_-]+)", text)[1]
    assert post_traces(server, key) == 200

    admin.get_by_role("button", name="I have copied it").click()
    settle(admin)  # the rerun redraws the tabs: a click before it lands on a detached button
    admin.get_by_role("tab", name="API keys").click()
    settle(admin)
    admin.get_by_role("button", name="Revoke key").click()
    admin.get_by_text("revoked: requests with it now get 401").wait_for()
    assert post_traces(server, key) == 401
