"""``budgets``: monthly budgets with spent, remaining, month-end forecast and run-out date."""

from __future__ import annotations

import argparse
import json
import textwrap

from telemetry.alerts import channels as channel_store
from telemetry.alerts.access import cli_account
from telemetry.alerts.budgets import (
    BudgetSpec,
    list_budgets,
    parse_levels,
    parse_scope,
    remove_budget,
    set_budget,
)
from telemetry.alerts.rules import number
from telemetry.cli.common import iso_date, open_store
from telemetry.db import DEFAULT_ORG
from telemetry.ingest.audit import current_actor
from telemetry.timeutil import day_of_number, day_of_us, now_us

SCOPE_HELP = "org, team:NAME, user:ID, agent:NAME or model:NAME"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "budgets",
        help="monthly budgets: set, list (spent, forecast, run-out date), remove",
        description=textwrap.fill(
            "A budget is a monthly limit in USD (optionally tokens) for the organization, a "
            "team, a user, an agent or a model. Its channels are told when a level is reached "
            "(50/80/100% by default) and when the month-end forecast (month to date / elapsed "
            "days x days in the month) goes over it.",
            width=80,
        ),
    )
    commands = parser.add_subparsers(dest="budgets_command", metavar="ACTION", required=True)
    setting = commands.add_parser("set", help="create or replace a budget")
    _org(setting)
    setting.add_argument("--scope", required=True, help=SCOPE_HELP)
    setting.add_argument("--monthly-usd", required=True, metavar="X", help="USD per month")
    setting.add_argument("--monthly-tokens", type=int, metavar="N", help="tokens per month")
    setting.add_argument("--levels", default="50,80,100", help="notice levels in %% (50,80,100)")
    setting.add_argument(
        "--channel",
        dest="channels",
        action="append",
        default=[],
        metavar="KIND:TARGET",
        help="webhook:URL, slack:URL or email:ADDRESS; repeatable",
    )
    setting.set_defaults(func=run_set)
    listing = commands.add_parser("list", help="list budgets with this month's figures")
    _org(listing)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.add_argument(
        "--today", type=iso_date, metavar="YYYY-MM-DD", help="as of this day (default: today)"
    )
    listing.set_defaults(func=run_list)
    remove = commands.add_parser("remove", help="remove a budget")
    _org(remove)
    remove.add_argument("--scope", required=True, help=SCOPE_HELP)
    remove.set_defaults(func=run_remove)


def _org(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--org", default=DEFAULT_ORG, metavar="SLUG", help=f"organization (default: {DEFAULT_ORG})"
    )
    parser.add_argument("--actor", default="", help="who does this, for the audit log")


def run_set(args: argparse.Namespace) -> int:
    kind, value = parse_scope(args.scope)
    amount = number(args.monthly_usd, "--monthly-usd")
    levels = parse_levels(args.levels)
    engine = open_store()
    account = cli_account(current_actor(args.actor))
    channels = [channel_store.parse_channel(text) for text in args.channels]
    spec = BudgetSpec(
        org=args.org,
        kind=kind,
        value=value,
        monthly_usd=amount,
        monthly_tokens=args.monthly_tokens,
        levels=levels,
    )
    budget_id = set_budget(engine, account, spec, new_channels=channels)
    print(f"budget {budget_id}: {spec.scope} ${amount:,.2f} a month, notices at {args.levels}%")
    return 0


def run_list(args: argparse.Namespace) -> int:
    today = args.today or day_of_number(day_of_us(now_us()))
    found = list_budgets(open_store(), cli_account(current_actor(args.actor)), args.org, today)
    if args.json:
        print(json.dumps([status.as_json() for status in found], indent=2))
        return 0
    if not found:
        print(f"no budgets in {args.org} (set one with `budgets set`)")
    for status in found:
        forecast = "-" if status.forecast_usd is None else f"${status.forecast_usd:,.2f}"
        runs_out = status.run_out_date.isoformat() if status.run_out_date else "not this month"
        print(
            f"{status.spec.scope:<30} ${status.spent_usd:,.2f} of ${status.spec.monthly_usd:,.2f} "
            f"({status.used_share:.0%}), forecast {forecast}, runs out {runs_out}"
        )
    return 0


def run_remove(args: argparse.Namespace) -> int:
    remove_budget(open_store(), cli_account(current_actor(args.actor)), args.org, args.scope)
    print(f"removed the budget of {args.scope}")
    return 0
