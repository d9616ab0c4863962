"""The ``python -m telemetry`` command line: one module per command group."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from telemetry.cli import (
    alerts,
    audit,
    budgets,
    demo,
    export,
    ingest,
    jobs,
    keys,
    metrics,
    orgs,
    prices,
    report,
    retention,
    rollups,
    scores,
    setup,
    users,
)
from telemetry.cli.common import CommandError

# Each module has ``register(subparsers)``; its commands set ``func`` to a
# callable taking the parsed args and returning an exit code.
COMMAND_MODULES = [
    setup,
    users,
    metrics,
    orgs,
    keys,
    ingest,
    prices,
    scores,
    demo,
    rollups,
    retention,
    export,
    report,
    jobs,
    alerts,
    budgets,
    audit,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m telemetry",
        description=(
            "AI-agent telemetry dashboard: set up the store, load demo data, "
            "read metrics. Uses TELEMETRY_DATABASE_URL when set, else data/telemetry.db."
        ),
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (CommandError, LookupError, ValueError, PermissionError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
