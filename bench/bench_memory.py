"""Resident memory of the dashboard server on the 1M-trace store, page by page.

Starts the server the way scripts/run.sh does (``streamlit run app.py``)
against a copy of bench/.cache's store, logs in with headless Chromium and opens every
page for a year and for 30 days, reading the server's RSS (VmRSS of the
process and its children) after each page has finished drawing. The project's
memory budget is 600 MB.

Meanwhile ``--ingest-clients`` exporters (default 4) post OTLP/HTTP protobuf batches
to the same server, on a copy of the store.

    .venv/bin/python bench/bench_memory.py [--traces 1000000] [--pages overview,users]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import BENCH_END, CACHE, bench_store, product_server  # noqa: E402
from bench.ingest_data import protobuf_requests  # noqa: E402
from telemetry import accounts  # noqa: E402
from telemetry.apikeys import create_key  # noqa: E402
from telemetry.db import make_engine  # noqa: E402

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
INGEST_SPANS = 100_000  # each exporter cycles through its share of these


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


class IngestLoad:
    """``clients`` OTLP/HTTP exporters posting 512-span protobuf batches until stopped."""

    def __init__(self, url: str, key: str, clients: int) -> None:
        bodies = protobuf_requests(INGEST_SPANS, days=30)
        size = -(-len(bodies) // clients)
        self.shares = [bodies[n * size : (n + 1) * size] for n in range(clients)]
        self.url, self.key = url, key
        self.stopped = threading.Event()
        self.batches = 0
        self.errors: list[str] = []
        self.threads = [threading.Thread(target=self._send, args=(s,)) for s in self.shares]

    def __enter__(self) -> IngestLoad:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stopped.set()
        for thread in self.threads:
            thread.join()

    def _send(self, bodies: list[bytes]) -> None:
        host, port = self.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        headers = {"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {self.key}"}
        while not self.stopped.is_set():  # round and round: re-sent spans are upserts
            for body in bodies:
                if self.stopped.is_set():
                    break
                conn.request("POST", "/v1/traces", body=body, headers=headers)
                response = conn.getresponse()
                answer = response.read()
                if response.status != 200:
                    self.errors.append(f"HTTP {response.status}: {answer[:200]!r}")
                self.batches += 1
        conn.close()


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
    parser.add_argument(
        "--ingest-clients", type=int, default=4, help="exporters loading /v1/traces meanwhile"
    )
    args = parser.parse_args()
    bench_store(args.traces).dispose()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as home_dir:
        home = Path(home_dir)
        # A copy: the ingest load writes into it, the cached store stays as built.
        database = home / "store.db"
        shutil.copyfile(CACHE / f"bench-{args.traces}-365d.db", database)
        engine = make_engine(f"sqlite:///{database}")
        key, _ = create_key(engine, "demo", "bench-memory")
        engine.dispose()
        accounts.add_account(
            "bench", role=accounts.ADMIN, password=PASSWORD, path=home / "auth.yaml"
        )
        with product_server(f"sqlite:///{database}", home) as server:
            pid = server.process.pid
            print(f"server started: RSS {rss_mb(pid):.0f} MB")
            peak = rss_mb(pid)
            with IngestLoad(server.url, key, args.ingest_clients) as load, sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM)
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                page.goto(server.url)
                page.get_by_role("textbox", name="Username").fill("bench")
                page.get_by_role("textbox", name="Password").fill(PASSWORD)
                page.get_by_role("button", name="Log in").click()
                wait_until_drawn(page)
                for days in (365, 30):
                    start = BENCH_END - timedelta(days=days - 1)
                    query = f"org=demo&period=Custom+range&from={start}&to={BENCH_END}"
                    for name in args.pages.split(","):
                        page.goto(f"{server.url}/{name}?{query}")
                        seconds = wait_until_drawn(page, PAGES[name])
                        now = rss_mb(pid)
                        peak = max(peak, now)
                        print(
                            f"{days:>3} d {name:<10} drawn in {seconds:5.1f} s, RSS {now:.0f} MB, "
                            f"{load.batches:,} batches of 512 spans stored so far",
                            flush=True,
                        )
                browser.close()
            print(
                f"peak RSS {peak:.0f} MB (budget 600 MB) with {args.ingest_clients} exporters "
                f"({load.batches:,} batches, {len(load.errors)} refused"
                f"{': ' + load.errors[0] if load.errors else ''}); load {os.getloadavg()[0]:.1f}"
            )


if __name__ == "__main__":
    main()
