"""``retention``: how long each organization keeps content and records; run the purge."""

from __future__ import annotations

import argparse
import json
import sys

from telemetry.cli.common import open_store
from telemetry.db import DEFAULT_ORG
from telemetry.jobs import job_lock
from telemetry.retention import RETENTION_JOB, get_policy, parse_days, run_retention, set_policy
from telemetry.store import org_id


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "retention",
        help="set and run data retention per organization",
        description=(
            "Per organization: keep content (prompts, responses, tool arguments) N days "
            "and the records (traces, spans, sessions) M days, M >= N; 'forever' (the "
            "default) keeps them. Daily totals (the rollups) are kept, so billing and "
            "trends of purged periods stay. The server runs the purge once a day; 'run' "
            "does the same pass now (for cron), '--dry-run' only counts."
        ),
    )
    commands = parser.add_subparsers(dest="retention_command", metavar="ACTION", required=True)
    setting = commands.add_parser(
        "set",
        help="set an organization's retention",
        description="Options left out keep their current value; 'forever' removes a limit.",
    )
    setting.add_argument(
        "--org", default=DEFAULT_ORG, metavar="SLUG", help=f"organization (default: {DEFAULT_ORG})"
    )
    setting.add_argument("--content-days", metavar="N", help="days of content kept, or 'forever'")
    setting.add_argument("--record-days", metavar="M", help="days of records kept, or 'forever'")
    setting.set_defaults(func=run_set)

    run = commands.add_parser(
        "run",
        help="purge what is past each organization's retention (or count it with --dry-run); "
        "on PostgreSQL, exits 1 while a server's daily pass is running",
    )
    run.add_argument(
        "--org", default=None, metavar="SLUG", help="one organization (default: all with a policy)"
    )
    run.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    run.add_argument("--json", action="store_true", help="print the counts as JSON")
    run.set_defaults(func=run_run)


def run_set(args: argparse.Namespace) -> int:
    engine = open_store()
    with engine.connect() as conn:
        current = get_policy(conn, org_id(conn, args.org))
    content = current.content_days if args.content_days is None else parse_days(args.content_days)
    records = current.record_days if args.record_days is None else parse_days(args.record_days)
    policy = set_policy(engine, args.org, content_days=content, record_days=records)
    print(f"{args.org}: retention set: {policy.describe()}")
    return 0


def run_run(args: argparse.Namespace) -> int:
    engine = open_store()
    if args.dry_run:
        results = run_retention(engine, args.org, dry_run=True)
    else:
        # Not at the same time as a server's daily pass: two passes deleting the same rows
        # on PostgreSQL can deadlock, and one of them would fail.
        with job_lock(engine, RETENTION_JOB.name) as got:
            if not got:
                print(
                    "retention is running in another process right now (a server's daily "
                    "pass); run this again when it has finished (python -m telemetry jobs)",
                    file=sys.stderr,
                )
                return 1
            results = run_retention(engine, args.org, dry_run=False)
    if args.json:
        print(json.dumps([result.as_dict() for result in results], indent=2))
        return 0
    if not results:
        print("no organization has a retention policy; set one with 'retention set'")
    for result in results:
        verb = "would delete" if result.dry_run else "deleted"
        counts = ", ".join(f"{n:,} {name.replace('_', ' ')}" for name, n in result.counts.items())
        horizons = (
            f"records before {result.records_horizon or '-'}, "
            f"content before {result.content_horizon or '-'}"
        )
        print(f"{result.org}: {verb} {counts} ({horizons})")
    return 0
