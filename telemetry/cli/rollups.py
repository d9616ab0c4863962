"""``rollups``: check the daily rollup tables against the stored telemetry, or rebuild them."""

from __future__ import annotations

import argparse

from sqlalchemy import Connection, func, select

from telemetry.cli.common import open_store
from telemetry.ingest.scores import rebuild_trace_quality, trace_quality_drift
from telemetry.models import LlmDaily, Organization, TraceDaily
from telemetry.retention import records_horizon
from telemetry.rollups import rebuild_rollups, rollup_drift
from telemetry.store import bump_data_version, org_id
from telemetry.timeutil import day_of_number


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "rollups",
        help="check or rebuild the daily rollup tables",
        description=(
            "The dashboard reads per-day rollups of traces and LLM calls, kept up to date "
            "by every write. 'check' recomputes them from the stored traces and calls and "
            "lists any difference, and any stored value out of range (negative, or beyond "
            "the ingest limits of docs/ingest.md), exit code 1 if there is one; 'rebuild' "
            "recomputes them. Days purged by retention keep their rollups: both leave "
            "them alone. Both also cover each trace's latest verdict (table trace_quality, "
            "from the scores)."
        ),
    )
    commands = parser.add_subparsers(dest="rollups_command", metavar="ACTION", required=True)
    for name, run, text in (
        ("check", run_check, "compare the rollups with the stored traces and calls"),
        ("rebuild", run_rebuild, "recompute the rollups from the stored traces and calls"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument(
            "--org", default=None, metavar="SLUG", help="one organization (default: all)"
        )
        command.set_defaults(func=run)


def _organizations(conn: Connection, slug: str | None) -> list[tuple[str, int]]:
    if slug is not None:
        return [(slug, org_id(conn, slug))]
    query = select(Organization.slug, Organization.id).order_by(Organization.slug)
    return [(slug, org) for slug, org in conn.execute(query)]


def run_check(args: argparse.Namespace) -> int:
    engine = open_store()
    failed = False
    with engine.connect() as conn:
        for slug, org in _organizations(conn, args.org):
            problems = rollup_drift(conn, org)
            verdicts = trace_quality_drift(conn, org)
            if verdicts:
                shown = ", ".join(verdicts[:5]) + (" ..." if len(verdicts) > 5 else "")
                problems = [*problems, f"latest verdicts of {len(verdicts):,} traces: {shown}"]
            horizon = records_horizon(conn, org)
            if horizon is not None:
                print(
                    f"{slug}: days before {day_of_number(horizon)} were purged by retention; "
                    "their rollups are kept and not compared"
                )
            if not problems:
                print(f"{slug}: rollups match the stored traces and LLM calls")
                continue
            failed = True
            print(f"{slug}: rollups differ from the stored traces and LLM calls:")
            for line in problems:
                print(f"  {line}")
    if failed:
        print("fix with: python -m telemetry rollups rebuild [--org SLUG]")
    return 1 if failed else 0


def run_rebuild(args: argparse.Namespace) -> int:
    engine = open_store()
    with engine.begin() as conn:
        for slug, org in _organizations(conn, args.org):
            bump_data_version(conn, org)  # writers wait: their deltas would race the rebuild
            rebuild_rollups(conn, org)
            rebuild_trace_quality(conn, org)
            traces, calls = _rows(conn, TraceDaily, org), _rows(conn, LlmDaily, org)
            print(f"{slug}: rebuilt {traces:,} trace rollup rows, {calls:,} LLM-call rollup rows")
    return 0


def _rows(conn: Connection, table, org: int) -> int:
    return int(conn.execute(select(func.count()).where(table.org_id == org)).scalar_one())
