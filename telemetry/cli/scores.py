"""``scores``: the score names an organization accepts (kind, labels, range, verdict)."""

from __future__ import annotations

import argparse

from telemetry.cli.common import open_store
from telemetry.db import DEFAULT_ORG
from telemetry.ingest.scores import rebuild_trace_quality
from telemetry.scores import KINDS, remove_score_config, score_configs, set_score_config
from telemetry.store import bump_data_version, org_id


def _org_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--org", default=DEFAULT_ORG, metavar="SLUG", help=f"organization (default: {DEFAULT_ORG})"
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "scores",
        help="configure the score names an organization accepts",
        description=(
            "Scores (user feedback, reviews, LLM-judge evaluations) arrive as OTLP "
            "gen_ai.evaluation.result span events, POST /api/scores, JSONL 'score' lines or "
            "telemetry.score(). Without configuration every name is accepted; once a name is "
            "configured, only configured names are, with their labels and range checked. "
            "user_feedback and review are verdicts (positive: up/good/yes/true/pass or a "
            "value > 0); --verdict makes another name one too."
        ),
    )
    commands = parser.add_subparsers(dest="scores_command", metavar="ACTION", required=True)
    setter = commands.add_parser("set", help="accept a score name (replaces its settings)")
    _org_option(setter)
    setter.add_argument("name", help="score name, e.g. hallucination")
    setter.add_argument("--kind", choices=KINDS, default="numeric", help="default: numeric")
    setter.add_argument("--labels", default="", help="allowed labels, comma-separated: yes,no")
    setter.add_argument("--min", type=float, dest="min_value", help="smallest allowed value")
    setter.add_argument("--max", type=float, dest="max_value", help="largest allowed value")
    setter.add_argument("--verdict", action="store_true", help="count it as a verdict")
    setter.add_argument("--description", default="", help="what the score means, for reviewers")
    setter.set_defaults(func=run_set)
    listing = commands.add_parser("list", help="list the configured score names")
    _org_option(listing)
    listing.set_defaults(func=run_list)
    remove = commands.add_parser("remove", help="stop checking a name (stored scores stay)")
    _org_option(remove)
    remove.add_argument("name")
    remove.set_defaults(func=run_remove)


def run_set(args: argparse.Namespace) -> int:
    labels = tuple(label.strip() for label in args.labels.split(",") if label.strip())
    with open_store().begin() as conn:
        org = org_id(conn, args.org)
        bump_data_version(conn, org)  # writers wait while the verdicts are recomputed
        set_score_config(
            conn,
            org,
            args.name,
            kind=args.kind,
            labels=labels,
            min_value=args.min_value,
            max_value=args.max_value,
            verdict=args.verdict,
            description=args.description,
        )
        rebuild_trace_quality(conn, org)  # the verdict names may have changed
    print(f"score {args.name!r} configured for organization {args.org!r}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    with open_store().begin() as conn:
        org = org_id(conn, args.org)
        bump_data_version(conn, org)  # writers wait while the verdicts are recomputed
        if not remove_score_config(conn, org, args.name):
            raise LookupError(f"organization {args.org!r} has no score named {args.name!r}")
        rebuild_trace_quality(conn, org)
    print(f"score {args.name!r} removed from organization {args.org!r}'s configuration")
    return 0


def run_list(args: argparse.Namespace) -> int:
    with open_store().connect() as conn:
        configs = score_configs(conn, org_id(conn, args.org))
    if not configs:
        print(f"organization {args.org!r} configures no score names: every name is accepted")
        return 0
    for config in configs:
        bounds = ""
        if config["min_value"] is not None or config["max_value"] is not None:
            low = "" if config["min_value"] is None else f"{config['min_value']:g}"
            high = "" if config["max_value"] is None else f"{config['max_value']:g}"
            bounds = f" range {low}..{high}"
        labels = f" labels {','.join(config['labels'])}" if config["labels"] else ""
        verdict = " (verdict)" if config["verdict"] else ""
        print(f"{config['name']}: {config['kind']}{labels}{bounds}{verdict}")
    return 0
