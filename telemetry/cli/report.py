"""``report``: build a PDF or HTML report for a period (the page's builder), e.g. from cron."""

from __future__ import annotations

import argparse
import getpass
import sys
import textwrap
from datetime import date

from sqlalchemy import Engine, select

from telemetry.audit import record_event, report_details
from telemetry.cli.common import (
    CommandError,
    add_filter_arguments,
    check_period,
    filters_of,
    open_store,
    window_of,
)
from telemetry.filters import Filters
from telemetry.models import Organization
from telemetry.reports.model import Report, ReportFormat, ReportRequest
from telemetry.store import org_id, team_names
from telemetry.timeutil import day_of_number, day_of_us, month_number, now_us

ALL_MODULES = ("overview", "analytics", "users", "billing", "alerts")
BILLING_MODULE = "billing"
EXIT_ITEMS_FAILED = 1
CRONTAB_EXAMPLE = (
    "0 6 * * 1  cd /srv/telemetry && .venv/bin/python -m telemetry report "
    "--from $(date -d '7 days ago' +\\%F) --to $(date -d yesterday +\\%F) "
    "--format pdf -o /srv/exports/weekly.pdf"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write a PDF or HTML report of a period (for cron)",
        description=textwrap.fill(
            "Build a report of one organization for a period of whole UTC days (--from, "
            "--to) or for the last hour or 24 hours (--last 1h|24h) with the "
            "same builder as the Reports page, write it to -o PATH and keep a copy in "
            "reports/ (listed on the Reports page for download again). Every item of the "
            "chosen modules is included unless --items names some.",
            width=80,
        ),
        epilog=textwrap.dedent(
            """\
            Item keys are "module.item", e.g. overview.kpis; an unknown key is refused
            with the list of known ones. Without --billing-month, a report with Billing
            items uses the month of --to (with --last: the month the window ends in).

            Exit status: 0 when every item was built; 1 when the report was written but
            some items failed (they are named on stderr and marked failed in the
            report); 2 for a bad date, an unknown organization, team, module or item.

            Example crontab line: every Monday 06:00, the previous 7 days (cron reads
            a bare % as a line break, hence \\%):
                        """
        )
        + "  "
        + CRONTAB_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_filter_arguments(
        parser,
        dates_required=True,
        first_day_help="first day",
        environment_help="only this environment; repeat for several (default: all)",
    )
    parser.add_argument(
        "--billing-month",
        type=_month,
        metavar="YYYY-MM",
        help="month of the Billing module (default: the month of --to, or of the --last "
        "window's end)",
    )
    parser.add_argument(
        "--format", required=True, choices=[f.value for f in ReportFormat], help="pdf or html"
    )
    parser.add_argument(
        "--modules",
        type=_names,
        default=None,
        metavar="LIST",
        help=f"comma-separated modules (default: all: {','.join(ALL_MODULES)})",
    )
    parser.add_argument(
        "--items",
        type=_names,
        action="extend",
        default=None,
        metavar="KEYS",
        help="comma-separated item keys, e.g. overview.kpis,billing.by_model (default: all "
        "items of the modules)",
    )
    parser.add_argument(
        "-o", "--output", required=True, metavar="PATH", help="where to write the report"
    )
    parser.add_argument("--no-archive", action="store_true", help="do not keep a copy in reports/")
    parser.add_argument(
        "--by",
        default=None,
        metavar="NAME",
        help="who the report says generated it (default: the system user name)",
    )
    parser.set_defaults(func=run_report)


def _month(text: str) -> int:
    try:
        return month_number(date.fromisoformat(f"{text}-01"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a month in YYYY-MM form") from None


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _report_filters(args: argparse.Namespace) -> Filters:
    """--last [--until], else --from and --to (both required then)."""
    window = window_of(args)
    if window is not None:
        return window
    if args.start is None or args.end is None:
        raise CommandError("give --from and --to (days, UTC), or --last 1h|24h")
    check_period(args.start, args.end)
    return filters_of(args, args.start, args.end)


def run_report(args: argparse.Namespace) -> int:
    filters = _report_filters(args)
    engine = open_store()
    organization_name = _check_filters(engine, args.org, args.teams)
    items = chosen_items(args.modules, args.items)
    last_day = day_of_number(day_of_us(filters.end_us - 1))
    request = ReportRequest(
        filters=filters,
        format=ReportFormat(args.format),
        items=items,
        generated_by=args.by or f"{_system_user()} (command line)",
        generated_at_us=now_us(),
        billing_month=_billing_month(args.billing_month, last_day, items),
        organization_name=organization_name,
    )
    # Imported here: the renderers pull in xhtml2pdf and vl-convert, which every other
    # command would otherwise pay for at start-up.
    from telemetry.reports.builder import build_report

    report = build_report(engine, request)
    record_event(
        engine,
        filters.org,
        "report.generate",
        actor=request.generated_by,
        target=request.format.value,
        details=report_details(request, "command line"),
    )
    content = render(report)
    _write(args.output, content)
    print(f"wrote {args.output} ({len(content):,} bytes, {len(report.results)} items)")
    if not args.no_archive:
        from telemetry.reports.archive import reports_dir, save_report

        try:
            kept = save_report(report, content)
        except OSError as error:
            raise CommandError(
                f"{args.output} was written, but keeping a copy in {reports_dir()} failed "
                f"({error.strerror}); check that directory or pass --no-archive"
            ) from None
        print(f"kept as {kept.path}")
    return _failures(report)


def render(report: Report) -> bytes:
    """The report in its requested format, as bytes for a file."""
    if report.request.format == ReportFormat.PDF:
        from telemetry.reports.pdf import PdfError, render_pdf

        try:
            return render_pdf(report)
        except PdfError as error:
            raise CommandError(f"{error}; try --format html, or fewer --items") from None
    from telemetry.reports.html import render_html

    return render_html(report).encode("utf-8")


def chosen_items(modules: list[str] | None, items: list[str] | None) -> tuple[str, ...]:
    """Item keys in report order: the given ones, else every default item of the modules."""
    from telemetry.reports import catalog

    known_modules = tuple(catalog.MODULES)
    for module in modules or ():
        if module not in known_modules:
            raise CommandError(
                f"unknown module {module!r} in --modules; known: {', '.join(known_modules)}"
            )
    if items:
        known = [spec.key for module in known_modules for spec in catalog.items_of(module)]
        unknown = [key for key in items if key not in known]
        if unknown:
            raise CommandError(
                f"unknown item {', '.join(map(repr, unknown))} in --items; known items:\n  "
                + "\n  ".join(known)
            )
        chosen = [key for key in items if not modules or key.split(".", 1)[0] in modules]
        if not chosen:
            raise CommandError("none of the --items belongs to the --modules given")
        return tuple(dict.fromkeys(chosen))
    wanted = modules or known_modules
    return tuple(key for key in catalog.DEFAULT_ITEMS if key.split(".", 1)[0] in wanted)


def _check_filters(engine: Engine, org: str, teams: list[str] | None) -> str:
    """The organization's display name; unknown organizations and teams are refused."""
    with engine.connect() as conn:
        found = org_id(conn, org)
        known_teams = team_names(conn, found)
        name = conn.execute(select(Organization.name).where(Organization.id == found)).scalar()
    unknown = [team for team in teams or () if team not in known_teams]
    if unknown:
        raise CommandError(
            f"unknown team {', '.join(map(repr, unknown))} in organization {org!r}; "
            f"known: {', '.join(known_teams) or 'none'}"
        )
    return name or ""


def _billing_month(given: int | None, end: date, items: tuple[str, ...]) -> int | None:
    if given is not None:
        return given
    if any(key.split(".", 1)[0] == BILLING_MODULE for key in items):
        return month_number(end)
    return None


def _write(output: str, content: bytes) -> None:
    try:
        with open(output, "wb") as out:
            out.write(content)
    except OSError as error:
        raise CommandError(f"cannot write {output}: {error.strerror}") from None


def _failures(report: Report) -> int:
    if not report.failed:
        return 0
    print(f"{len(report.failed)} of {len(report.results)} items failed:", file=sys.stderr)
    for result in report.failed:
        print(f"  {result.key} ({result.title}): {result.error}", file=sys.stderr)
    return EXIT_ITEMS_FAILED


def _system_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
