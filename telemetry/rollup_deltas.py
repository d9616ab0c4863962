"""Rollup upkeep per write: add the shares of rows that arrive, take back those of rows that leave.

The scheme is described in :mod:`telemetry.rollups`; the shares come from
:mod:`telemetry.rollup_tables`. The work is proportional to the rows one write
changes, never to what their days already hold.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from functools import cache

from sqlalchemy import Connection, insert

from telemetry.bulk import Upsert, upsert_rows
from telemetry.bulk import mark as parameter_mark
from telemetry.rollup_tables import OBSERVATION_ROLLUPS, ROLLUPS, TRACE_ROLLUPS, Rollup, Row

NO_ID = -1  # stands for a NULL team or user in the rollups' unique key indexes


class RollupDelta:
    """How the writes of one transaction change one organization's rollups.

    Record every base row that leaves (its values as stored before the write) and
    every row that arrives (as stored after it), then :meth:`apply` once, after
    the base-table writes, in the same transaction. A row that is updated both
    leaves and arrives; an unchanged share nets out to nothing.
    """

    def __init__(self) -> None:
        self._sums: dict[Rollup, dict[tuple, list]] = {r: {} for r in ROLLUPS if r.additive}
        self._leaving: dict[Rollup, dict[tuple, list]] = {r: {} for r in ROLLUPS if not r.additive}
        self._arriving: dict[Rollup, dict[tuple, list]] = {r: {} for r in ROLLUPS if not r.additive}

    def add_trace(self, row: Row) -> None:
        self._record(TRACE_ROLLUPS, row, 1)

    def remove_trace(self, row: Row) -> None:
        self._record(TRACE_ROLLUPS, row, -1)

    def add_observation(self, row: Row) -> None:
        self._record(OBSERVATION_ROLLUPS, row, 1)

    def remove_observation(self, row: Row) -> None:
        self._record(OBSERVATION_ROLLUPS, row, -1)

    def _record(self, rollups: Iterable[Rollup], row: Row, sign: int) -> None:
        for rollup in rollups:
            if not rollup.accepts(row):
                continue
            key = rollup.row_key(row)
            shares = rollup.shares(row)
            if rollup.additive:
                sums = self._sums[rollup]
                current = sums.get(key)
                if current is None:
                    sums[key] = [sign * share for share in shares]  # booleans become 0/1
                else:  # as many shares as measures, always
                    sums[key] = list(
                        map(operator.add if sign > 0 else operator.sub, current, shares)
                    )
            else:
                groups = (self._arriving if sign > 0 else self._leaving)[rollup]
                current = groups.get(key)
                groups[key] = shares if current is None else _combined(rollup, current, shares)

    def apply(self, conn: Connection, org_id: int) -> None:
        """Bring the stored rollups of ``org_id`` in line with the recorded changes."""
        mark = parameter_mark(conn)
        upserts: list[Upsert] = []
        emptied: list[tuple[Rollup, list[tuple]]] = []
        stale: list[tuple[Rollup, list[tuple]]] = []
        for rollup, sums in self._sums.items():
            changes, keys = _net_sums(org_id, sums)
            upserts.append(_upsert(rollup, changes))
            emptied.append((rollup, keys))
        for rollup in self._leaving:
            changes, keys = _extreme_changes(
                rollup, org_id, self._leaving[rollup], self._arriving[rollup]
            )
            upserts.append(_upsert(rollup, changes))
            stale.append((rollup, keys))
        # All upserts together (one round trip on PostgreSQL, see telemetry.bulk); then
        # the rows whose count the upserts took to zero go, and the keys no upsert
        # touched are recomputed (each rollup its own table: the order across them
        # does not matter).
        upsert_rows(conn, upserts)
        for rollup, keys in emptied:
            _delete_emptied(conn, rollup, org_id, keys, mark)
        for rollup, keys in stale:
            _recompute(conn, rollup, org_id, keys, mark)


def _combined(rollup: Rollup, current: list, shares: list) -> list:
    out = []
    for measure, have, more in zip(rollup.measures, current, shares, strict=True):
        if measure.combine == "sum":
            out.append(have + more)
        elif have is None or more is None:
            out.append(more if have is None else have)
        else:
            out.append(min(have, more) if measure.combine == "min" else max(have, more))
    return out


def _net_sums(org_id: int, sums: dict) -> tuple[list[tuple], list[tuple]]:
    """Each key's net change as a row to add, and the keys whose count falls (to zero,
    if nothing else arrives for them: such rows are deleted)."""
    changes = []
    emptied = []
    for key, values in sums.items():
        if not any(values):
            continue  # left and arrived with the same shares
        changes.append((org_id, *key, *values))
        if values[0] < 0:
            emptied.append(key)
    return changes, emptied


def _delete_emptied(conn: Connection, rollup: Rollup, org_id: int, keys: list, mark: str) -> None:
    if keys:
        sql = key_delete_sql(rollup, mark) + f' AND "{rollup.measure_names[0]}" = 0'
        conn.exec_driver_sql(sql, [_key_values(rollup, org_id, key) for key in keys])


def _extreme_changes(
    rollup: Rollup, org_id: int, leaving: dict, arriving: dict
) -> tuple[list[tuple], list[tuple]]:
    """Rollups with MIN/MAX measures: a MIN or MAX cannot be taken back, only recomputed.

    A key only gaining rows, or whose leaving rows are replaced by rows that reach
    at least as far (an earlier first start, a later last end), gets a row to upsert;
    any other key is returned to be recomputed from its base rows (the few rows of
    one session and day).
    """
    changes = []
    recompute = []
    for key in arriving.keys() | leaving.keys():
        gone, new = leaving.get(key), arriving.get(key)
        if gone is None:
            changes.append((org_id, *key, *new))
        elif new is not None and _reaches_as_far(rollup, gone, new):
            if new != gone:
                counted = [
                    now - before if measure.combine == "sum" else now
                    for measure, now, before in zip(rollup.measures, new, gone, strict=True)
                ]
                changes.append((org_id, *key, *counted))
        else:
            recompute.append(key)
    return changes, recompute


def _recompute(conn: Connection, rollup: Rollup, org_id: int, keys: list, mark: str) -> None:
    columns = [*rollup.key_names, *rollup.measure_names]
    for key in keys:
        conn.exec_driver_sql(key_delete_sql(rollup, mark), _key_values(rollup, org_id, key))
        conn.execute(insert(rollup.table).from_select(columns, rollup.aggregate_key(org_id, key)))


def _reaches_as_far(rollup: Rollup, gone: list, new: list) -> bool:
    for measure, before, now in zip(rollup.measures, gone, new, strict=True):
        if measure.combine == "sum" or before is None:
            continue
        if now is None:
            return False
        if (now > before) if measure.combine == "min" else (now < before):
            return False
    return True


def _key_values(rollup: Rollup, org_id: int, key: tuple) -> tuple:
    names = rollup.key_names[1:]
    nullable = rollup.nullable_keys
    return (
        org_id,
        *(
            NO_ID if value is None and name in nullable else value
            for name, value in zip(names, key, strict=True)
        ),
    )


def key_expression(rollup: Rollup, name: str) -> str:
    """A key column as its unique index holds it (NULL team and user ids as -1)."""
    return f'COALESCE("{name}", {NO_ID})' if name in rollup.nullable_keys else f'"{name}"'


def unique_key_index_sql(rollup: Rollup) -> str:
    """CREATE UNIQUE INDEX of the rollup's key: what the upserts' ON CONFLICT names."""
    keys = ", ".join(key_expression(rollup, name) for name in rollup.key_names)
    table = rollup.table.name
    return f'CREATE UNIQUE INDEX IF NOT EXISTS "ux_{table}_key" ON "{table}" ({keys})'


def _upsert(rollup: Rollup, rows: list[tuple]) -> Upsert:
    names = (*rollup.key_names, *rollup.measure_names)
    return Upsert(rollup.table, names, _on_conflict_sql(rollup), rows)


@cache
def _on_conflict_sql(rollup: Rollup) -> str:
    # Parenthesised expressions: PostgreSQL requires them in a conflict target, SQLite accepts them.
    target = ", ".join(f"({key_expression(rollup, name)})" for name in rollup.key_names)
    table = rollup.table.name
    updates = ", ".join(
        f'"{m.name}" = {_combine_sql(table, m.name, m.combine)}' for m in rollup.measures
    )
    return f"ON CONFLICT ({target}) DO UPDATE SET {updates}"


def _combine_sql(table: str, name: str, combine: str) -> str:
    stored, change = f'"{table}"."{name}"', f'excluded."{name}"'
    if combine == "sum":
        return f"{stored} + {change}"
    beyond = "<" if combine == "min" else ">"
    return (
        f"CASE WHEN {stored} IS NULL OR {change} {beyond} {stored} THEN {change} ELSE {stored} END"
    )


@cache
def key_delete_sql(rollup: Rollup, mark: str) -> str:
    """DELETE the row of one key (parameters: org_id, day, keys; NULL ids as -1)."""
    matches = " AND ".join(f"{key_expression(rollup, name)} = {mark}" for name in rollup.key_names)
    return f'DELETE FROM "{rollup.table.name}" WHERE {matches}'
