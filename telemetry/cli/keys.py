"""``keys``: create, list and revoke the API keys of the ingest endpoint."""

from __future__ import annotations

import argparse

from telemetry import apikeys
from telemetry.cli.common import open_store
from telemetry.db import DEFAULT_ORG
from telemetry.timeutil import from_us


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "keys",
        help="manage API keys for POST /v1/traces",
        description=(
            "Each organization sends telemetry with its own keys "
            "(header 'Authorization: Bearer <key>'). A key is printed once, when created; "
            "only its SHA-256 hash is stored."
        ),
    )
    commands = parser.add_subparsers(dest="keys_command", metavar="ACTION", required=True)

    create = commands.add_parser("create", help="create a key and print it once")
    create.add_argument(
        "--org", default=DEFAULT_ORG, metavar="SLUG", help=f"organization (default: {DEFAULT_ORG})"
    )
    create.add_argument("--name", default="", help="what the key is for (e.g. the agent's name)")
    create.add_argument(
        "--actor", default="", help="who does this, for the audit log (default: OS user)"
    )
    create.set_defaults(func=run_create)

    listing = commands.add_parser("list", help="list keys (prefixes only, never the keys)")
    listing.add_argument("--org", metavar="SLUG", help="only this organization's keys")
    listing.set_defaults(func=run_list)

    revoke = commands.add_parser("revoke", help="revoke a key; requests using it get 401")
    revoke.add_argument(
        "key", metavar="PREFIX_OR_ID", help="the key's prefix (see keys list) or id"
    )
    revoke.add_argument(
        "--actor", default="", help="who does this, for the audit log (default: OS user)"
    )
    revoke.set_defaults(func=run_revoke)


def _when(us: int | None) -> str:
    return "-" if us is None else from_us(us).strftime("%Y-%m-%d %H:%M UTC")


def run_create(args: argparse.Namespace) -> int:
    key, info = apikeys.create_key(open_store(), args.org, args.name, actor=args.actor)
    print(f"API key for organization {info.org!r} (id {info.id}, prefix {info.prefix}):")
    print(key)
    print("Store it now: it is not shown again. Send it as 'Authorization: Bearer <key>'.")
    return 0


def run_list(args: argparse.Namespace) -> int:
    keys = apikeys.list_keys(open_store(), args.org)
    if not keys:
        print("no API keys; create one with: python -m telemetry keys create --org SLUG")
        return 0
    print(
        f"{'id':>4}  {'prefix':<13} {'org':<16} {'state':<8} {'created':<21} {'last used':<21} name"
    )
    for k in keys:
        state = "active" if k.active else "revoked"
        print(
            f"{k.id:>4}  {k.prefix:<13} {k.org:<16} {state:<8} {_when(k.created_us):<21} "
            f"{_when(k.last_used_us):<21} {k.name}"
        )
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    info = apikeys.revoke_key(open_store(), args.key, actor=args.actor)
    print(f"revoked key {info.prefix} (id {info.id}) of organization {info.org!r}")
    return 0
