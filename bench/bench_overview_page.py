"""Time the whole Overview page (login state, sidebar lookups, queries, drawing) at 1M traces.

Usage: .venv/bin/python bench/bench_overview_page.py [--traces 1000000] [--repeat 3]
       [--days 30 365]

Runs app.py with Streamlit's AppTest, logged in as an admin, on the demo store
of bench/common.py (built once into bench/.cache/). For each period ending on
the store's last day it prints the median time of one page run:

- cold: Streamlit's caches emptied first, so every query runs (what the first
  visitor after new data arrives waits for);
- warm: the same view again (what everyone else waits for until data changes).

It also times the sidebar's one full-organization lookup (environment names).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from bench.common import BENCH_END, DASHBOARD_SCRIPT, bench_store  # noqa: E402
from telemetry import accounts, store  # noqa: E402


def page_run(filters_query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(DASHBOARD_SCRIPT), default_timeout=600)
    for key, value in {
        "authentication_status": True,
        "username": "bench",
        "name": "bench",
        "roles": None,
        "logout": None,
    }.items():
        at.session_state[key] = value
    at.query_params.update(filters_query)
    return at


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--days", type=int, nargs="+", default=[30, 365])
    args = parser.parse_args()

    engine = bench_store(args.traces)
    workdir = Path(tempfile.mkdtemp(prefix="bench-page-"))
    os.environ["TELEMETRY_DATABASE_URL"] = engine.url.render_as_string(hide_password=False)
    os.environ["TELEMETRY_AUTH_FILE"] = str(workdir / "auth.yaml")
    accounts.add_account("bench", role=accounts.ADMIN, password="bench-password")
    with engine.connect() as conn:
        lookup = timed(lambda: store.environment_names(conn, "demo"))
    print(f"sidebar environment lookup (whole organization, uncached): {lookup:.3f} s")
    print(f"{'period':>8}  {'cold page':>10}  {'warm page':>10}")
    for days in args.days:
        start = BENCH_END - timedelta(days=days - 1)
        query = {
            "org": "demo",
            "period": "Custom range",
            "from": start.isoformat(),
            "to": BENCH_END.isoformat(),
        }
        cold, warm = [], []
        for _ in range(args.repeat):
            st.cache_data.clear()
            st.cache_resource.clear()
            at = page_run(query)
            cold.append(timed(at.run))
            if at.exception:
                raise SystemExit(f"the page failed: {at.exception}")
            warm.append(timed(at.run))
        print(f"{days:>6} d  {statistics.median(cold):>8.2f} s  {statistics.median(warm):>8.2f} s")


if __name__ == "__main__":
    main()
