"""Time every query of the Analytics page on a 1M-trace store: per query, per tab, in total.

Usage: .venv/bin/python bench/bench_analytics.py [--traces 1000000] [--repeat 3]
       [--days 30 365] [--breakdown agent]

Reuses (or builds once) the demo store of bench/common.py (bench/.cache/,
365 days). For each period ending on the store's last day it prints the median
time of each query the page runs, each tab's total (tabs are lazy: opening the
page runs the Trends tab only, each other tab runs when opened) and the sum of
all tabs. One breakdown dimension is included (the page runs its three measures
when a dimension is chosen). The figures are cold for Streamlit's result cache
(a second view of the same filters and data is served from it) but warm for
the OS page cache.
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


def page_queries(breakdown: str | None) -> dict[str, dict[str, Callable]]:
    """Every query the Analytics page runs, per tab (only the open tab runs), by name."""
    trends: dict[str, Callable] = {"trends": queries.trends}
    if breakdown:
        for measure in MEASURES:
            trends[f"breakdown({breakdown},{measure})"] = partial(
                queries.breakdown_timeline, dimension=breakdown, measure=measure
            )
    return {
        "Trends": trends,
        "Runs": {
            "run_statistics": queries.run_statistics,
            "commands": queries.commands,
            "agent_runs": queries.agent_runs,
            "tool_runs": queries.tool_runs,
        },
        "Models": {"model_runs": queries.model_runs},
        "Peak usage": {"peak_usage": queries.peak_usage},
        "Code & outcomes": {
            "code_and_outcomes(agent)": partial(queries.code_and_outcomes, by="agent"),
            "code_and_outcomes(team)": partial(queries.code_and_outcomes, by="team"),
        },
        "Audit": {
            "audit_accounts": queries.audit_accounts,
            "audit_events": queries.audit_events,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--days", type=int, nargs="+", default=[30, 365])
    parser.add_argument("--breakdown", default="agent", help="dimension, or '' for none")
    args = parser.parse_args()

    engine = bench_store(args.traces)
    tabs = page_queries(args.breakdown or None)
    for days in args.days:
        start = BENCH_END - timedelta(days=days - 1)
        # The page's default: the sidebar's automatic grouping for the period's length.
        grouping = automatic_grouping(start, BENCH_END)
        filters = Filters(start=start, end=BENCH_END, org="demo", grouping=grouping)
        print(f"\n{days} days ({filters.start} .. {filters.end}), grouping {filters.grouping}")
        total = 0.0
        for tab, steps in tabs.items():
            tab_total = 0.0
            for name, query in steps.items():
                seconds = median_seconds(
                    lambda q=query, f=filters: q(engine, f), repeat=args.repeat
                )
                tab_total += seconds
                print(f"  {tab:<16} {name:<32} {seconds:>8.3f} s")
            print(f"  {tab:<16} {'tab total':<32} {tab_total:>8.3f} s")
            total += tab_total
        print(f"  {'all tabs':<16} {'page total':<32} {total:>8.3f} s")


if __name__ == "__main__":
    main()
