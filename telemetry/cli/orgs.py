"""``orgs``: create, list, rename and delete organizations (tenants), through telemetry.orgs."""

from __future__ import annotations

import argparse

from telemetry import orgs
from telemetry.cli.common import open_store

SLUG = orgs.SLUG


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "orgs",
        help="create, list, rename and delete organizations",
        description=(
            "Organizations are tenants: every trace, user, team, key and price belongs to "
            "one. The slug is permanent; rename changes the display name. Every change is "
            "written to the audit log."
        ),
    )
    commands = parser.add_subparsers(dest="orgs_command", metavar="ACTION", required=True)
    create = commands.add_parser("create", help="create an organization")
    create.add_argument("slug", help="short id: lowercase letters, digits, '-' and '_'")
    create.add_argument("--name", default="", help="display name (default: the slug)")
    _actor(create)
    create.set_defaults(func=run_create)
    listing = commands.add_parser("list", help="list organizations with their trace counts")
    listing.set_defaults(func=run_list)
    rename = commands.add_parser("rename", help="change an organization's display name")
    rename.add_argument("slug")
    rename.add_argument("name", help="the new display name")
    _actor(rename)
    rename.set_defaults(func=run_rename)
    delete = commands.add_parser(
        "delete",
        help="delete an organization and ALL its data",
        description=(
            "Delete the organization and every trace, user, team, key, price, rule and "
            "budget of it. Its entries in the audit log stay (the log is tamper-evident). "
            "--confirm must repeat the slug. 'default' cannot be deleted."
        ),
    )
    delete.add_argument("slug")
    delete.add_argument("--confirm", required=True, metavar="SLUG", help="the slug again")
    _actor(delete)
    delete.set_defaults(func=run_delete)


def _actor(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--actor", default="", help="who does this, for the audit log (default: OS user)"
    )


def run_create(args: argparse.Namespace) -> int:
    orgs.create_org(open_store(), args.slug, args.name, actor=args.actor)
    print(f"created organization {args.slug!r}")
    print(f"next: python -m telemetry keys create --org {args.slug}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    print(f"{'slug':<20} {'traces':>10}  name")
    for info in orgs.list_orgs(open_store()):
        print(f"{info.slug:<20} {info.traces:>10}  {info.name}")
    return 0


def run_rename(args: argparse.Namespace) -> int:
    orgs.rename_org(open_store(), args.slug, args.name, actor=args.actor)
    print(f"organization {args.slug!r} is now called {args.name.strip()!r}")
    return 0


def run_delete(args: argparse.Namespace) -> int:
    removed = orgs.delete_org(open_store(), args.slug, confirm=args.confirm, actor=args.actor)
    print(f"deleted organization {args.slug!r} ({removed:,} rows)")
    return 0
