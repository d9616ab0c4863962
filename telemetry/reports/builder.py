"""Build a report item by item: one failing item is marked failed, never loses the others.

``build_report`` turns a :class:`ReportRequest` into a :class:`Report`;
``retry_failed`` rebuilds only the failed items in place; ``estimate_size``
says, from the daily rollups, how big the period is before anything is built.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Engine

from telemetry.filters import Filters
from telemetry.queries.activity import trace_count_in
from telemetry.queries.costs import usage_totals_in
from telemetry.queries.scope import resolve_scope
from telemetry.reports.catalog import CATALOG, unknown_item_message
from telemetry.reports.model import (
    ItemResult,
    ItemSpec,
    ItemStatus,
    Report,
    ReportRequest,
    Snapshot,
    TableBlock,
)
from telemetry.reports.shared import sharing

log = logging.getLogger(__name__)

# progress(done, total, title of the item just built)
Progress = Callable[[int, int, str], None]
ERROR_TEXT_LIMIT = 240
# Rows (traces + LLM calls of the period) a report of every item gets through per second,
# and a fixed part for small periods and for writing the file. Measured on the 1M-trace
# bench store (bench/common.py) on 2 busy shared cores: 980k rows (90 days) built in 13 s.
ROWS_PER_SECOND = 80_000
BASE_SECONDS = 3.0
# Above this estimate the page warns and suggests a narrower period.
LARGE_SECONDS = 10.0
_UNAVAILABLE = Snapshot(shown=0, total=0, available=False)


@dataclass(frozen=True)
class SizeEstimate:
    """How much data a report over some filters reads, and roughly how long it takes."""

    rows: int
    seconds: float
    large: bool


def build_report(
    engine: Engine,
    request: ReportRequest,
    progress: Progress | None = None,
    catalog: Iterable[ItemSpec] | None = None,
) -> Report:
    """Build every item of ``request.items`` on its own, in order.

    An item that raises is kept as ``FAILED`` with a one-line error for people;
    an unknown key is a failed item naming the valid keys. ``progress`` is
    called after each item with (items done, items in all, item title).
    """
    specs = _specs(catalog)
    total = len(request.items)
    results = []
    with sharing():  # a query two items need runs once
        for done, key in enumerate(request.items, start=1):
            result = _build(engine, request, key, specs)
            results.append(result)
            if progress is not None:
                progress(done, total, result.title)
    return Report(request=request, results=tuple(results))


def retry_failed(
    engine: Engine,
    report: Report,
    progress: Progress | None = None,
    catalog: Iterable[ItemSpec] | None = None,
) -> Report:
    """Rebuild only the failed items of ``report``, each in its place; the others are kept."""
    specs = _specs(catalog)
    total = len(report.failed)
    results = list(report.results)
    done = 0
    with sharing():
        for index, result in enumerate(results):
            if not result.failed:
                continue
            results[index] = _build(engine, report.request, result.key, specs)
            done += 1
            if progress is not None:
                progress(done, total, results[index].title)
    return report.with_results(tuple(results))


def estimate_size(engine: Engine, filters: Filters) -> SizeEstimate:
    """Traces and LLM calls of the period (from the daily rollups) and a time estimate.

    Two indexed sums over the rollups, no scan of the traces. ``large`` is true
    when the estimate exceeds :data:`LARGE_SECONDS`.
    """
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        rows = trace_count_in(conn, scope) + usage_totals_in(conn, scope).generations
    seconds = BASE_SECONDS + rows / ROWS_PER_SECOND
    return SizeEstimate(rows=rows, seconds=round(seconds, 1), large=seconds > LARGE_SECONDS)


def _specs(catalog: Iterable[ItemSpec] | None) -> dict[str, ItemSpec]:
    return {spec.key: spec for spec in (CATALOG if catalog is None else catalog)}


def _build(engine: Engine, request: ReportRequest, key: str, specs: dict) -> ItemResult:
    spec = specs.get(key)
    module = key.split(".", 1)[0]
    if spec is None:
        message = unknown_item_message(key, tuple(specs.values()))
        return ItemResult(key, module, key, ItemStatus.FAILED, error=message)
    started = time.perf_counter()
    try:
        block, fidelity = spec.build(engine, request)
    except Exception as error:  # one item's failure must not lose the report
        log.exception("report item %s failed", key)
        return ItemResult(
            key,
            spec.module,
            spec.title,
            ItemStatus.FAILED,
            error=item_error_text(error),
            seconds=time.perf_counter() - started,
            snapshot=_UNAVAILABLE if spec.lists_users else None,
        )
    snapshot = block.snapshot if isinstance(block, TableBlock) else None
    return ItemResult(
        key,
        spec.module,
        spec.title,
        ItemStatus.OK,
        block=block,
        fidelity=fidelity,
        seconds=time.perf_counter() - started,
        snapshot=snapshot,
    )


def error_text(error: BaseException) -> str:
    """One line for people: the error's first line (no SQL, no traceback) and its kind."""
    lines = str(error).strip().splitlines()
    first = lines[0].strip() if lines else "no message"
    if len(first) > ERROR_TEXT_LIMIT:
        first = first[: ERROR_TEXT_LIMIT - 1] + "…"
    return f"{first} ({type(error).__name__})."


def item_error_text(error: BaseException) -> str:
    return f"{error_text(error)} Retry the failed items, or narrow the period."
