"""Daily rollup tables: per-day aggregates of traces and LLM calls that the dashboard reads.

Why: a GROUP BY or COUNT(DISTINCT) over a year of a million traces makes SQLite
sort millions of rows on every page view. The same figures summed from one row
per (day, dimensions) read a few tens of thousands of rows instead.

The tables (models in :mod:`telemetry.models`; key columns and measures, as
computed from the base rows, in :mod:`telemetry.rollup_tables`):

- ``trace_daily``: traces by (org, day = ``trace.start_day``, team, environment,
  user, module, agent, status) -> traces, traces without a session, timed traces
  and the sum of their durations (integer microseconds, exact), the trace-level
  sums of generations, tool calls/errors, tokens and cost, and the code-line and
  task-outcome counts of :mod:`telemetry.queries.outcomes`.
- ``llm_daily``: observations of kind in ``LLM_CALL_KINDS`` by (org, day =
  ``observation.start_day``, team, environment, user, module, agent, kind,
  provider, model, cost source) -> calls, errored calls, timed calls and their
  duration sum, tokens and cost, and the output tokens of the timed calls.
- ``tool_daily``: observations of kind ``tool`` by (org, day, team, environment,
  user, agent, tool type, tool name) -> calls, errored calls, timed calls and their
  duration sum.
- ``command_daily``: traces by (org, day, team, environment, name, status) ->
  traces, timed traces and their duration sum.
- ``session_daily``: traces with a session by (org, day, team, environment, agent,
  session) -> traces, earliest start, latest end (NULL while all run). A session
  spans days, so the period's figures of a session are the min/max over its rows.
- ``trace_hourly``: traces by (org, day, start hour, team, environment) -> traces,
  input and output tokens (the hour-of-day heatmap).

Every key column of the base rows is a key column of the rollup, so any figure
that is a sum or count over base rows, or a distinct count of a key column
(users, modules, models), is the same whether read from the base table or from
the rollup. Costs are floats summed in another order, so they may differ in the
last bits (~1e-16 relative), never more. What a rollup cannot give stays on the
base tables: percentiles, hours of anything but trace counts and tokens, per-trace
lists. Distinct sessions over a period are exact from ``session_daily`` (the
session is a key there), not from ``trace_daily``.

How they stay right. A rollup row is an aggregate of base rows and nothing else:
the unique index ``ux_<table>_key`` on (org_id, day, keys...), with NULL team and
user ids indexed as -1, holds one row per key. Two ways keep them equal to that
aggregate, both in the writer's own transaction, so every figure is exact the
moment the write commits:

- Additive deltas (span ingestion, ``telemetry.ingest.writer``), whose cost is
  that of the rows a batch changes, however much their day already holds. A
  :class:`~telemetry.rollup_deltas.RollupDelta` records the share of every trace
  and observation that arrives (new rows, and updated rows as they are after the
  write) and takes back the share of every row that leaves (updated rows as they
  were before: a trace whose start, status, name, user, team, session or totals
  change; observations moving with their trace's user, team or environment).
  Each measure's per-row share sits next to its SQL aggregate in
  :mod:`telemetry.rollup_tables`. The net change of each key is applied with
  ``INSERT ... ON CONFLICT (the unique key) DO UPDATE SET m = m + excluded.m``;
  a key whose row count falls to 0 is deleted. ``session_daily`` holds a MIN and
  a MAX, which cannot be taken back: a key that only gains rows, or whose
  leaving rows are replaced by rows reaching at least as far (an earlier first
  start, a later last end), is upserted with MIN/MAX; any other key is recomputed
  from its base rows (one session's traces of one day, found by the session index).
  Costs are floats added and taken back in another order than a fresh sum, so
  they may differ in the last bits (~1e-16 relative), which the check tolerates.
- Whole-day refreshes (:func:`refresh_rollups`) for bulk writers that change
  many days at once: re-pricing (``telemetry.reprice``), team moves of the user
  directory (``telemetry.ingest.directory``, the days of all moved users at
  once) and the demo generator (one :func:`rebuild_rollups`). They delete the
  days' rollup rows and recompute them with one INSERT ... SELECT ... GROUP BY
  per run of consecutive days. :func:`trace_days` and :func:`users_days` find
  the days to pass; when a trace's start moves, both its old and new day count.

Deleting a whole organization deletes its rollups with it (they are
organization-scoped tables). Retention (:mod:`telemetry.retention`) deletes base
rows and keeps their rollups: before an organization's records horizon the rollups
are the only record, so refreshing, rebuilding and checking leave those days alone.
:func:`rebuild_rollups` recomputes a whole organization and :func:`rollup_drift`
compares the stored rollups with a fresh computation
(``python -m telemetry rollups check|rebuild``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import Connection, and_, delete, func, insert, inspect, select
from sqlalchemy.exc import DBAPIError

from telemetry.models import Observation, RetentionPolicy, Session, Team, Trace, User
from telemetry.retention import records_horizon
from telemetry.rollup_ranges import range_problems
from telemetry.rollup_tables import LLM_KINDS, ROLLUPS, Rollup
from telemetry.timeutil import day_of_number

# Days refreshed by one statement pair at most, so that a refresh of a long run of
# days (a re-price over a year) does not build one huge GROUP BY in memory.
_DAYS_PER_STATEMENT = 31
_LAST_DAY = 10**7  # a day number past any date a store holds (year 29349)


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


def _refresh(conn: Connection, rollup: Rollup, org_id: int, first: int | None, last: int | None):
    table = rollup.table
    if first is not None and last is None:
        last = _LAST_DAY  # from ``first`` on (a rebuild after a purge)
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
    Days without any trace or LLM call simply end up with no rollup row. Days before
    the organization's records horizon keep their rollups (their base rows are purged).
    """
    horizon = records_horizon(conn, org_id)
    if horizon is not None:
        days = [day for day in days if day >= horizon]
    for first, last in _day_runs(days):
        for rollup in ROLLUPS:
            _refresh(conn, rollup, org_id, first, last)


def rebuild_rollups(conn: Connection, org_id: int) -> None:
    """Recompute every rollup row of organization ``org_id`` (in the caller's transaction).

    A rollup table that does not exist yet is skipped: an older migration rebuilding
    the rollups it created runs before the migration that creates the later ones.
    Days before the records horizon keep their rollups (retention purged their rows).
    """
    existing = set(inspect(conn).get_table_names())
    horizon = records_horizon(conn, org_id) if RetentionPolicy.__tablename__ in existing else None
    for rollup in ROLLUPS:
        if rollup.table.name in existing:
            _refresh(conn, rollup, org_id, horizon, None)


def trace_days(conn: Connection, trace_pks: Sequence[int]) -> set[int]:
    """The days whose rollups depend on traces ``trace_pks`` (by ``trace.id``).

    Their start days and the start days of their LLM calls, as stored now: call it
    before a write that may move them, and again (or add the new days) after. Tool
    calls' days are not included: what calls this (re-pricing) changes costs, which
    ``tool_daily`` does not hold; the ingest writer passes every stored span's day.
    """
    days: set[int] = set()
    pks = sorted(set(trace_pks))
    for start in range(0, len(pks), 500):  # stays under SQLite's bound-parameter limit
        part = pks[start : start + 500]
        days.update(conn.execute(select(Trace.start_day).where(Trace.id.in_(part))).scalars())
        calls = select(Observation.start_day).where(
            Observation.trace_pk.in_(part), Observation.kind.in_(LLM_KINDS)
        )
        days.update(conn.execute(calls.distinct()).scalars())
    return days


def users_days(conn: Connection, org_id: int, user_ids: Sequence[int]) -> set[int]:
    """The days holding a trace or an observation of any of ``user_ids`` (e.g. team moves).

    One statement per 500 users (the bound-parameter limit), whatever their number.
    """
    days: set[int] = set()
    ids = sorted(set(user_ids))
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        # (user, day) pairs, not days alone: SQLite then seeks the (org, user, day)
        # indexes instead of walking one ordered by day over the whole organization.
        # All observations, not only LLM calls: a day too many only costs a refresh.
        for table in (Trace, Observation):
            pairs = select(table.user_id, table.start_day).where(
                table.org_id == org_id, table.user_id.in_(part)
            )
            days.update(day for _user, day in conn.execute(pairs.distinct()))
    return days


def rollup_drift(conn: Connection, org_id: int, *, limit: int = 50) -> list[str]:
    """How the stored rollups of ``org_id`` differ from a fresh computation ([] = none).

    One line per differing rollup row (at most ``limit``, then a count of the rest),
    naming the table, the day and the key, after the measures out of range
    (:mod:`telemetry.rollup_ranges`). Reads the base tables month by month.
    Days before the records horizon are not compared: retention deleted their base
    rows on purpose and kept the rollups (telemetry.retention).
    """
    problems: list[str] = range_problems(conn, org_id) + reference_problems(conn, org_id)
    missing = 0
    horizon = records_horizon(conn, org_id)
    try:
        for rollup in ROLLUPS:
            days = _days_present(conn, rollup, org_id)
            if horizon is not None:
                days = {day for day in days if day >= horizon}
            for first, last in _day_runs(days):
                for line in _compare(conn, rollup, org_id, first, last):
                    if len(problems) < limit:
                        problems.append(line)
                    else:
                        missing += 1
    except DBAPIError as error:  # e.g. a sum overflowing over rows beyond the bounds
        problems.append(f"the comparison failed: {error.orig}")
    if missing:
        problems.append(f"... and {missing} more differences")
    return problems


def reference_problems(conn: Connection, org_id: int) -> list[str]:
    """Rows of ``org_id`` pointing nowhere or astray ([] = none): traces whose user, team
    or session is missing or another organization's; observations whose trace is
    missing, or whose organization, user, team or session is not their trace's.

    The writer takes the ids from the rows it creates or finds while holding the
    organization's lock, and copies the trace's onto its observations (see
    telemetry.ingest.spans). On PostgreSQL no foreign key checks any of them
    (migrations m022, m025, m026): this is where a reference that went astray shows.
    """
    trace, observation = Trace.__table__, Observation.__table__
    problems = []
    for name, parent in (("user_id", User), ("team_id", Team), ("session_id", Session)):
        dangling = select(func.count(), func.min(trace.c.trace_id)).where(
            trace.c.org_id == org_id,
            trace.c[name].is_not(None),
            ~select(parent.id)
            .where(parent.id == trace.c[name], parent.org_id == trace.c.org_id)
            .exists(),
        )
        count, example = conn.execute(dangling).one()
        if count:
            what = name.removesuffix("_id")
            problems.append(
                f"{count} traces whose {what} is missing or another organization's "
                f"(e.g. trace {example})"
            )
    orphans = select(func.count(), func.min(observation.c.trace_pk)).where(
        observation.c.org_id == org_id,
        ~select(trace.c.id).where(trace.c.id == observation.c.trace_pk).exists(),
    )
    count, example = conn.execute(orphans).one()
    if count:
        problems.append(
            f"{count} observations whose trace is missing (e.g. trace row id {example})"
        )
    for name in ("org_id", "user_id", "team_id", "session_id"):
        query = (
            select(func.count(), func.min(trace.c.trace_id))
            .select_from(observation.join(trace, trace.c.id == observation.c.trace_pk))
            .where(
                observation.c.org_id == org_id,
                observation.c[name].is_distinct_from(trace.c[name]),
            )
        )
        count, example = conn.execute(query).one()
        if count:
            problems.append(
                f"{count} observations whose {name} is not their trace's (e.g. trace {example})"
            )
    return problems


def _days_present(conn: Connection, rollup: Rollup, org_id: int) -> set[int]:
    stored = select(rollup.table.c.day).where(rollup.table.c.org_id == org_id).distinct()
    base = select(rollup.day).where(rollup.org == org_id, *rollup.only).distinct()
    return set(conn.execute(stored).scalars()) | set(conn.execute(base).scalars())


def _compare(conn: Connection, rollup: Rollup, org_id: int, first: int, last: int):
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
    if got is None or should is None:
        return got is None and should is None
    if isinstance(got, float) or isinstance(should, float):
        return math.isclose(float(got), float(should), rel_tol=1e-9, abs_tol=1e-12)
    return int(got) == int(should)


def _sortable(key: tuple) -> tuple:
    return tuple((value is None, "" if value is None else str(value)) for value in key)


def _describe(rollup: Rollup, key: tuple) -> str:
    day, *rest = key[1:]  # the organization is known to the caller
    parts = [f"day={day_of_number(int(day)).isoformat()}"]
    parts += [f"{name}={value!r}" for name, value in zip(rollup.key_names[2:], rest, strict=True)]
    return " ".join(parts)
