"""Range checks of stored measures for ``rollups check``: negative or beyond the ingest bounds.

Ingest refuses a span whose token counts, cost or duration are outside the bounds
of :mod:`telemetry.ingest.bounds`, so no stored row should hold one, and no rollup
row a sum beyond its row count times the bound. Rows written before the bounds
existed (or by hand) may: each check counts the offending rows and shows one.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import ColumnElement, Connection, Table, func, or_, select

from telemetry.ingest.bounds import COST_MAX_USD, DURATION_MAX_US, TOKENS_MAX
from telemetry.models import TOKEN_COLUMNS, LlmDaily, Observation, ToolDaily, Trace
from telemetry.rollup_tables import ROLLUPS
from telemetry.timeutil import day_of_number

_BOUNDS = (
    f"ingest bounds: {TOKENS_MAX:_} tokens per count and call, {COST_MAX_USD:_.0f} USD "
    f"per call, {DURATION_MAX_US // 86_400_000_000} days per span (docs/ingest.md)"
)


def range_problems(conn: Connection, org_id: int) -> list[str]:
    """One line per kind of out-of-range value stored for ``org_id`` ([] = none)."""
    return list(_problems(conn, org_id))


def _checks() -> Iterator[tuple[Table, str, ColumnElement[bool]]]:
    """(table, what is wrong, condition of the offending rows)."""
    calls = Observation.__table__
    for name in TOKEN_COLUMNS:
        column = calls.c[name]
        yield calls, f"{name} outside 0..{TOKENS_MAX:_}", or_(column < 0, column > TOKENS_MAX)
    cost = calls.c.cost_usd
    yield calls, f"cost_usd outside 0..{COST_MAX_USD:_.0f}", or_(cost < 0, cost > COST_MAX_USD)
    duration = calls.c.end_us - calls.c.start_us
    yield calls, "end before start", duration < 0
    yield calls, f"a duration over {DURATION_MAX_US:_} us", duration > DURATION_MAX_US
    traces = Trace.__table__
    for name in (*TOKEN_COLUMNS, "cost_usd", "code_lines_added", "code_lines_removed"):
        yield traces, f"negative {name}", traces.c[name] < 0
    yield traces, "end before start", traces.c.end_us < traces.c.start_us
    for rollup in ROLLUPS:
        table = rollup.table
        for measure in rollup.measures:
            if measure.combine == "sum":
                yield table, f"negative {measure.name}", table.c[measure.name] < 0
    # Sums beyond their row count times the bound: a stored row beyond it, or an overflow.
    for table, count in (
        (LlmDaily.__table__, "calls"),
        (Trace.__table__, "generations"),
    ):
        for name in TOKEN_COLUMNS:
            yield (
                table,
                f"{name} over {count} x {TOKENS_MAX:_}",
                table.c[name] > table.c[count] * float(TOKENS_MAX),
            )
        yield (
            table,
            f"cost_usd over {count} x {COST_MAX_USD:_.0f}",
            table.c.cost_usd > table.c[count] * COST_MAX_USD,
        )
    for table in (LlmDaily.__table__, ToolDaily.__table__):
        yield (
            table,
            f"duration_us_sum over timed_calls x {DURATION_MAX_US:_}",
            table.c.duration_us_sum > table.c.timed_calls * float(DURATION_MAX_US),
        )


def _problems(conn: Connection, org_id: int) -> Iterator[str]:
    found = False
    for table, what, condition in _checks():
        where = (table.c.org_id == org_id, condition)
        count = conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
        if not count:
            continue
        found = True
        yield f"{table.name}: {count} rows with {what}, e.g. {_example(conn, table, where)}"
    if found:
        yield f"  (rows beyond the {_BOUNDS}; re-import or delete them)"


def _example(conn: Connection, table: Table, where: tuple) -> str:
    row = conn.execute(select(table).where(*where).limit(1)).mappings().one()
    if "day" in row:
        return f"day={day_of_number(int(row['day'])).isoformat()} row id {row['id']}"
    if "trace_id" in row:
        return f"trace {row['trace_id']}"
    return f"observation id {row['id']} (span {row['span_id']})"
