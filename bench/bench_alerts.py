"""Time one alert evaluation pass of 100 rules on the 1M-trace bench store.

Usage: .venv/bin/python bench/bench_alerts.py [--traces 1000000] [--rules 100] [--repeat 3]

Reuses the store of bench/bench_queries.py (bench/.cache/, built once with the
demo generator) on a copy of nothing: the rules, states and history it writes
go to the same file (removed again at the end). The rules mix every metric and
window with organization, team, agent, model and per-team scopes, as a busy
organization might. Prints the median wall time of one pass and its CPU time as
a share of one core over the 60-second evaluation interval, then how long the
rule form's 30-day replay takes for each window.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from datetime import datetime
from datetime import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete

from bench.common import BENCH_END, bench_store, median_seconds
from telemetry.alerts.access import cli_account
from telemetry.alerts.backtest import replay
from telemetry.alerts.evaluate import evaluate_all
from telemetry.alerts.metrics import METRICS
from telemetry.alerts.rules import RuleSpec, save_rule
from telemetry.alerts.tables import AlertEvent, AlertRule, AlertState
from telemetry.alerts.windows import EVALUATION_INTERVAL_S, WINDOWS
from telemetry.queries.dimensions import org_values
from telemetry.store import org_id
from telemetry.timeutil import to_us

ORG = "demo"
ADMIN = cli_account("bench")
# An evaluation in the afternoon of the store's last day: windows cut through days.
AT = datetime.combine(BENCH_END, clock(14, 37))


def rules(engine, count: int) -> list[RuleSpec]:
    with engine.connect() as conn:
        org = org_id(conn, ORG)
        teams, agents, models = (org_values(conn, org, kind) for kind in ("team", "agent", "model"))
    scopes = itertools.cycle(
        [
            {},
            {"teams": (teams[0],)},
            {"agent": agents[0]},
            {"model": models[0]},
            {"group_by": "team"},
            {"teams": (teams[-1],), "agent": agents[-1]},
        ]
    )
    metrics = itertools.cycle(METRICS)
    windows = itertools.cycle(WINDOWS)
    specs = []
    for index in range(count):
        metric, scope = next(metrics), dict(next(scopes))
        window = "mtd" if metric == "forecast_cost_usd" else next(windows)
        if metric == "timeout_rate":
            scope.pop("model", None)
        specs.append(
            RuleSpec(
                org=ORG,
                name=f"bench {index}",
                metric=metric,
                window=window,
                threshold=0.5 if METRICS[metric].unit == "ratio" else 1e12,
                min_runs=10 if index % 3 == 0 else 0,
                **scope,
            )
        )
    return specs


def clean(engine) -> None:
    with engine.begin() as conn:
        conn.execute(delete(AlertState))
        conn.execute(delete(AlertEvent))
        conn.execute(delete(AlertRule).where(AlertRule.name.like("bench %")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=1_000_000)
    parser.add_argument("--rules", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    engine = bench_store(args.traces)
    clean(engine)
    for spec in rules(engine, args.rules):
        save_rule(engine, ADMIN, spec)
    at_us = to_us(AT)
    walls, cpus = [], []
    try:
        evaluate_all(engine, at_us)  # warm the page cache; the figure is the steady state
        for _ in range(args.repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            result = evaluate_all(engine, at_us)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            assert not result.broken, result.broken
    finally:
        clean(engine)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    print(
        f"one pass of {args.rules} rules as of {AT:%Y-%m-%d %H:%M} UTC: median {wall:.2f} s wall, "
        f"{cpu:.2f} s CPU = {cpu / EVALUATION_INTERVAL_S:.1%} of one core "
        f"(evaluated every {EVALUATION_INTERVAL_S} s)"
    )
    for window in WINDOWS:
        spec = RuleSpec(org=ORG, name="replay", metric="error_rate", window=window, threshold=0.1)
        seconds = median_seconds(lambda spec=spec: replay(engine, spec, at_us, [""]), repeat=1)
        print(f"30-day replay of an error-rate rule over {window}: {seconds:.2f} s")


if __name__ == "__main__":
    main()
