"""Shared by the browser tests: the real server as the README starts it, and Debian's Chromium.

``running_server`` starts ``streamlit run app.py`` (what scripts/run.sh execs) on
a free port against a temporary store and accounts file, waits until it answers,
and stops it afterwards. Chromium is Debian's /usr/bin/chromium, never
downloaded: a test needing it is skipped with a reason when it is missing, and
fails when CI=true.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_COMMAND = [str(ROOT / ".venv" / "bin" / "streamlit"), "run", "app.py"]
START_TIMEOUT = 300  # seconds: a first start with demo data generates 90 days of traces
UI_TIMEOUT = 60_000  # milliseconds


def need_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing (scripts/bootstrap.sh dev installs Debian's chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class Server:
    process: subprocess.Popen
    env: dict[str, str]
    home: Path
    lines: list[str] = field(default_factory=list)
    url: str = ""

    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.output())
            if found:
                return found
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited early:\n{self.output()}")
            time.sleep(0.2)
        raise AssertionError(f"no {pattern!r} in the server output:\n{self.output()}")


@contextmanager
def demo_server(home: Path) -> Iterator[Server]:
    """The product with its demo data, once its first start has printed the admin password
    (skipped, or failed on CI, without Chromium)."""
    need_chromium()
    with running_server(home, demo=True) as running:
        running.wait_for(r"password: (\S+)", START_TIMEOUT)
        yield running


@contextmanager
def running_server(home: Path, *, demo: bool = True, env: dict | None = None) -> Iterator[Server]:
    """The product on a free port, its store and accounts file in ``home``."""
    environment = {
        **os.environ,
        "TELEMETRY_DATABASE_URL": f"sqlite:///{home / 'telemetry.db'}",
        "TELEMETRY_AUTH_FILE": str(home / "auth.yaml"),
        "TELEMETRY_DEMO": "1" if demo else "0",
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    command = [*SERVER_COMMAND, "--server.port", str(free_port()), "--server.headless", "true"]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    running = Server(process=process, env=environment, home=home)
    reader = threading.Thread(
        target=lambda: running.lines.extend(iter(process.stdout.readline, "")), daemon=True
    )
    reader.start()
    try:
        port = running.wait_for(r"URL: http://localhost:(\d+)", START_TIMEOUT).group(1)
        running.url = f"http://localhost:{port}"
        wait_healthy(running.url)
        yield running
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def wait_healthy(url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} never became healthy")


@contextmanager
def chromium_browser():
    """A headless Debian Chromium driven by Playwright."""
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
