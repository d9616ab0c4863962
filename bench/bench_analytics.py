"""Time every query of the Analytics page on a 1M-trace store, per query and in total.

Usage: .venv/bin/python bench/bench_analytics.py [--traces 1000000] [--repeat 3]
       [--days 30 365] [--breakdown agent]

Reuses (or builds once) the demo store of bench/common.py (bench/.cache/,
365 days). For each period ending on the store's last day it prints the median
time of each query the page runs and the page's total; one breakdown dimension
is included (the page runs its three measures when a dimension is chosen). The
figures are cold for Streamlit (no result cache) but warm for the OS page cache.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BENCH_END, bench_store, median_seconds
from telemetry import queries
from telemetry.filters import Filters
from telemetry.queries.breakdown import MEASURES
from ui.periods import automatic_grouping


def page_queries(breakdown: str | None) -> dict[str, Callable]:
    """Every query the Analytics page runs, by the name printed in the table."""
    steps: dict[str, Callable] = {
        "trends": queries.trends,
        "run_statistics": queries.run_statistics,
        "commands": queries.commands,
        "agent_runs": queries.agent_runs,
        "tool_runs": queries.tool_runs,
        "model_runs": queries.model_runs,
        "peak_usage": queries.peak_usage,
        "code_and_outcomes(agent)": partial(queries.code_and_outcomes, by="agent"),
        "code_and_outcomes(team)": partial(queries.code_and_outcomes, by="team"),
        "audit_accounts": queries.audit_accounts,
        "audit_events": queries.audit_events,
    }
    if breakdown:
        for measure in MEASURES:
            steps[f"breakdown({breakdown},{measure})"] = partial(
                queries.breakdown_timeline, dimension=breakdown, measure=measure
            )
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--days", type=int, nargs="+", default=[30, 365])
    parser.add_argument("--breakdown", default="agent", help="dimension, or '' for none")
    args = parser.parse_args()

    engine = bench_store(args.traces)
    steps = page_queries(args.breakdown or None)
    for days in args.days:
        start = BENCH_END - timedelta(days=days - 1)
        # The page's default: the sidebar's automatic grouping for the period's length.
        grouping = automatic_grouping(start, BENCH_END)
        filters = Filters(start=start, end=BENCH_END, org="demo", grouping=grouping)
        print(f"\n{days} days ({filters.start} .. {filters.end}), grouping {filters.grouping}")
        total = 0.0
        for name, query in steps.items():
            seconds = median_seconds(lambda q=query, f=filters: q(engine, f), repeat=args.repeat)
            total += seconds
            print(f"  {name:<32} {seconds:>8.3f} s")
        print(f"  {'page total':<32} {total:>8.3f} s")


if __name__ == "__main__":
    main()
