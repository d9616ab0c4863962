"""``users forget``: erase one end user's telemetry and directory entry (counts as receipt)."""

from __future__ import annotations

import argparse
import json

from telemetry.cli.common import open_store
from telemetry.db import DEFAULT_ORG
from telemetry.forget import forget_user


def register_forget(commands: argparse._SubParsersAction) -> None:
    """Added under ``users`` (the pinned interface) although it concerns end users."""
    forget = commands.add_parser(
        "forget",
        help="erase an end user's telemetry and directory entry (not a dashboard account)",
        description=(
            "Delete everything of one end user of the agents (the user.id of the telemetry, "
            "or their e-mail from the user directory): their traces and spans, sessions, "
            "quarantined records naming them and their directory entry, in one transaction. "
            "The daily rollups of the days they touched are recomputed, so their totals go. "
            "A receipt with counts only (no name, id or e-mail) goes to the audit trail. "
            "This cannot be undone."
        ),
    )
    forget.add_argument("user", metavar="USER_ID_OR_EMAIL")
    forget.add_argument(
        "--org", default=DEFAULT_ORG, metavar="SLUG", help=f"organization (default: {DEFAULT_ORG})"
    )
    forget.add_argument("--json", action="store_true", help="print the receipt as JSON")
    forget.set_defaults(func=run_forget)


def run_forget(args: argparse.Namespace) -> int:
    receipt = forget_user(open_store(), args.org, args.user)
    if args.json:
        print(json.dumps(receipt.as_dict(), indent=2))
        return 0
    counts = ", ".join(
        f"{count:,} {name.replace('_', ' ')}" for name, count in receipt.counts.items()
    )
    print(f"{args.org}: user erased; deleted {counts}")
    return 0
