"""``audit``: verify the audit trail's hash chain, list its events."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta

from telemetry import audit_log
from telemetry.audit import verify_chain
from telemetry.cli.common import iso_date, open_store
from telemetry.timeutil import day_start_us


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="verify and list the audit log",
        description=(
            "The audit log records who changed what (accounts, keys, organizations, prices, "
            "settings, rules, budgets, retention) with the before -> after of each field, and "
            "logins, failed logins, reports and exports. Each event the dashboard records "
            "carries a hash over its content and the previous event's hash."
        ),
    )
    commands = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = commands.add_parser(
        "verify",
        help="check the hash chain (exit 0 intact, 1 broken)",
        description=(
            "Recompute every hash of the chain in order. Exit 0 when intact; exit 1 naming "
            "the first broken event when an event was changed, removed or the newest cut off."
        ),
    )
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    verify.set_defaults(func=run_verify)

    listing = commands.add_parser(
        "list",
        help="list events, newest first",
        description=(
            "List audit events, newest first. Without --org: every organization and the "
            "dashboard's own events (logins, accounts); with --org: that organization's and "
            "the dashboard's."
        ),
    )
    listing.add_argument("--org", metavar="SLUG", help="only this organization (and dashboard)")
    listing.add_argument("--actor", metavar="NAME", help="only this account's events")
    listing.add_argument("--kind", choices=list(audit_log.KINDS), help="only this kind")
    listing.add_argument("--from", dest="start", type=iso_date, metavar="YYYY-MM-DD")
    listing.add_argument("--to", dest="end", type=iso_date, metavar="YYYY-MM-DD")
    listing.add_argument("--limit", type=int, default=audit_log.DEFAULT_LIMIT, metavar="N")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(func=run_list)


def run_verify(args: argparse.Namespace) -> int:
    check = verify_chain(open_store())
    if args.json:
        print(
            json.dumps(
                {
                    "intact": check.intact,
                    "checked": check.checked,
                    "length": check.length,
                    "broken_seq": check.broken_seq,
                    "broken_id": check.broken_id,
                    "problem": check.problem,
                }
            )
        )
    elif check.intact:
        print(f"audit chain intact: {check.checked:,} events verified")
    else:
        where = f"event #{check.broken_seq}" + (
            f" (id {check.broken_id})" if check.broken_id else ""
        )
        print(f"audit chain BROKEN at {where}: {check.problem}", file=sys.stderr)
        print(f"({check.checked:,} events before it verified)", file=sys.stderr)
    return 0 if check.intact else 1


def run_list(args: argparse.Namespace) -> int:
    query = audit_log.AuditQuery(
        start_us=None if args.start is None else day_start_us(args.start),
        end_us=None if args.end is None else day_start_us(args.end + timedelta(days=1)),
        org=args.org,
        actor=args.actor,
        kind=args.kind,
        limit=args.limit,
    )
    found = audit_log.list_audit(open_store(), query)
    if args.json:
        print(audit_log.to_json(found.events))
        return 0
    for row in found.events.itertuples():
        print(
            f"{row.when:%Y-%m-%d %H:%M:%S}  {row.organization:<12} {row.who:<16} "
            f"{row.what:<18} {row.target:<20} {row.changes}"
        )
    if found.truncated:
        print(f"(the newest {len(found.events):,} of {found.total:,}; raise --limit)")
    return 0
