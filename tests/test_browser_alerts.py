"""In a real browser: an admin creates an alert rule through the Alerts page and sees its replay.

The server runs as scripts/run.sh starts it (tests/browser_support.py) on a store
that the demo command fills with 40 days of generated traces. Needs Debian's
chromium (skipped with a reason without it; a failure when CI=true).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.browser_support import (
    ARTIFACTS,
    ROOT,
    START_TIMEOUT,
    UI_TIMEOUT,
    chromium_browser,
    need_chromium,
    running_server,
)

pytestmark = pytest.mark.browser


def cli(server, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "telemetry", *args],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return done.stdout


def test_admin_creates_a_rule_and_sees_its_backtest(tmp_path):
    need_chromium()
    with running_server(tmp_path, demo=False) as server:
        password = server.wait_for(r"password: (\S+)", START_TIMEOUT).group(1)
        cli(server, "demo", "--days", "40", "--traces", "3000")
        with chromium_browser() as browser:
            context = browser.new_context(viewport={"width": 1400, "height": 2200})
            context.set_default_timeout(UI_TIMEOUT)
            page = context.new_page()
            page.goto(f"{server.url}/alerts?org=demo")
            page.get_by_role("textbox", name="Username").fill("admin")
            page.get_by_role("textbox", name="Password").fill(password)
            page.get_by_role("button", name="Log in").click()
            page.get_by_text("No alert rules yet").wait_for()
            form = page.get_by_test_id("stForm").first
            form.get_by_label("Name").fill("Busy demo")
            form.get_by_test_id("stSelectbox").filter(has_text="Metric").click()
            page.get_by_role("option", name="Runs (runs)", exact=True).click()
            form.get_by_test_id("stSelectbox").filter(has_text="Window").click()
            page.get_by_role("option", name="7 days", exact=True).click()
            form.get_by_label("Alert threshold").fill("500")
            form.get_by_role("button", name="Try on the last 30 days").click()
            summary = page.get_by_text(re.compile(r"^Would have fired \d+ times?"))
            summary.wait_for()
            page.get_by_text(re.compile("Sampled once a day")).wait_for()
            page.locator(".vega-embed").first.wait_for()  # the chart of the replay
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "alerts-backtest.png"), full_page=True)
            form.get_by_role("button", name="Save rule").click()
            rules = []
            for _ in range(60):  # the page saves it; the CLI reads the same store
                rules = json.loads(cli(server, "alerts", "list", "--org", "demo", "--json"))
                if rules:
                    break
                page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / "alerts-saved.png"), full_page=True)
            context.close()
    assert [(r["name"], r["metric"], r["window"], r["threshold"]) for r in rules] == [
        ("Busy demo", "runs", "7d", 500.0)
    ]
