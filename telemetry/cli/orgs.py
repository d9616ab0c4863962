"""``orgs``: create and list organizations (tenants)."""

from __future__ import annotations

import argparse
import re

from sqlalchemy import func, select

from telemetry.cli.common import CommandError, open_store
from telemetry.ingest.audit import record_audit
from telemetry.models import Organization, Trace
from telemetry.store import ensure_org, organization_slugs

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "orgs",
        help="create and list organizations",
        description=(
            "Organizations are tenants: every trace, user, team, key and price belongs to one."
        ),
    )
    commands = parser.add_subparsers(dest="orgs_command", metavar="ACTION", required=True)
    create = commands.add_parser("create", help="create an organization")
    create.add_argument("slug", help="short id: lowercase letters, digits, '-' and '_'")
    create.add_argument("--name", default="", help="display name (default: the slug)")
    create.add_argument(
        "--actor", default="", help="who does this, for the audit log (default: OS user)"
    )
    create.set_defaults(func=run_create)
    listing = commands.add_parser("list", help="list organizations with their trace counts")
    listing.set_defaults(func=run_list)


def run_create(args: argparse.Namespace) -> int:
    if not SLUG.match(args.slug):
        raise CommandError(
            f"{args.slug!r} is not a valid slug: use 1-64 lowercase letters, digits, '-' or '_'"
        )
    engine = open_store()
    with engine.begin() as conn:
        if args.slug in organization_slugs(conn):
            raise CommandError(f"organization {args.slug!r} already exists")
        org_pk = ensure_org(conn, args.slug, args.name)
        record_audit(conn, org_pk, "org.create", actor=args.actor, target=args.slug)
    print(f"created organization {args.slug!r}")
    print(f"next: python -m telemetry keys create --org {args.slug}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    engine = open_store()
    traces = select(func.count(Trace.id)).where(Trace.org_id == Organization.id).scalar_subquery()
    with engine.connect() as conn:
        rows = conn.execute(
            select(Organization.slug, Organization.name, traces).order_by(Organization.slug)
        ).all()
    print(f"{'slug':<20} {'traces':>10}  name")
    for slug, name, count in rows:
        print(f"{slug:<20} {count:>10}  {name}")
    return 0
