"""``prices``: an organization's own model prices, and re-pricing stored calls."""

from __future__ import annotations

import argparse

from sqlalchemy import select

from telemetry.cli.common import open_store
from telemetry.db import DEFAULT_ORG
from telemetry.models import ModelPrice
from telemetry.pricing import Price
from telemetry.reprice import remove_model_price, set_model_price
from telemetry.store import org_id
from telemetry.timeutil import from_us


def _org_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--org", default=DEFAULT_ORG, metavar="SLUG", help=f"organization (default: {DEFAULT_ORG})"
    )


def _audit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reprice",
        action="store_true",
        help="also recompute the cost of the stored calls of this model (except provided costs)",
    )
    parser.add_argument(
        "--actor", default="", help="who does this, for the audit log (default: OS user)"
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "prices",
        help="set, list and remove an organization's own model prices",
        description=(
            "An organization's own price for a model (USD per million tokens) wins over the "
            "bundled genai-prices catalog; a cost sent with a span wins over both. New calls "
            "use the price at once; --reprice also recomputes stored calls of that model."
        ),
    )
    commands = parser.add_subparsers(dest="prices_command", metavar="ACTION", required=True)

    setter = commands.add_parser("set", help="set the price of a model")
    _org_option(setter)
    setter.add_argument("model", help="model name as spans report it (case-insensitive)")
    setter.add_argument(
        "--input", type=float, required=True, metavar="USD", help="per million input tokens"
    )
    setter.add_argument(
        "--output", type=float, required=True, metavar="USD", help="per million output tokens"
    )
    setter.add_argument(
        "--cache-read",
        type=float,
        metavar="USD",
        help="per million cache-read tokens (default: the input price)",
    )
    setter.add_argument(
        "--cache-write",
        type=float,
        metavar="USD",
        help="per million cache-write tokens (default: the input price)",
    )
    setter.add_argument("--provider", default="", help="provider, for display")
    _audit_options(setter)
    setter.set_defaults(func=run_set)

    listing = commands.add_parser("list", help="list the organization's own prices")
    _org_option(listing)
    listing.set_defaults(func=run_list)

    remove = commands.add_parser(
        "remove", help="remove a price; the catalog prices the model again"
    )
    _org_option(remove)
    remove.add_argument("model")
    _audit_options(remove)
    remove.set_defaults(func=run_remove)


def run_set(args: argparse.Namespace) -> int:
    price = Price(args.input, args.output, args.cache_read, args.cache_write)
    repriced = set_model_price(
        open_store(),
        args.org,
        args.model,
        price,
        provider=args.provider,
        actor=args.actor,
        reprice=args.reprice,
    )
    print(f"price of {args.model!r} set for organization {args.org!r}")
    if args.reprice:
        print(f"re-priced {repriced} stored calls")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    repriced = remove_model_price(
        open_store(), args.org, args.model, actor=args.actor, reprice=args.reprice
    )
    print(f"price of {args.model!r} removed for organization {args.org!r}")
    if args.reprice:
        print(f"re-priced {repriced} stored calls")
    return 0


def _rate(value: float | None) -> str:
    return "=input" if value is None else f"{value:g}"


def run_list(args: argparse.Namespace) -> int:
    engine = open_store()
    with engine.connect() as conn:
        rows = (
            conn.execute(
                select(ModelPrice)
                .where(ModelPrice.org_id == org_id(conn, args.org))
                .order_by(ModelPrice.model)
            )
            .mappings()
            .all()
        )
    if not rows:
        print(f"organization {args.org!r} has no own prices: the genai-prices catalog applies")
        return 0
    print("USD per million tokens")
    header = ("model", "provider", "input", "output", "cache rd", "cache wr")
    print("{:<32} {:<12} {:>8} {:>8} {:>8} {:>8}  updated".format(*header))
    for row in rows:
        print(
            f"{row['model']:<32} {row['provider']:<12} {row['input_per_mtok']:>8g} "
            f"{row['output_per_mtok']:>8g} {_rate(row['cache_read_per_mtok']):>8} "
            f"{_rate(row['cache_write_per_mtok']):>8}  {from_us(row['updated_us']):%Y-%m-%d}"
        )
    return 0
