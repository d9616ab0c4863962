"""Resident memory of the dashboard server on the 1M-trace store, page by page.

Starts the server the way scripts/run.sh does (``streamlit run app.py``)
against bench/.cache's store, logs in with headless Chromium and opens every
page for a year and for 30 days, reading the server's RSS (VmRSS of the
process and its children) after each page has finished drawing. The budget in
DESIGN.md is 600 MB.

    .venv/bin/python bench/bench_memory.py [--traces 1000000] [--pages overview,users]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import BENCH_END, CACHE, SERVER_COMMAND, bench_store  # noqa: E402
from telemetry import accounts  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
# URL path -> the title the page shows once drawn.
PAGES = {
    "overview": "Overview",
    "analytics": "Analytics",
    "users": "Users",
    "billing": "Billing",
    "sessions": "Sessions",
    "traces": "Traces",
    "live": "Live runs",
    "reports": "Reports",
}
PASSWORD = "bench-memory-password"


def rss_mb(pid: int) -> float:
    """Resident set of ``pid`` and its descendants, in MB."""
    total_kb = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        total_kb += int(found.group(1)) if found else 0
        pids.extend(int(child) for child in children)
    return total_kb / 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(database: Path, home: Path) -> tuple[subprocess.Popen, str, list[str]]:
    auth = home / "auth.yaml"
    accounts.add_account("bench", role=accounts.ADMIN, password=PASSWORD, path=auth)
    env = {
        **os.environ,
        "TELEMETRY_DATABASE_URL": f"sqlite:///{database}",
        "TELEMETRY_AUTH_FILE": str(auth),
        "TELEMETRY_DEMO": "0",
        "TELEMETRY_REPORTS_DIR": str(home / "reports"),
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [*SERVER_COMMAND, "--server.port", str(free_port())],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    threading.Thread(
        target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True
    ).start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = re.search(r"URL: (http://localhost:\d+)", "".join(lines))
        if found:
            return process, found.group(1), lines
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise SystemExit("the server did not start:\n" + "".join(lines))


def wait_until_drawn(page, title: str | None = None) -> float:
    """Seconds until the page's title is shown and its script has stopped running."""
    started = time.perf_counter()
    if title:
        page.get_by_role("heading", name=title).first.wait_for(timeout=600_000)
    idle = 0
    while idle < 2:  # two idle readings a second apart: the run has really finished
        page.wait_for_timeout(500)
        state = page.get_by_test_id("stApp").get_attribute("data-test-script-state")
        idle = idle + 1 if state == "notRunning" else 0
    return time.perf_counter() - started - 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=1_000_000)
    parser.add_argument("--pages", default=",".join(PAGES))
    args = parser.parse_args()
    bench_store(args.traces).dispose()
    database = CACHE / f"bench-{args.traces}-365d.db"
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as home:
        process, url, _output = start_server(database, Path(home))
        try:
            print(f"server started: RSS {rss_mb(process.pid):.0f} MB")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM)
                page = browser.new_page(viewport={"width": 1400, "height": 1800})
                page.goto(url)
                page.get_by_role("textbox", name="Username").fill("bench")
                page.get_by_role("textbox", name="Password").fill(PASSWORD)
                page.get_by_role("button", name="Log in").click()
                wait_until_drawn(page)
                peak = rss_mb(process.pid)
                for days in (365, 30):
                    start = BENCH_END - timedelta(days=days - 1)
                    query = f"org=demo&period=Custom+range&from={start}&to={BENCH_END}"
                    for name in args.pages.split(","):
                        page.goto(f"{url}/{name}?{query}")
                        seconds = wait_until_drawn(page, PAGES[name])
                        now = rss_mb(process.pid)
                        peak = max(peak, now)
                        print(f"{days:>3} d {name:<10} drawn in {seconds:5.1f} s, RSS {now:.0f} MB")
                page.screenshot(path=str(CACHE / "bench-memory-last-page.png"), full_page=True)
                browser.close()
            print(f"peak RSS {peak:.0f} MB (budget 600 MB)")
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)


if __name__ == "__main__":
    main()
