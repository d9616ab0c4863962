"""Time the pages' queries over sub-day windows (last hour, last 24 hours) on the 1M-trace store.

Usage: .venv/bin/python bench/bench_windows.py [--traces 1000000] [--repeat 5]

Reuses the store of bench/bench_queries.py (bench/.cache/, built once with the
demo generator, 365 days ending BENCH_END). The windows end at 14:37 on
BENCH_END, so they cut days: their rollup reads take the stored whole days plus
the base rows of the partial days (telemetry.queries.rollup_scope). Prints the
median time of the Overview, Analytics trends, Users and Billing query sets for
the last hour (5-minute buckets), the last 24 hours (hourly), 48 hours (a whole
day inside) and, for reference, the last 30 whole days.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, time, timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_queries import overview_query_set
from bench.bench_users_billing import billing_page, users_page
from bench.common import BENCH_END, bench_store, median_seconds
from telemetry import queries
from telemetry.filters import Filters, Grouping
from telemetry.timeutil import US_PER_HOUR, to_us

ORG = "demo"
END_US = to_us(datetime.combine(BENCH_END, time(14, 37)))


def periods() -> dict[str, Filters]:
    window = partial(Filters.window, org=ORG)
    return {
        "last hour": window(END_US - US_PER_HOUR, END_US, grouping=Grouping.FIVE_MINUTES),
        "last 24 hours": window(END_US - 24 * US_PER_HOUR, END_US, grouping=Grouping.HOUR),
        "last 48 hours": window(END_US - 48 * US_PER_HOUR, END_US, grouping=Grouping.HOUR),
        "30 whole days": Filters(
            start=BENCH_END - timedelta(days=29), end=BENCH_END, org=ORG, grouping=Grouping.DAY
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    engine = bench_store(args.traces)
    sets = {
        "Overview": overview_query_set,
        "Analytics trends": queries.trends,
        "Users page": users_page,
        "Billing page": billing_page,
    }
    print(f"{'period':14s} {'runs':>7s} " + " ".join(f"{name:>17s}" for name in sets))
    for label, filters in periods().items():
        runs = queries.run_totals(engine, filters).traces
        seconds = [
            median_seconds(partial(run, engine, filters), repeat=args.repeat)
            for run in sets.values()
        ]
        print(f"{label:14s} {runs:7,d} " + " ".join(f"{s:16.3f}s" for s in seconds))


if __name__ == "__main__":
    main()
