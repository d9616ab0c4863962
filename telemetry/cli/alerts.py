"""``alerts``: add, list and remove alert rules, test channels, evaluate once (cron), history."""

from __future__ import annotations

import argparse
import json
import textwrap
from datetime import UTC, datetime

from telemetry.alerts import channels as channel_store
from telemetry.alerts.access import cli_account
from telemetry.alerts.delivery import send_test
from telemetry.alerts.evaluate import ALERTS_JOB, PassResult, evaluate_all
from telemetry.alerts.history import alert_history
from telemetry.alerts.messages import iso, value_text
from telemetry.alerts.metrics import METRICS
from telemetry.alerts.overview import rules_with_states
from telemetry.alerts.rules import RuleSpec, delete_rule, number, save_rule
from telemetry.alerts.senders import DeliveryError
from telemetry.alerts.state import ABOVE, BELOW, NO_DATA_CHOICES
from telemetry.alerts.windows import WINDOWS, parse_duration
from telemetry.cli.common import CommandError, open_store
from telemetry.db import DEFAULT_ORG
from telemetry.ingest.audit import current_actor
from telemetry.jobs import Job, run_tick
from telemetry.timeutil import parse_rfc3339, to_us


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "alerts",
        help="alert rules: add, list, remove, test a channel, evaluate once, history",
        description=textwrap.fill(
            "Alert rules watch a metric over a window (15m, 1h, 24h, 7d or mtd) in a scope and "
            "notify channels (e-mail, Slack, webhook) at every change of state: OK, WARNING, "
            "ALERT, NO_DATA. The server evaluates them every minute; run-once does one pass "
            "for cron. Rates are fractions (0.05 = 5%).",
            width=80,
        ),
    )
    commands = parser.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)
    _add_list(commands)
    _add_add(commands)
    remove = commands.add_parser("remove", help="remove a rule (its history stays)")
    remove.add_argument("rule", type=int, help="the rule's id (see alerts list)")
    _org(remove)
    remove.set_defaults(func=run_remove)
    test = commands.add_parser("test", help="send a test notification to a channel")
    test.add_argument("channel", help="the channel's id, name or kind:target (see alerts channels)")
    _org(test)
    test.set_defaults(func=run_test)
    once = commands.add_parser(
        "run-once",
        help="evaluate every enabled rule and budget once, send what changed (cron)",
        description="One evaluation pass, as the server's background job does every minute. "
        "It never runs at the same time as the server's own pass.",
    )
    once.add_argument(
        "--at",
        metavar="ISO-8601-TIME",
        help="evaluate as of this time (with a zone, e.g. 2026-03-01T10:00:00Z) instead of now",
    )
    once.set_defaults(func=run_once)
    history = commands.add_parser("history", help="list the changes of state, newest first")
    _org(history)
    history.add_argument("--rule", type=int, help="only this rule's changes")
    history.add_argument("--limit", type=int, default=200, help="at most this many (200)")
    history.add_argument("--json", action="store_true", help="print JSON")
    history.set_defaults(func=run_history)
    listing = commands.add_parser("channels", help="list the notification channels")
    _org(listing)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=run_channels)


def _org(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--org", default=DEFAULT_ORG, metavar="SLUG", help=f"organization (default: {DEFAULT_ORG})"
    )
    parser.add_argument("--actor", default="", help="who does this, for the audit log")


def _add_list(commands) -> None:
    listing = commands.add_parser("list", help="list the rules with their states")
    _org(listing)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=run_list)


def _add_add(commands) -> None:
    add = commands.add_parser(
        "add",
        help="add a rule; prints its id",
        description="Add an alert rule. Every value is checked first; nothing is saved on error.",
        epilog=textwrap.dedent(
            """\
            Metrics: """
            + ", ".join(METRICS)
            + """, score_mean.NAME (the mean of the scores named NAME)
            Example: error rate above 5% over 1 hour for the Support team, by e-mail:
              python -m telemetry alerts add --org default --name "Support errors" \\
                --metric error_rate --window 1h --above 0.05 --warn-above 0.03 \\
                --team Support --min-runs 20 --for 5m --channel email:ops@example.com"""
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _org(add)
    add.add_argument("--name", required=True, help="the rule's name (unique in the organization)")
    add.add_argument(
        "--metric", required=True, metavar="METRIC", help="see the list below (checked on add)"
    )
    add.add_argument("--window", required=True, metavar="WINDOW", help=", ".join(WINDOWS))
    add.add_argument("--above", metavar="X", help="alert when the value is above X")
    add.add_argument("--below", metavar="X", help="alert when the value is below X")
    add.add_argument("--warn-above", metavar="Y", help="warn when above Y (less than --above)")
    add.add_argument("--warn-below", metavar="Y", help="warn when below Y (more than --below)")
    add.add_argument("--team", dest="teams", action="append", metavar="T", help="repeatable")
    add.add_argument("--environment", dest="environments", action="append", metavar="E")
    add.add_argument("--agent", default="", metavar="A", help="only this agent")
    add.add_argument("--model", default="", metavar="M", help="only this model's LLM calls")
    add.add_argument("--user", default="", metavar="ID", help="only this end user")
    add.add_argument(
        "--each", choices=["team", "agent", "model"], help="one alert per team, agent or model"
    )
    add.add_argument("--min-runs", type=int, default=0, metavar="N", help="quiet below N runs")
    add.add_argument(
        "--for", dest="pending", default="0", metavar="DURATION", help="pending period, e.g. 5m"
    )
    add.add_argument(
        "--recovery-margin",
        default="0",
        metavar="F",
        help="recover only back past the threshold by this fraction of it (0.1 = 10%%)",
    )
    add.add_argument(
        "--no-data",
        default="keep",
        choices=NO_DATA_CHOICES,
        help="what too few runs or no value means (default: keep the state)",
    )
    add.add_argument(
        "--channel",
        dest="channels",
        action="append",
        default=[],
        metavar="KIND:TARGET",
        help="webhook:URL, slack:URL or email:ADDRESS; repeatable",
    )
    add.set_defaults(func=run_add)


def _account(args):
    return cli_account(current_actor(args.actor))


def _direction(args) -> tuple[str, float, float | None]:
    if (args.above is None) == (args.below is None):
        raise CommandError("give exactly one of --above X or --below X")
    if args.above is not None:
        if args.warn_below is not None:
            raise CommandError("--warn-below goes with --below; use --warn-above with --above")
        warn = None if args.warn_above is None else number(args.warn_above, "--warn-above")
        return ABOVE, number(args.above, "--above"), warn
    if args.warn_above is not None:
        raise CommandError("--warn-above goes with --above; use --warn-below with --below")
    warn = None if args.warn_below is None else number(args.warn_below, "--warn-below")
    return BELOW, number(args.below, "--below"), warn


def run_add(args: argparse.Namespace) -> int:
    direction, threshold, warn = _direction(args)
    engine = open_store()
    account = _account(args)
    channels = [channel_store.parse_channel(text) for text in args.channels]
    spec = RuleSpec(
        org=args.org,
        name=args.name,
        metric=args.metric,
        window=args.window,
        threshold=threshold,
        direction=direction,
        warn_threshold=warn,
        teams=tuple(args.teams) if args.teams else None,
        environments=tuple(args.environments) if args.environments else None,
        agent=args.agent,
        model=args.model,
        user=args.user,
        group_by=args.each or "",
        min_runs=args.min_runs,
        pending_s=parse_duration(args.pending, field="--for"),
        recovery_margin=number(args.recovery_margin, "--recovery-margin"),
        no_data=args.no_data,
    )
    print(save_rule(engine, account, spec, new_channels=channels))
    return 0


def run_list(args: argparse.Namespace) -> int:
    views = rules_with_states(open_store(), _account(args), args.org)
    rows = [view.as_json() for view in views]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no alert rules in {args.org} (add one with `alerts add`)")
    for view in views:
        spec = view.rule.spec
        condition = f"{spec.direction} {value_text(spec.metric, spec.threshold)}"
        print(
            f"{view.rule.id:>4}  {view.state:<8} {spec.name}: {spec.metric} over {spec.window} "
            f"{condition}" + ("" if spec.enabled else " (off)")
        )
    return 0


def run_remove(args: argparse.Namespace) -> int:
    delete_rule(open_store(), _account(args), args.org, args.rule)
    print(f"removed rule {args.rule}")
    return 0


def run_test(args: argparse.Namespace) -> int:
    engine = open_store()
    channel_id = channel_store.find_channel(engine, args.org, args.channel)
    try:
        event_id = send_test(engine, _account(args), args.org, channel_id)
    except DeliveryError as error:
        raise CommandError(f"the test notification failed: {error}") from None
    print(f"sent a test notification to channel {channel_id} (event {event_id})")
    return 0


def run_once(args: argparse.Namespace) -> int:
    engine = open_store()
    at_us = to_us(datetime.now(UTC))
    if args.at:
        try:
            at_us = to_us(parse_rfc3339(args.at))
        except ValueError as error:
            raise CommandError(f"--at {args.at!r}: {error}") from None
    results: list[PassResult] = []
    job = Job(
        ALERTS_JOB.name, ALERTS_JOB.every_s, lambda e, tick: results.append(evaluate_all(e, tick))
    )
    outcome = run_tick(engine, job, at_us)
    if outcome is False:
        raise CommandError(
            "not run: another process is evaluating alerts now, or already evaluated them "
            "as of this time or later (see `python -m telemetry jobs`)"
        )
    if outcome is None:
        raise CommandError("the evaluation failed; see `python -m telemetry jobs` for the error")
    result = results[0]
    print(
        f"evaluated {result.rules} rule(s) as of {iso(at_us)}: {result.changes} change(s) of "
        f"state, {result.budget_notices} budget notice(s); sent {result.deliveries.sent}, "
        f"retrying {result.deliveries.retrying}, failed {result.deliveries.failed}"
    )
    for rule_id, error in result.broken:
        print(f"rule {rule_id} could not be evaluated: {error}")
    return 1 if result.broken else 0


def run_history(args: argparse.Namespace) -> int:
    entries = alert_history(
        open_store(), _account(args), args.org, rule_id=args.rule, limit=args.limit
    )
    if args.json:
        print(json.dumps([entry.as_json() for entry in entries], indent=2))
        return 0
    for entry in entries:
        print(f"{iso(entry.at_us)}  {entry.state:<8} {entry.message}")
    if not entries:
        print("no changes of state yet")
    return 0


def run_channels(args: argparse.Namespace) -> int:
    found = channel_store.list_channels(open_store(), args.org)
    rows = [
        {
            "id": channel.id,
            "kind": channel.kind,
            "target": channel.target,
            "name": channel.name or None,
            "failing": channel.failing,
            "failures": channel.failures,
            "last_error": channel.last_error or None,
        }
        for channel in found
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        status = f"FAILING: {row['last_error']}" if row["failing"] else "ok"
        print(f"{row['id']:>4}  {row['kind']}:{row['target']}  {status}")
    if not rows:
        print(f"no channels in {args.org}; `alerts add ... --channel KIND:TARGET` adds one")
    return 0
