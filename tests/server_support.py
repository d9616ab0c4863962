"""The real server for a test: ``streamlit run serve.py`` on a free port, as scripts/run.sh runs it.

It points at a temporary store and accounts file under ``home``; its first start
creates the first admin and prints the password, which :meth:`Server.wait_for`
reads from the output. Demo data is off unless ``demo=True`` (it takes minutes).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 300  # seconds (a first start with demo data generates 90 days)


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

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """``python -m telemetry ARGS`` against this server's store and accounts file."""
        done = subprocess.run(
            [sys.executable, "-m", "telemetry", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_server(home: Path, *, demo: bool = False) -> Iterator[Server]:
    env = {
        **os.environ,
        "TELEMETRY_DATABASE_URL": f"sqlite:///{home / 'data' / 'telemetry.db'}",
        "TELEMETRY_AUTH_FILE": str(home / "data" / "auth.yaml"),
        "TELEMETRY_DEMO": "1" if demo else "0",
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        str(ROOT / ".venv" / "bin" / "streamlit"),
        "run",
        "serve.py",
        "--server.port",
        str(free_port()),
        "--server.headless",
        "true",
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    server = Server(process=process, env=env, home=home)
    reader = threading.Thread(
        target=lambda: server.lines.extend(iter(process.stdout.readline, "")), daemon=True
    )
    reader.start()
    try:
        port = server.wait_for(r"URL: http://localhost:(\d+)", START_TIMEOUT).group(1)
        server.url = f"http://localhost:{port}"
        server.wait_for(r"password: (\S+)", START_TIMEOUT)
        _wait_healthy(server.url)
        yield server
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _wait_healthy(url: str) -> None:
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
