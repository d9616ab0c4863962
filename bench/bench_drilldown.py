"""Time the Traces and Sessions lists (first page, a late page, searches) on the 1M-trace store.

Usage: .venv/bin/python bench/bench_drilldown.py [--traces 1000000] [--repeat 3]

Reuses the store of bench/bench_queries.py (bench/.cache/, built once with the
demo generator). Prints the median time of each listing for the last 30 and
365 days: page 1 and page 100 (50 rows a page), sorted by start, duration and
cost, and searches by user, model and tool.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, func, select

from bench.common import BENCH_END, bench_store, median_seconds
from telemetry.filters import Filters
from telemetry.models import Observation, ObservationKind, Trace, User
from telemetry.queries.sessions import SessionSearch, session_list
from telemetry.queries.traces import TraceSearch, trace_list

ORG = "demo"
PAGE_SIZE = 50


def sample_values(engine: Engine) -> dict[str, str]:
    """A busy user, a model and a tool of the store, to search for."""
    with engine.connect() as conn:
        user = conn.execute(
            select(User.external_id)
            .join(Trace, Trace.user_id == User.id)
            .group_by(User.external_id)
            .order_by(func.count().desc())
            .limit(1)
        ).scalar_one()
        model = conn.execute(
            select(Observation.model)
            .where(Observation.kind == str(ObservationKind.GENERATION))
            .limit(1)
        ).scalar_one()
        tool = conn.execute(
            select(Observation.tool_name)
            .where(Observation.kind == str(ObservationKind.TOOL))
            .limit(1)
        ).scalar_one()
    return {"user": user, "model": model, "tool": tool}


def cases(values: dict[str, str]) -> list[tuple[str, callable]]:
    def traces(search=None, sort="start", page=1):
        search = search or TraceSearch()
        return lambda engine, filters: trace_list(
            engine, filters, search, sort, True, page, PAGE_SIZE
        )

    def sessions(search=None, page=1):
        search = search or SessionSearch()
        return lambda engine, filters: session_list(engine, filters, search, page, PAGE_SIZE)

    return [
        ("traces page 1, by start", traces()),
        ("traces page 100, by start", traces(page=100)),
        ("traces page 1, by duration", traces(sort="duration")),
        ("traces page 1, by cost", traces(sort="cost")),
        ("traces page 100, by cost", traces(sort="cost", page=100)),
        ("traces status=error", traces(TraceSearch(status="error"))),
        (f"traces user={values['user']}", traces(TraceSearch(user=values["user"]))),
        (f"traces model={values['model']}", traces(TraceSearch(model=values["model"]))),
        (f"traces tool={values['tool']}", traces(TraceSearch(tool=values["tool"]))),
        ("sessions page 1", sessions()),
        ("sessions page 100", sessions(page=100)),
        (f"sessions user={values['user']}", sessions(SessionSearch(user=values["user"]))),
        ("sessions with errors", sessions(SessionSearch(has_errors=True))),
        ("sessions with errors, page 100", sessions(SessionSearch(has_errors=True), page=100)),
        ("sessions text search (part of an id)", sessions(SessionSearch(text="zz"))),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="", help="run only the cases whose label contains this")
    args = parser.parse_args()
    engine = bench_store(args.traces)
    values = sample_values(engine)
    for days in (30, 365):
        filters = Filters(start=BENCH_END - timedelta(days=days - 1), end=BENCH_END, org=ORG)
        print(f"-- last {days} days")
        for label, run in cases(values):
            if args.only and args.only not in label:
                continue
            seconds = median_seconds(
                lambda run=run, filters=filters: run(engine, filters), repeat=args.repeat
            )
            print(f"{label:<45} {seconds * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
