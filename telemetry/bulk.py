"""Many rows in one go, the fastest way each backend offers.

SQLite: the driver's own ``executemany`` (SQLAlchemy's per-row parameter handling
would cost more than SQLite's work). PostgreSQL: ``COPY`` for plain inserts (in
the binary format when every column's type allows) and, for upserts, ``COPY``
into a session-local staging table and one INSERT ... SELECT ... ON CONFLICT from
it; inserts that return ids are one statement over ``unnest`` of one array per
column. psycopg's executemany spends more client time per row than the server
spends storing it, and its array parameters are dumped value by value in Python,
while COPY rows are formatted in C. Rows are tuples in ``columns`` order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import NamedTuple

from sqlalchemy import BigInteger, Boolean, Connection, Float, Integer, Table

# SQLAlchemy column type -> PostgreSQL array type (strings of any length go as text[]).
_ARRAY_TYPES = ((Boolean, "boolean[]"), (BigInteger, "bigint[]"), (Integer, "integer[]"))


def is_postgresql(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def mark(conn: Connection) -> str:
    """The driver's positional parameter marker (``?`` for SQLite, ``%s`` for psycopg)."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def insert_rows(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[tuple],
    *,
    ignore_duplicates: bool = False,
) -> None:
    """INSERT ``rows``; on SQLite optionally skipping rows that hit a unique key.

    On PostgreSQL ``COPY`` cannot skip such rows: callers pass rows they know are new
    (the writer holds the organization's lock and checked), and a duplicate fails
    the whole transaction instead of being dropped silently. ``rows`` may be an
    iterator: COPY sends each row as it comes.
    """
    if isinstance(rows, Sequence) and not rows:
        return
    if is_postgresql(conn):
        names = quoted_names(columns)
        types = _binary_types(conn, table, columns)
        cursor = conn.connection.dbapi_connection.cursor()
        options = " (FORMAT BINARY)" if types else ""
        with cursor, cursor.copy(f'COPY "{table}" ({names}) FROM STDIN{options}') as copy:
            if types:
                copy.set_types(types)
            for row in rows:
                copy.write_row(row)
        return
    rows = list(rows)
    if rows:
        sql = _insert_values_sql(conn, table, columns)
        conn.exec_driver_sql(sql + (" ON CONFLICT DO NOTHING" if ignore_duplicates else ""), rows)


class Upsert(NamedTuple):
    """Rows to INSERT into ``table`` with ``on_conflict`` (``ON CONFLICT (...) DO UPDATE ...``).

    Rows must not repeat a key of the conflict target (one statement may not update a
    row twice on PostgreSQL).
    """

    table: Table
    columns: Sequence[str]
    on_conflict: str
    rows: Sequence[tuple]


# COPY's binary format, for columns of these types (catalog name -> psycopg dumper):
# values go as they are in memory instead of as text that PostgreSQL parses again.
# Measured on a 300k-span file import: 3 us less CPU per span in the writer (psycopg's
# row formatting), 1 us less in PostgreSQL.
#  Beware: psycopg's binary int2/int4 dumpers wrap a value out of their range (2**31
# is stored as -2**31) where text would be refused. The integer (int4) columns copied
# this way hold ids from int4 sequences, day/hour/month numbers of bounds-checked times
# and counts of one trace's spans or one batch's rows: far from 2**31. A column meant
# for larger values must be bigint (int8 refuses what it cannot hold).
_BINARY_TYPES = {
    "integer": "int4",
    "bigint": "int8",
    "smallint": "int2",
    "double precision": "float8",
    "boolean": "bool",
    "text": "text",
    "character varying": "text",
}


def _binary_types(conn: Connection, table: str, columns: Sequence[str]) -> list[str] | None:
    """The binary COPY types of ``columns`` as the database has them, or None (then COPY
    goes as text) if one is of another type. Read from the catalog once per connection:
    binary fields must match the columns' types exactly (an int4 is 4 bytes, an int8
    8), and a store created by an older version may differ from today's models. A
    process keeps the types it read, hence the README's upgrade order: a migration
    runs while no older process is still writing.
    """
    cache = conn.connection.info.setdefault("binary_copy_types", {})
    key = (table, tuple(columns))
    if key not in cache:
        found = dict(
            conn.exec_driver_sql(
                "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                (f'"{table}"',),
            ).all()
        )
        types = [_BINARY_TYPES.get(found.get(c, "")) for c in columns]
        cache[key] = None if None in types else types
    return cache[key]


def upsert_rows(conn: Connection, upserts: Sequence[Upsert]) -> None:
    """Run every upsert (each table once at most).

    PostgreSQL: each table's rows go by COPY into a temporary staging table, then one
    INSERT ... SELECT ... ON CONFLICT per table, all of them in one round trip; the
    staging tables are made ready in another. (Six rollups upserted one by one took
    eighteen round trips per batch.)
    """
    upserts = [upsert for upsert in upserts if upsert.rows]
    if not upserts:
        return
    tables = [upsert.table.name for upsert in upserts]
    if len(set(tables)) != len(tables):  # they would share one staging table
        raise ValueError(f"one upsert per table, not {tables}")
    if not is_postgresql(conn):
        for table, columns, on_conflict, rows in upserts:
            sql = f"{_insert_values_sql(conn, table.name, columns)} {on_conflict}"
            conn.exec_driver_sql(sql, list(rows))
        return
    conn.exec_driver_sql(
        "; ".join(_empty_staging_table_sql(u.table, quoted_names(u.columns)) for u in upserts)
    )
    for upsert in upserts:
        insert_rows(conn, _stage(upsert.table), upsert.columns, upsert.rows)
    conn.exec_driver_sql(
        "; ".join(
            f'INSERT INTO "{u.table.name}" ({quoted_names(u.columns)}) '
            f'SELECT {quoted_names(u.columns)} FROM "{_stage(u.table)}" {u.on_conflict}'
            for u in upserts
        )
    )


def quoted_names(columns: Sequence[str]) -> str:
    """``"a", "b"``: column names for a statement's column list."""
    return ", ".join(f'"{c}"' for c in columns)


def _insert_values_sql(conn: Connection, table: str, columns: Sequence[str]) -> str:
    """INSERT INTO "table" (columns) VALUES (?, ...), for the driver's executemany."""
    values = ", ".join([mark(conn)] * len(columns))
    return f'INSERT INTO "{table}" ({quoted_names(columns)}) VALUES ({values})'


def _stage(table: Table) -> str:
    return f"stage_{table.name}"


def _empty_staging_table_sql(table: Table, names: str) -> str:
    """SQL for an empty temporary table with columns ``names`` of ``table``, emptied at
    every commit.

    Temporary tables belong to the database session (the pooled connection); created
    at its first use, in the caller's transaction (so a rollback undoes that too), and
    emptied in case of an earlier use in this transaction. The statements carry no
    parameters, so psycopg sends them all as one simple query.
    """
    stage = _stage(table)
    return (
        f'CREATE TEMPORARY TABLE IF NOT EXISTS "{stage}" ON COMMIT DELETE ROWS AS '
        f'SELECT {names} FROM "{table.name}" WITH NO DATA; DELETE FROM "{stage}"'
    )


def rows_source(conn: Connection, table: Table, columns: Sequence[str]) -> str:
    """What follows ``INSERT INTO t (columns)``: ``VALUES (?, ...)`` for SQLite's
    executemany, ``SELECT * FROM unnest(%s::type[], ...)`` for one PostgreSQL statement."""
    if is_postgresql(conn):
        return _unnest(table, tuple(columns))
    return f"VALUES ({', '.join([mark(conn)] * len(columns))})"


def run_for_rows(conn: Connection, sql: str, rows: Sequence[tuple]):
    """Run an INSERT built on :func:`rows_source` for ``rows``; returns the last result."""
    if is_postgresql(conn):
        return conn.exec_driver_sql(sql, tuple(list(column) for column in zip(*rows, strict=True)))
    return conn.exec_driver_sql(sql, list(rows))


@cache
def _unnest(table: Table, columns: tuple[str, ...]) -> str:
    arrays = ", ".join(f"%s::{_array_type(table.c[name].type)}" for name in columns)
    return f"SELECT * FROM unnest({arrays})"


def _array_type(column_type) -> str:
    for kind, name in _ARRAY_TYPES:
        if isinstance(column_type, kind):
            return name
    if isinstance(column_type, Float):
        return "double precision[]"
    return "text[]"
