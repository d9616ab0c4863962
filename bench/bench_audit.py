"""Time ``audit verify`` over a chain of 100k events, and the append rate that builds it.

Usage: .venv/bin/python bench/bench_audit.py [--events 100000] [--repeat 3]

Builds a fresh SQLite store in a temporary directory and appends ``--events``
audit events through the same path the dashboard uses (telemetry.audit, batches
of 1,000 per transaction), then prints the median time of verify_chain (the
function ``python -m telemetry audit verify`` runs) and events per second.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import median_seconds
from telemetry.audit import append_chained, verify_chain
from telemetry.db import init_store, make_engine
from telemetry.timeutil import day_of_us, now_us

BATCH = 1000


def fill(engine, events: int) -> float:
    """Append ``events`` chained events; return the seconds it took."""
    start = now_us() - events * 1_000_000
    details = json.dumps({"before": {"role": "manager"}, "after": {"role": "admin"}})
    started = time.perf_counter()
    for first in range(0, events, BATCH):
        rows = [
            {
                "org_id": None,
                "org_slug": "",
                "ts_us": start + n * 1_000_000,
                "day": day_of_us(start + n * 1_000_000),
                "actor": f"admin{n % 7}",
                "action": "account.edit",
                "target": f"user{n % 500}",
                "details": details,
            }
            for n in range(first, min(first + BATCH, events))
        ]
        with engine.begin() as conn:
            append_chained(conn, rows)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        engine = make_engine(f"sqlite:///{Path(home) / 'audit.db'}")
        init_store(engine)
        appended = fill(engine, args.events)
        print(
            f"appended {args.events:,} events in {appended:.1f} s "
            f"({args.events / appended:,.0f} events/s, batches of {BATCH})"
        )
        check = verify_chain(engine)
        assert check.intact and check.checked == args.events, check
        seconds = median_seconds(lambda: verify_chain(engine), repeat=args.repeat)
        print(
            f"audit verify: median {seconds:.2f} s over {args.repeat} runs, "
            f"{args.events / seconds:,.0f} events/s"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
