"""``export``: the period's sessions, traces, generations and tool runs as files + manifest."""

from __future__ import annotations

import argparse
from pathlib import Path

from telemetry.cli.common import CommandError, check_period, iso_date, open_store
from telemetry.db import DEFAULT_ORG
from telemetry.export import FORMATS, MANIFEST, ExportRequest, export_records, record_export
from telemetry.export_kinds import KINDS
from telemetry.filters import Filters


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export the period's records as CSV, JSON or JSONL files with a manifest",
        description=(
            "Write one file per kind (e.g. traces.jsonl) and manifest.json (kinds with "
            "file, rows and sha256, the filters, schema_version) into DIR. Rows are "
            "streamed: any period fits in memory. A row belongs to the period its own "
            "start falls in. CSV cells that a spreadsheet would run as formulas are "
            "prefixed with an apostrophe. Prompt/response content only with --content. "
            f"Kinds: {', '.join(KINDS)}."
        ),
    )
    parser.add_argument("--org", default=DEFAULT_ORG, metavar="SLUG", help="organization")
    parser.add_argument("--from", dest="start", type=iso_date, required=True, metavar="YYYY-MM-DD")
    parser.add_argument(
        "--to", dest="end", type=iso_date, required=True, metavar="YYYY-MM-DD", help="inclusive"
    )
    parser.add_argument("--team", dest="teams", action="append", metavar="NAME", help="repeatable")
    parser.add_argument(
        "--environment", dest="environments", action="append", metavar="ENV", help="repeatable"
    )
    parser.add_argument("--agent", default=None, help="only this agent")
    parser.add_argument(
        "--model", default=None, help="only LLM calls of this model (and traces that made one)"
    )
    parser.add_argument(
        "--include",
        default="traces,generations",
        metavar="KINDS",
        help=f"comma-separated kinds (default traces,generations): {','.join(KINDS)}",
    )
    parser.add_argument("--format", choices=FORMATS, default="jsonl")
    parser.add_argument(
        "--content", action="store_true", help="include prompts, responses and tool arguments"
    )
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="DIR")
    parser.add_argument("--quiet", action="store_true", help="print only the manifest's path")
    parser.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    check_period(args.start, args.end)
    kinds = tuple(kind.strip() for kind in args.include.split(",") if kind.strip())
    request = ExportRequest(
        filters=Filters(
            start=args.start,
            end=args.end,
            org=args.org,
            teams=tuple(args.teams) if args.teams else None,
            environments=tuple(args.environments) if args.environments else None,
        ),
        kinds=kinds,
        format=args.format,
        content=args.content,
        agent=args.agent,
        model=args.model,
    )
    request.check()  # an unknown kind: nothing written, not even the directory
    if args.output.exists() and not args.output.is_dir():
        raise CommandError(f"{args.output} exists and is not a directory; give a directory")
    engine = open_store()
    manifest = export_records(engine, request, args.output)
    record_export(engine, manifest, via="cli")
    if args.quiet:
        print(args.output / MANIFEST)
        return 0
    for kind, entry in manifest["kinds"].items():
        print(f"{kind}: {entry['rows']:,} rows -> {args.output / entry['file']}")
    print(f"manifest: {args.output / MANIFEST}")
    return 0
