"""Helpers shared by the CLI command modules."""

from __future__ import annotations

import argparse
import re
from datetime import date

from sqlalchemy import Engine

from telemetry import timeutil
from telemetry.db import DEFAULT_ORG, init_store, make_engine
from telemetry.filters import Filters, automatic_grouping

_DURATION = re.compile(r"^\s*(\d+)\s*(m|min|h|d)\s*$")
_UNIT_US = {
    "m": timeutil.US_PER_MINUTE,
    "min": timeutil.US_PER_MINUTE,
    "h": timeutil.US_PER_HOUR,
    "d": timeutil.US_PER_DAY,
}


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


def duration_us(text: str) -> int:
    """``1h``, ``24h``, ``15m``, ``7d`` as microseconds (argparse type of --last)."""
    found = _DURATION.match(text)
    if not found or int(found.group(1)) == 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration; write a whole number and m, h or d, e.g. 1h or 24h"
        )
    return int(found.group(1)) * _UNIT_US[found.group(2)]


def instant_us(text: str) -> int:
    """An RFC 3339 timestamp with a zone as epoch microseconds (argparse type of --until)."""
    try:
        return timeutil.to_us(timeutil.parse_rfc3339(text))
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a timestamp like 2026-03-15T14:00:00Z ({error})"
        ) from None


def add_filter_arguments(
    parser: argparse.ArgumentParser,
    *,
    dates_required: bool,
    first_day_help: str,
    environment_help: str,
) -> None:
    """The period and scope options every period command reads: --from/--to or --last
    [--until], --org, --team and --environment (into ``start``, ``end``, ``last``,
    ``until``, ``org``, ``teams`` and ``environments``).

    ``dates_required``: without --last, --from and --to must both be given
    (checked by :func:`period_of`, since --last may replace them).
    """
    dates = "required unless --last" if dates_required else "optional"
    parser.add_argument(
        "--from",
        dest="start",
        type=iso_date,
        metavar="YYYY-MM-DD",
        help=f"{first_day_help} ({dates})",
    )
    parser.add_argument(
        "--to",
        dest="end",
        type=iso_date,
        metavar="YYYY-MM-DD",
        help=f"last day, inclusive ({dates})",
    )
    parser.add_argument(
        "--last",
        type=duration_us,
        metavar="DURATION",
        help="instead of --from/--to: the window of this length ending now (rounded up to "
        "the next whole minute, as on the dashboard), e.g. 1h or 24h (also 15m, 7d)",
    )
    parser.add_argument(
        "--until",
        type=instant_us,
        metavar="TIMESTAMP",
        help="end of the --last window instead of now, e.g. 2026-03-15T14:00:00Z",
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
    return Filters(start=start, end=end, **_scope_of(args))


def _scope_of(args: argparse.Namespace) -> dict:
    return {
        "org": args.org,
        "teams": tuple(args.teams) if args.teams else None,
        "environments": tuple(args.environments) if args.environments else None,
    }


def window_of(args: argparse.Namespace) -> Filters | None:
    """The Filters of --last [--until] with the scope options; ``None`` without --last.

    Refuses --last together with --from or --to, and --until without --last.
    """
    if args.last is None:
        if args.until is not None:
            raise CommandError("--until ends a --last window; add --last, e.g. --last 1h")
        return None
    if args.start is not None or args.end is not None:
        raise CommandError("give either --last or --from/--to, not both")
    end = timeutil.minute_ceiling(timeutil.now_us()) if args.until is None else args.until
    grouping = automatic_grouping(args.last)  # timelines of a report: 5 minutes for 1h...
    return Filters.window(end - args.last, end, grouping=grouping, **_scope_of(args))
