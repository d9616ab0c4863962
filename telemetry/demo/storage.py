"""Bulk writes and whole-organization deletes for the demo generator.

Writes go through SQLAlchemy Core ``executemany`` in large batches, one
transaction per batch, with primary keys reserved up front so observation rows
can point at their trace without reading it back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import Enum

from sqlalchemy import Connection, Engine, Table, and_, delete, func, select, text, update
from sqlmodel import SQLModel

from telemetry.models import AuditEvent, Organization, OrgState
from telemetry.store import bump_data_version


def org_scoped_tables() -> list[Table]:
    """Every table with an ``org_id`` column, children before their parents."""
    return [
        table
        for table in reversed(SQLModel.metadata.sorted_tables)
        if "org_id" in table.c and table.name != Organization.__tablename__
    ]


def column_defaults(table: Table) -> dict:
    """Each column's Python-side scalar default (None when it has none), as plain values."""
    defaults = {}
    for column in table.columns:
        default = column.default
        value = default.arg if default is not None and default.is_scalar else None
        defaults[column.name] = value.value if isinstance(value, Enum) else value
    return defaults


def hold_write_lock(conn: Connection, org: int) -> None:
    """Start the transaction with a write, so SQLite takes its writer lock now.

    Until commit no other writer can insert, which keeps ids read from
    ``max(id)`` ours. On PostgreSQL it locks the organization's row and its write
    lock (bump_data_version), which the ingest writer and every deleter take too.
    """
    conn.execute(update(Organization).where(Organization.id == org).values(slug=Organization.slug))
    bump_data_version(conn, org)


def reserve_ids(conn: Connection, table: Table, count: int) -> list[int]:
    """``count`` unused primary keys for ``table`` (call after :func:`hold_write_lock`)."""
    if count == 0:
        return []
    if conn.dialect.name == "postgresql":
        # Sequences hand out ids safely even with concurrent writers.
        reserve = "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
        rows = conn.execute(text(reserve), {"table": table.name, "n": count})
        return sorted(rows.scalars())
    highest = conn.execute(select(func.max(table.c.id))).scalar() or 0
    return list(range(highest + 1, highest + 1 + count))


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: list) -> None:
    """Insert rows given as sequences of values in ``columns`` order, in one executemany."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    # SQLite: hand the value lists straight to the driver; building SQLAlchemy's
    # per-row parameters costs more than the insert itself at millions of rows.
    compiled = table.insert().compile(dialect=conn.dialect, column_keys=list(columns))
    if tuple(compiled.positiontup) != tuple(columns):
        raise ValueError(f"columns of {table.name} must follow the table order: {columns}")
    conn.exec_driver_sql(str(compiled), list(map(tuple, rows)))


@contextmanager
def bulk_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for writing a whole organization in many batches.

    On SQLite it pauses foreign-key enforcement and enlarges the page cache for
    its lifetime. The demo writes rows whose references it built itself and
    deletes whole organizations; checking each reference costs a lookup per row
    on insert and a table scan per parent row on delete (the child columns have
    no index of their own).
    """
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            cache_size = conn.exec_driver_sql("PRAGMA cache_size").scalar()
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.exec_driver_sql("PRAGMA cache_size=-131072")  # 128 MiB
            conn.commit()
        try:
            yield conn
        finally:
            if sqlite:
                conn.rollback()
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.exec_driver_sql(f"PRAGMA cache_size={int(cache_size)}")
                conn.commit()


def delete_org_rows(conn: Connection, org: int, *, drop_org: bool) -> int:
    """Delete every row of organization ``org`` (and the organization itself if asked).

    Runs in the caller's transaction; covers every org-scoped table, children first,
    after taking the organization's write lock (writers wait: see bump_data_version).
    """
    bump_data_version(conn, org)
    removed = 0
    for table in org_scoped_tables():
        if table.name == OrgState.__tablename__:
            # The change counter is bookkeeping, not data: never counted, and it must keep
            # counting up while the organization exists.
            if drop_org:
                conn.execute(delete(table).where(table.c.org_id == org))
            continue
        where = table.c.org_id == org
        if table.name == AuditEvent.__tablename__:
            # The dashboard's own trail is a hash chain: its events stay, detached from
            # the organization (their org_slug still names it); imported ones go.
            conn.execute(update(table).where(where, table.c.seq.is_not(None)).values(org_id=None))
            where = and_(where, table.c.seq.is_(None))
        removed += conn.execute(delete(table).where(where)).rowcount
    if drop_org:
        removed += conn.execute(delete(Organization).where(Organization.id == org)).rowcount
    return removed
