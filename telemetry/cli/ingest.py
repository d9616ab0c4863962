"""``ingest``: import OTLP JSON, native JSONL and user-directory CSV files."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm import tqdm

from telemetry.cli.common import CommandError, open_store
from telemetry.db import DEFAULT_ORG
from telemetry.ingest.files import FORMATS, import_files

EXIT_REJECTED = 2
_PROGRESS_FROM_BYTES = 1024 * 1024  # smaller files import too fast for a bar to help


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ingest",
        help="import telemetry files (OTLP JSON, JSONL, user-directory CSV)",
        description=(
            "Import files into an organization: OTLP JSON (one ExportTraceServiceRequest "
            "per line, as the OpenTelemetry Collector's file exporter writes, or one per "
            "file), the native JSONL (docs/jsonl.md) or a user-directory CSV with the "
            "header id,name,email,company,team,status. Spans already stored are skipped, "
            "so running an import again (for instance after it was interrupted) completes "
            "it without duplicates. Unreadable records are listed as file:line with the "
            "reason and kept in the quarantine table ingest_error; so is a span whose times, "
            "duration, token counts or cost are beyond the limits of docs/ingest.md "
            "(e.g. 10^9 tokens per count and call). Files of 16 MiB or more "
            "are parsed by worker processes while this one stores (TELEMETRY_INGEST_WORKERS, "
            "default one per core but one, 0 for none). Exit code: 0 when "
            f"everything was stored, {EXIT_REJECTED} when some records were rejected (the "
            "rest is stored) or the command could not run."
        ),
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", type=Path, help="files to import")
    parser.add_argument(
        "--org", default=DEFAULT_ORG, metavar="SLUG", help=f"organization (default: {DEFAULT_ORG})"
    )
    parser.add_argument(
        "--format",
        dest="fmt",
        choices=FORMATS,
        default="auto",
        help='file format (default: auto: .csv is CSV, lines with a "type" are JSONL)',
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run_ingest)


def _progress_bar(path: Path, total: int):
    return tqdm(
        total=total,
        unit="B",
        unit_scale=True,
        desc=path.name,
        disable=True if total < _PROGRESS_FROM_BYTES else None,  # None: only on a terminal
        file=sys.stderr,
    )


def run_ingest(args: argparse.Namespace) -> int:
    missing = [str(p) for p in args.paths if not p.is_file()]
    if missing:
        raise CommandError(f"no such file: {', '.join(missing)}")
    engine = open_store()
    report = import_files(engine, args.paths, org=args.org, fmt=args.fmt, progress=_progress_bar)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print("\n".join(report.summary_lines()))
    return EXIT_REJECTED if report.rejected else 0
