"""``demo``: fill the ``demo`` organization with generated data, or remove it."""

from __future__ import annotations

import argparse
import time

from tqdm import tqdm

from telemetry.cli.common import iso_date, open_store
from telemetry.demo import DEMO_ORG, generate_demo, remove_demo
from telemetry.demo.generator import TRACES_PER_DAY


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="generate realistic demo data in its own organization, or remove it",
        description=(
            f"Replace the content of the '{DEMO_ORG}' organization with generated data: "
            "teams, users, sessions, traces of several agents and models (priced offline "
            "with genai-prices), tool calls, errors, timeouts, running traces and audit "
            "events. The same --seed, --end, --days and --traces always give the same rows. "
            "Other organizations are never touched. Token sizes follow the Azure LLM "
            "inference trace 2023 (CC-BY 4.0, Patel et al., Splitwise, ISCA 2024)."
        ),
    )
    parser.add_argument(
        "--days", type=_positive, default=90, help="length of the period in days (default 90)"
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument(
        "--traces",
        type=_positive,
        default=None,
        help=f"number of traces to generate (default {TRACES_PER_DAY} per day)",
    )
    parser.add_argument(
        "--end",
        type=iso_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="last day of the period, inclusive, UTC (default today; a period ending today "
        "ends now)",
    )
    parser.add_argument(
        "--remove",
        action="store_true",
        help=f"delete the '{DEMO_ORG}' organization and all its rows instead of generating",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run_demo)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def run_demo(args: argparse.Namespace) -> int:
    engine = open_store()
    if args.remove:
        removed = remove_demo(engine)
        if removed:
            print(f"removed the '{DEMO_ORG}' organization ({removed:,} rows)")
        else:
            print(f"no '{DEMO_ORG}' organization to remove")
        return 0
    started = time.perf_counter()
    total = args.traces or args.days * TRACES_PER_DAY
    with tqdm(total=total, unit="trace", disable=args.quiet, desc="demo") as bar:

        def progress(done: int, _total: int) -> None:
            bar.update(done - bar.n)

        summary = generate_demo(
            engine,
            days=args.days,
            seed=args.seed,
            traces=args.traces,
            end=args.end,
            progress=progress,
        )
    elapsed = time.perf_counter() - started
    rows = summary.traces + summary.observations + summary.sessions
    print(
        f"'{summary.org}' organization: {summary.first_day} to {summary.last_day}, "
        f"{summary.teams} teams, {summary.users} users, {summary.sessions:,} sessions, "
        f"{summary.traces:,} traces, {summary.observations:,} observations, "
        f"{summary.audit_events:,} audit events, {summary.scores:,} scores "
        f"({elapsed:.1f} s, {rows / elapsed:,.0f} rows/s)"
    )
    return 0
