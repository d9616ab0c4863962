"""Time a full report (every module and item, 90 days) on the 1M-trace bench store, PDF and HTML.

Usage: .venv/bin/python bench/bench_report.py [--traces 1000000] [--days 90] [--repeat 3]

Reuses the store of bench/bench_queries.py (bench/.cache/, built once). Each round
builds the report once (the same builder as the Reports page and the CLI) and
renders it both ways; the figures are medians over the rounds, after one warm-up
round. Target (the project's performance budget): PDF, all modules, 90 days, build + render < 15 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BENCH_END, bench_store
from telemetry.filters import Filters
from telemetry.reports.builder import build_report
from telemetry.reports.catalog import DEFAULT_ITEMS
from telemetry.reports.html import render_html, vega_bundle
from telemetry.reports.model import Report, ReportFormat, ReportRequest
from telemetry.reports.pdf import render_pdf
from telemetry.timeutil import day_end_us, month_number

ORG = "demo"
PDF_TARGET_SECONDS = 15.0


def _request(days: int) -> ReportRequest:
    filters = Filters(start=BENCH_END - timedelta(days=days - 1), end=BENCH_END, org=ORG)
    return ReportRequest(
        filters=filters,
        format=ReportFormat.PDF,
        items=DEFAULT_ITEMS,
        generated_by="bench",
        # Generated on the period's last day, so the billing month is that day's month.
        generated_at_us=day_end_us(BENCH_END) - 1,
        billing_month=month_number(BENCH_END),
        organization_name="Demo",
    )


def _timed(run):
    started = time.perf_counter()
    result = run()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    engine = bench_store(args.traces)
    request = _request(args.days)
    _, bundle_seconds = _timed(vega_bundle)
    print(f"vega bundle (once per process): {bundle_seconds:.2f} s")
    print(f"{len(request.items)} items, {request.filters.start} .. {request.filters.end}")

    report: Report = build_report(engine, request)  # warm-up: page cache, imports
    for result in report.failed:
        print(f"  FAILED {result.key}: {result.error}")
    samples: dict[str, list[float]] = {"build": [], "pdf": [], "html": []}
    sizes = {}
    for _ in range(args.repeat):
        report, seconds = _timed(partial(build_report, engine, request))
        samples["build"].append(seconds)
        pdf, seconds = _timed(partial(render_pdf, report))
        samples["pdf"].append(seconds)
        html_text, seconds = _timed(partial(render_html, report))
        samples["html"].append(seconds)
        sizes = {"pdf": len(pdf), "html": len(html_text.encode("utf-8"))}

    slowest = sorted(report.results, key=lambda result: result.seconds, reverse=True)[:5]
    print("slowest items (last round): " + ", ".join(f"{r.key} {r.seconds:.2f} s" for r in slowest))
    build = statistics.median(samples["build"])
    pdf_render = statistics.median(samples["pdf"])
    html_render = statistics.median(samples["html"])
    print(f"median of {args.repeat} rounds, {args.days} days, {args.traces:,} traces:")
    print(f"  build (query + blocks)  {build:6.2f} s")
    print(f"  render PDF              {pdf_render:6.2f} s   ({sizes['pdf']:,} bytes)")
    print(f"  render HTML             {html_render:6.2f} s   ({sizes['html']:,} bytes)")
    total_pdf = build + pdf_render
    verdict = "OK" if total_pdf < PDF_TARGET_SECONDS else "OVER"
    target = f"target < {PDF_TARGET_SECONDS:.0f} s: {verdict}"
    print(f"  PDF total               {total_pdf:6.2f} s   {target}")
    print(f"  HTML total              {build + html_render:6.2f} s")


if __name__ == "__main__":
    main()
