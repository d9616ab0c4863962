"""In a real browser: a reviewer rates runs of the Review queue with the keyboard.

The server runs as scripts/run.sh starts it (tests/browser_support.py) on a store
the demo command fills. Needs Debian's chromium (skipped with a reason without it;
a failure when CI=true).
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from sqlalchemy import select

from telemetry.db import make_engine
from telemetry.models import Score
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


def test_reviewer_rates_the_queue_with_shortcuts_and_goes_back(tmp_path):
    need_chromium()
    with running_server(tmp_path, demo=False) as server:
        password = server.wait_for(r"password: (\S+)", START_TIMEOUT).group(1)
        subprocess.run(
            [sys.executable, "-m", "telemetry", "demo", "--days", "10", "--traces", "600"],
            cwd=ROOT, env=server.env, capture_output=True, timeout=600, check=True,
        )  # fmt: skip
        with chromium_browser() as browser:
            context = browser.new_context(viewport={"width": 1500, "height": 1800})
            context.set_default_timeout(UI_TIMEOUT)
            page = context.new_page()
            page.goto(f"{server.url}/review?org=demo&period=Last+30+days")
            page.get_by_role("textbox", name="Username").fill("admin")
            page.get_by_role("textbox", name="Password").fill(password)
            page.get_by_role("button", name="Log in").click()
            position = page.get_by_text(re.compile(r"^1 of \d+"))
            position.wait_for()
            page.get_by_role("heading", name="Steps").wait_for()  # the trace beside the queue
            comment = page.get_by_label("Comment (optional)")
            comment.fill("total is wrong <b>twice</b>")
            position.click()  # the focus leaves the comment box: single-key shortcuts apply
            page.keyboard.press("b")
            page.get_by_text(re.compile(r"^2 of \d+ .* 1 rated this session")).wait_for()
            page.get_by_text("Rating stored").wait_for()
            page.keyboard.press("g")
            page.get_by_text(re.compile(r"^3 of \d+ .* 2 rated this session")).wait_for()
            page.keyboard.press("p")
            page.get_by_text(re.compile(r"^2 of \d+")).wait_for()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "review-queue.png"), full_page=True)
            context.close()
        engine = make_engine(server.env["TELEMETRY_DATABASE_URL"])
        with engine.connect() as conn:
            rows = conn.execute(
                select(Score.label, Score.comment)
                .where(Score.source == "human", Score.author == "admin")
                .order_by(Score.id)
            ).all()
        engine.dispose()
    assert rows == [("down", "total is wrong <b>twice</b>"), ("up", "")]
