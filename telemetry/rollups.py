"""Daily rollup tables: per-day aggregates of traces and LLM calls that the dashboard reads.

Why: a GROUP BY or COUNT(DISTINCT) over a year of a million traces makes SQLite
sort millions of rows on every page view. The same figures summed from one row
per (day, dimensions) read a few tens of thousands of rows instead.

The tables (:class:`~telemetry.models.TraceDaily`, :class:`~telemetry.models.LlmDaily`):

- ``trace_daily``: traces by (org, day = ``trace.start_day``, team, environment,
  user, module, agent, status) -> traces, traces without a session, timed traces
  and the sum of their durations (integer microseconds, exact), the trace-level
  sums of generations, tool calls/errors, tokens and cost, and the code-line and
  task-outcome counts of :mod:`telemetry.queries.outcomes`.
- ``llm_daily``: observations of kind in ``LLM_CALL_KINDS`` by (org, day =
  ``observation.start_day``, team, environment, user, module, agent, kind,
  provider, model, cost source) -> calls, errored calls, timed calls and their
  duration sum, tokens and cost.

Every key column of the base rows is a key column of the rollup, so any figure
that is a sum or count over base rows, or a distinct count of a key column
(users, modules, models), is the same whether read from the base table or from
the rollup. Costs are floats summed in another order, so they may differ in the
last bits (~1e-16 relative), never more. What a rollup cannot give stays on the
base tables: distinct sessions (a session spans days), hours, percentiles,
per-trace lists.

How they stay right: a rollup row is never updated in place. Writers call
:func:`refresh_rollups` with every (org, day) they touched, in their own
transaction; it deletes those days' rollup rows and recomputes them from the base
tables with one INSERT ... SELECT ... GROUP BY per run of consecutive days (index
driven: a day of a few thousand traces costs milliseconds). NULL team and user ids
are ordinary group keys there, so nothing relies on a unique constraint over
nullable columns. A day is "touched" when a trace starting on it, or an LLM call
starting on it, is inserted, updated or deleted; when a trace's start moves (an
earlier span arrived), both its old and its new day are touched.
:func:`trace_days` and :func:`user_days` find the days to pass. The writers: span
ingestion (``telemetry.ingest.writer``), team moves of the user directory
(``telemetry.ingest.directory``), re-pricing (``telemetry.reprice``) and the demo
generator. Deleting a whole organization deletes its rollups with it (they are
organization-scoped tables).
:func:`rebuild_rollups` recomputes a whole organization and :func:`rollup_drift`
compares the stored rollups with a fresh computation (``python -m telemetry
rollups check|rebuild``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    case,
    delete,
    func,
    insert,
    or_,
    select,
)

from telemetry.models import (
    LLM_CALL_KINDS,
    LlmDaily,
    Observation,
    SpanStatus,
    Trace,
    TraceDaily,
)
from telemetry.timeutil import day_of_number

# Days refreshed by one statement pair at most, so that a refresh of a long run of
# days (a re-price over a year) does not build one huge GROUP BY in memory.
_DAYS_PER_STATEMENT = 31
_LLM_KINDS = [str(kind) for kind in LLM_CALL_KINDS]
_TOKENS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)
_OUTCOMES = ("clean", "revised", "regression")


def _sum(column) -> ColumnElement:
    return func.coalesce(func.sum(column), 0)


def _count_if(condition) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


@dataclass(frozen=True)
class _Rollup:
    """One rollup table: its base rows' key columns and measures, matched by name."""

    table: Table
    keys: tuple[ColumnElement, ...]  # base columns, in rollup key order after org_id, day
    measures: tuple[tuple[str, ColumnElement], ...]
    day: ColumnElement[int]  # the base column holding the day
    org: ColumnElement[int]
    only: tuple[ColumnElement[bool], ...] = ()  # which base rows count at all

    @property
    def key_names(self) -> list[str]:
        return ["org_id", "day", *(column.name for column in self.keys)]

    @property
    def measure_names(self) -> list[str]:
        return [name for name, _ in self.measures]

    def aggregate(self, org_id: int, first: int | None, last: int | None) -> Select:
        """The rollup rows of ``org_id`` computed from the base table (days first..last)."""
        conditions = [self.org == org_id, *self.only]
        if first is not None:
            conditions += [self.day >= first, self.day <= last]
        return (
            select(self.org, self.day, *self.keys, *(value.label(n) for n, value in self.measures))
            .where(*conditions)
            .group_by(self.org, self.day, *self.keys)
        )


_TRACE_ROLLUP = _Rollup(
    table=TraceDaily.__table__,
    keys=(
        Trace.team_id,
        Trace.environment,
        Trace.user_id,
        Trace.module,
        Trace.agent,
        Trace.status,
    ),
    measures=(
        ("traces", func.count()),
        ("traces_without_session", _count_if(Trace.session_id.is_(None))),
        ("timed_traces", func.count(Trace.end_us)),
        ("duration_us_sum", _sum(Trace.end_us - Trace.start_us)),
        ("generations", _sum(Trace.generations)),
        ("tool_calls", _sum(Trace.tool_calls)),
        ("tool_errors", _sum(Trace.tool_errors)),
        *((name, _sum(getattr(Trace, name))) for name in _TOKENS),
        ("cost_usd", func.coalesce(func.sum(Trace.cost_usd), 0.0)),
        (
            "traces_with_code",
            _count_if(
                or_(Trace.code_lines_added.is_not(None), Trace.code_lines_removed.is_not(None))
            ),
        ),
        ("code_lines_added", _sum(Trace.code_lines_added)),
        ("code_lines_removed", _sum(Trace.code_lines_removed)),
        ("traces_with_outcome", _count_if(Trace.task_outcome != "")),
        *((f"outcome_{name}", _count_if(Trace.task_outcome == name)) for name in _OUTCOMES),
    ),
    day=Trace.start_day,
    org=Trace.org_id,
)

_LLM_ROLLUP = _Rollup(
    table=LlmDaily.__table__,
    keys=(
        Observation.team_id,
        Observation.environment,
        Observation.user_id,
        Observation.module,
        Observation.agent,
        Observation.kind,
        Observation.provider,
        Observation.model,
        Observation.cost_source,
    ),
    measures=(
        ("calls", func.count()),
        ("errors", _count_if(Observation.status == str(SpanStatus.ERROR))),
        ("timed_calls", func.count(Observation.end_us)),
        ("duration_us_sum", _sum(Observation.end_us - Observation.start_us)),
        *((name, _sum(getattr(Observation, name))) for name in _TOKENS),
        ("cost_usd", func.coalesce(func.sum(Observation.cost_usd), 0.0)),
    ),
    day=Observation.start_day,
    org=Observation.org_id,
    only=(Observation.kind.in_(_LLM_KINDS),),
)

ROLLUPS = (_TRACE_ROLLUP, _LLM_ROLLUP)


def _day_runs(days: Iterable[int]) -> Iterator[tuple[int, int]]:
    """Sorted distinct days as (first, last) runs of consecutive days, each not too long."""
    ordered = sorted({int(day) for day in days})
    index = 0
    while index < len(ordered):
        first = last = ordered[index]
        index += 1
        while (
            index < len(ordered)
            and ordered[index] == last + 1
            and last - first + 1 < _DAYS_PER_STATEMENT
        ):
            last = ordered[index]
            index += 1
        yield first, last


def _refresh(conn: Connection, rollup: _Rollup, org_id: int, first: int | None, last: int | None):
    table = rollup.table
    stale = delete(table).where(table.c.org_id == org_id)
    if first is not None:
        stale = stale.where(table.c.day >= first, table.c.day <= last)
    conn.execute(stale)
    columns = [*rollup.key_names, *rollup.measure_names]
    conn.execute(insert(table).from_select(columns, rollup.aggregate(org_id, first, last)))


def refresh_rollups(conn: Connection, org_id: int, days: Iterable[int]) -> None:
    """Recompute the rollup rows of organization ``org_id`` for ``days`` (day numbers).

    Runs in the caller's transaction, which must also hold the base-table writes:
    call it after them with every day they touched (see the module docstring).
    Days without any trace or LLM call simply end up with no rollup row.
    """
    for first, last in _day_runs(days):
        for rollup in ROLLUPS:
            _refresh(conn, rollup, org_id, first, last)


def rebuild_rollups(conn: Connection, org_id: int) -> None:
    """Recompute every rollup row of organization ``org_id`` (in the caller's transaction)."""
    for rollup in ROLLUPS:
        _refresh(conn, rollup, org_id, None, None)


def trace_days(conn: Connection, trace_pks: Sequence[int]) -> set[int]:
    """The days whose rollups depend on traces ``trace_pks`` (by ``trace.id``).

    Their start days and the start days of their LLM calls, as stored now: call it
    before a write that may move them, and again (or add the new days) after.
    """
    days: set[int] = set()
    pks = sorted(set(trace_pks))
    for start in range(0, len(pks), 500):  # stays under SQLite's bound-parameter limit
        part = pks[start : start + 500]
        days.update(conn.execute(select(Trace.start_day).where(Trace.id.in_(part))).scalars())
        calls = select(Observation.start_day).where(
            Observation.trace_pk.in_(part), Observation.kind.in_(_LLM_KINDS)
        )
        days.update(conn.execute(calls.distinct()).scalars())
    return days


def user_days(conn: Connection, org_id: int, user_id: int) -> set[int]:
    """The days holding a trace or an observation of user ``user_id`` (e.g. for a team move)."""
    traced = select(Trace.start_day).where(Trace.org_id == org_id, Trace.user_id == user_id)
    # All observations, not only LLM calls: the (org, user, day) index answers it alone,
    # and a day too many only costs a refresh.
    observed = select(Observation.start_day).where(
        Observation.org_id == org_id, Observation.user_id == user_id
    )
    days: set[int] = set()
    for query in (traced, observed):
        days.update(conn.execute(query.distinct()).scalars())
    return days


def rollup_drift(conn: Connection, org_id: int, *, limit: int = 50) -> list[str]:
    """How the stored rollups of ``org_id`` differ from a fresh computation ([] = none).

    One line per differing rollup row (at most ``limit``, then a count of the rest),
    naming the table, the day and the key. Reads the base tables month by month.
    """
    problems: list[str] = []
    missing = 0
    for rollup in ROLLUPS:
        for first, last in _day_runs(_days_present(conn, rollup, org_id)):
            for line in _compare(conn, rollup, org_id, first, last):
                if len(problems) < limit:
                    problems.append(line)
                else:
                    missing += 1
    if missing:
        problems.append(f"... and {missing} more differences")
    return problems


def _days_present(conn: Connection, rollup: _Rollup, org_id: int) -> set[int]:
    stored = select(rollup.table.c.day).where(rollup.table.c.org_id == org_id).distinct()
    base = select(rollup.day).where(rollup.org == org_id, *rollup.only).distinct()
    return set(conn.execute(stored).scalars()) | set(conn.execute(base).scalars())


def _compare(conn: Connection, rollup: _Rollup, org_id: int, first: int, last: int):
    table = rollup.table
    key_count = len(rollup.key_names)
    stored_rows = conn.execute(
        select(*(table.c[name] for name in rollup.key_names + rollup.measure_names)).where(
            and_(table.c.org_id == org_id, table.c.day >= first, table.c.day <= last)
        )
    ).all()
    stored: dict[tuple, tuple] = {}
    for row in stored_rows:
        key = tuple(row[:key_count])
        if key in stored:
            yield f"{table.name} {_describe(rollup, key)}: stored twice"
        stored[key] = tuple(row[key_count:])
    expected = {
        tuple(row[:key_count]): tuple(row[key_count:])
        for row in conn.execute(rollup.aggregate(org_id, first, last)).all()
    }
    for key in sorted(stored.keys() | expected.keys(), key=_sortable):
        have, want = stored.get(key), expected.get(key)
        if have is None:
            yield f"{table.name} {_describe(rollup, key)}: missing"
        elif want is None:
            yield f"{table.name} {_describe(rollup, key)}: stored but no base row has this key"
        else:
            for name, got, should in zip(rollup.measure_names, have, want, strict=True):
                if not _same(got, should):
                    yield (
                        f"{table.name} {_describe(rollup, key)}: {name} is {got}, "
                        f"the base rows give {should}"
                    )


def _same(got, should) -> bool:
    if isinstance(got, float) or isinstance(should, float):
        return math.isclose(float(got), float(should), rel_tol=1e-9, abs_tol=1e-12)
    return int(got) == int(should)


def _sortable(key: tuple) -> tuple:
    return tuple((value is None, "" if value is None else str(value)) for value in key)


def _describe(rollup: _Rollup, key: tuple) -> str:
    day, *rest = key[1:]  # the organization is known to the caller
    parts = [f"day={day_of_number(int(day)).isoformat()}"]
    parts += [f"{name}={value!r}" for name, value in zip(rollup.key_names[2:], rest, strict=True)]
    return " ".join(parts)
