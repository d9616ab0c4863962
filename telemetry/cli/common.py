"""Helpers shared by the CLI command modules."""

from __future__ import annotations

import argparse
from datetime import date

from sqlalchemy import Engine

from telemetry.db import DEFAULT_ORG, init_store, make_engine
from telemetry.filters import Filters


class CommandError(Exception):
    """A problem the user can fix; printed without a traceback, exit code 2."""


def open_store() -> Engine:
    """The configured engine, schema brought up to date."""
    engine = make_engine()
    init_store(engine)
    return engine


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in YYYY-MM-DD form") from None


def add_filter_arguments(
    parser: argparse.ArgumentParser,
    *,
    dates_required: bool,
    first_day_help: str,
    environment_help: str,
) -> None:
    """The period and scope options every period command reads: --from/--to, --org, --team and
    --environment (into ``start``, ``end``, ``org``, ``teams`` and ``environments``)."""
    parser.add_argument(
        "--from",
        dest="start",
        type=iso_date,
        required=dates_required,
        metavar="YYYY-MM-DD",
        help=first_day_help,
    )
    parser.add_argument(
        "--to",
        dest="end",
        type=iso_date,
        required=dates_required,
        metavar="YYYY-MM-DD",
        help="last day, inclusive",
    )
    parser.add_argument(
        "--org", default=DEFAULT_ORG, metavar="SLUG", help=f"organization (default: {DEFAULT_ORG})"
    )
    parser.add_argument(
        "--team",
        dest="teams",
        action="append",
        metavar="NAME",
        help="only this team; repeat for several (default: all teams)",
    )
    parser.add_argument(
        "--environment",
        dest="environments",
        action="append",
        metavar="ENV",
        help=environment_help,
    )


def check_period(start: date, end: date) -> None:
    """Refuse a period whose --to comes before its --from."""
    if end < start:
        raise CommandError(
            f"--to {end.isoformat()} is before --from {start.isoformat()}; "
            "give a --to on or after --from"
        )


def filters_of(args: argparse.Namespace, start: date, end: date) -> Filters:
    """The Filters of a period command's --org, --team and --environment for ``start``..``end``."""
    return Filters(
        start=start,
        end=end,
        org=args.org,
        teams=tuple(args.teams) if args.teams else None,
        environments=tuple(args.environments) if args.environments else None,
    )
