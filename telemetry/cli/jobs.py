"""``jobs``: the background jobs of the server, when each last ran, where, and how it went."""

from __future__ import annotations

import argparse
import json

from telemetry.cli.common import open_store
from telemetry.jobs import job_states
from telemetry.timeutil import from_us


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "jobs",
        help="show the background jobs' last runs",
        description=(
            "Every server process runs the background jobs (alert evaluation, retention, ...); "
            "each tick of a job runs on one of them only. This lists each job's last tick, "
            "the process that ran it, and its last error if the run failed (it is retried)."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run_list)


def _time(us: int | None) -> str | None:
    return from_us(us).isoformat(timespec="seconds") if us else None


def run_list(args: argparse.Namespace) -> int:
    rows = [
        {
            "job": state.name,
            "last_tick": _time(state.last_tick_us),
            "runner": state.runner,
            "running": state.lease_until_us is not None,
            "last_finished": _time(state.last_finished_us),
            "failures": state.failures,
            "last_error": state.last_error or None,
        }
        for state in job_states(open_store())
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no background job has run yet (they run inside the server: streamlit run app.py)")
        return 0
    for row in rows:
        status = f"failing ({row['failures']}x): {row['last_error']}" if row["failures"] else "ok"
        print(
            f"{row['job']}: last tick {row['last_tick']} on {row['runner'] or '-'}, "
            f"finished {row['last_finished'] or '-'}, {status}"
            + (" (running now)" if row["running"] else "")
        )
    return 0
