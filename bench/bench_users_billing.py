"""Time the Users and Billing pages' queries on the 1M-trace bench store.

Usage: .venv/bin/python bench/bench_users_billing.py [--traces 1000000] [--repeat 3]

Reuses the store of bench/bench_queries.py (bench/.cache/, built once with the
demo generator). Prints the median time of each page's query set for the last
30 and 365 days, and of one user's detail (the costliest user of the period).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine

from bench.common import BENCH_END, bench_store, median_seconds
from telemetry import queries
from telemetry.filters import Filters, Grouping
from telemetry.queries.billing import unpriced_of
from telemetry.timeutil import month_number

ORG = "demo"


def users_page(engine: Engine, filters: Filters) -> None:
    """Every query the Users page runs on first load."""
    queries.users_header(engine, filters)
    queries.activity_timeline(engine, replace(filters, grouping=Grouping.DAY))
    queries.user_companies(engine, filters)
    queries.user_table(engine, filters)


def billing_page(engine: Engine, filters: Filters) -> None:
    """Every query the Billing page runs on first load."""
    today = filters.end
    queries.billing_months(engine, filters, today=today)
    queries.billing_month(engine, filters, month=month_number(today), today=today)
    queries.billing_period(engine, filters)
    models = queries.cost_by_model(engine, filters)
    queries.cost_by_user(engine, filters)
    queries.cost_per_day_by_model(engine, filters)
    unpriced_of(models)


def user_detail(engine: Engine, filters: Filters, user_pk: int) -> None:
    queries.user_detail(engine, filters, user_pk=user_pk)
    queries.user_sessions(engine, filters, user_pk=user_pk)
    queries.user_audit_events(engine, filters, user_pk=user_pk)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    engine = bench_store(args.traces)
    for days in (30, 365):
        filters = Filters(start=BENCH_END - timedelta(days=days - 1), end=BENCH_END, org=ORG)
        costliest = int(queries.user_table(engine, filters, limit=1).rows["user_pk"].iloc[0])
        for name, run in (
            ("Users page", partial(users_page, engine, filters)),
            ("Billing page", partial(billing_page, engine, filters)),
            ("user detail", partial(user_detail, engine, filters, costliest)),
        ):
            seconds = median_seconds(run, repeat=args.repeat)
            print(f"{name:14s} {days:3d} days: {seconds:6.2f} s")


if __name__ == "__main__":
    main()
