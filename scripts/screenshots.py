"""Screenshots of every page at 1440x900 in Debian's Chromium, for looking at a change.

Usage: .venv/bin/python scripts/screenshots.py OUT_DIR [--root CHECKOUT] [--home DIR]
  --home: a directory with telemetry.db and auth.yaml holding an admin "shots" whose
  password is "shots-pass-123" (made with `telemetry demo` and `users add shots
  --role admin --password-stdin`); --root: the checkout whose app.py is served
  (default: this one), e.g. an exported older commit for "before" pictures.
Each page is saved twice: what fits the 1440x900 window, and (``-full``) a 1440x3200 one.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USER, PASSWORD = "shots", "shots-pass-123"
TALL = 3200  # pixels: the window height of the whole-page shots
# (file name, URL path and query): every page, Analytics' tabs, an opened session and trace.
SHOTS = [
    ("overview", "/overview"),
    ("analytics-trends", "/analytics?section=Trends"),
    ("analytics-runs", "/analytics?section=Runs"),
    ("analytics-models", "/analytics?section=Models"),
    ("analytics-peak", "/analytics?section=Peak+usage"),
    ("analytics-code", "/analytics?section=Code+%26+outcomes"),
    ("analytics-audit", "/analytics?section=Audit"),
    ("users", "/users"),
    ("billing", "/billing"),
    ("live", "/live"),
    ("sessions", "/sessions"),
    ("traces", "/traces"),
    ("alerts", "/alerts"),
    ("analytics-quality", "/analytics?section=Quality"),
    ("review", "/review"),
    ("reports", "/reports"),
    ("export", "/export"),
    ("settings", "/settings"),
    ("audit", "/audit"),
    ("custom-period", "/overview?period=Custom+range&from=2026-11-01&to=2026-11-30"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def settle(page) -> None:
    """Wait until Streamlit has finished the run (no status widget twice in a row)."""
    page.wait_for_timeout(1500)
    quiet = 0
    for _ in range(120):
        running = page.locator('[data-testid="stStatusWidget"]').count()
        running += page.locator('[data-testid="stSkeleton"]').count()  # widgets still coming
        quiet = quiet + 1 if not running else 0
        if quiet >= 3:
            return
        page.wait_for_timeout(500)


def shoot(page, out: Path, name: str) -> None:
    settle(page)
    page.screenshot(path=str(out / f"{name}.png"))
    # Streamlit scrolls inside its main section, so a "full page" shot is the window again:
    # a tall window shows the rest (the layout is still 1440 px wide).
    page.set_viewport_size({"width": 1440, "height": TALL})
    settle(page)
    page.screenshot(path=str(out / f"{name}-full.png"))
    page.set_viewport_size({"width": 1440, "height": 900})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--home", type=Path, default=Path("/tmp/shots/base"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "TELEMETRY_DATABASE_URL": f"sqlite:///{args.home / 'telemetry.db'}",
        "TELEMETRY_AUTH_FILE": str(args.home / "auth.yaml"),
        "TELEMETRY_DEMO": "0",
    }
    port = free_port()
    command = [str(ROOT / ".venv/bin/streamlit"), "run", "app.py", "--server.port", str(port)]
    command += ["--server.headless", "true"]
    server = subprocess.Popen(command, cwd=args.root, env=env, start_new_session=True)
    try:
        run(f"http://localhost:{port}", args.out)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)


def run(url: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = shutil.which("chromium") or "/usr/bin/chromium"
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.set_default_timeout(120_000)
        for _ in range(120):
            try:
                page.goto(url)
                break
            except Exception:  # the server is still starting
                time.sleep(1)
        page.get_by_role("textbox", name="Username").fill(USER)
        page.get_by_role("textbox", name="Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_test_id("stMetric").first.wait_for()
        for name, path in SHOTS:
            page.goto(url + path + ("&" if "?" in path else "?") + "org=demo")
            shoot(page, out, name)
        page.goto(url + "/sessions?org=demo")
        settle(page)
        first = page.get_by_test_id("stDataFrame").first
        first.click(position={"x": 12, "y": 52})  # the first row's selection box
        shoot(page, out, "sessions-opened")
        page.goto(url + "/traces?org=demo")
        settle(page)
        links = page.locator("a[href*='trace=']")
        if links.count():
            page.goto(re.sub(r"^(?!http)", url + "/", links.first.get_attribute("href")))
            shoot(page, out, "trace")
        browser.close()


if __name__ == "__main__":
    main()
