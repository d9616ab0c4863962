"""Bulk writes (telemetry.bulk): rows come back exactly as given, on both backends."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import BigInteger, Column, Float, Integer, MetaData, Table, text

from telemetry.bulk import Upsert, insert_rows, upsert_rows

# Awkward values of every column type the writer stores: NULLs, zero, 64-bit extremes,
# text that COPY's text format must escape, non-ASCII text, floats that print long.
COLUMNS = ("n4", "n8", "f8", "flag", "label", "note")
ROWS = [
    (1, 2**62, 0.1, True, "tab\there", "line\nbreak \\ backslash"),
    (-(2**31), -(2**63), -1e300, False, "", "emoji 🚀 and é"),
    (None, None, None, None, None, None),
    (0, 0, 3, True, "\\N", "\r carriage"),  # an int in a float column: stored as 3.0
    (7, 1, math.inf, False, "x" * 5000, "{}"),
]


def _table(conn, name: str, extra: str = "") -> None:
    conn.execute(
        text(
            f'CREATE TABLE "{name}" (n4 integer, n8 bigint, f8 double precision, '
            f"flag boolean, label varchar(6000), note text{extra})"
        )
    )


def _read(conn, name: str) -> list[tuple]:
    names = ", ".join(COLUMNS)
    return [tuple(row) for row in conn.execute(text(f'SELECT {names} FROM "{name}"'))]


def _expected(rows: list[tuple]) -> list[tuple]:
    return [
        tuple(float(v) if i == 2 and v is not None else v for i, v in enumerate(row))
        for row in rows
    ]


def _sorted(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=repr)


def test_inserted_rows_read_back_exactly(engine):
    with engine.begin() as conn:
        _table(conn, "bulk_rows")
        insert_rows(conn, "bulk_rows", COLUMNS, ROWS)
        assert _sorted(_read(conn, "bulk_rows")) == _sorted(_expected(ROWS))


def test_postgresql_copies_binary_only_when_every_column_allows(postgresql_engine):
    """A column of another type (here a timestamp) makes the whole COPY go as text."""
    with postgresql_engine.begin() as conn:
        _table(conn, "bulk_binary")
        _table(conn, "bulk_text", ", seen timestamp")
        insert_rows(conn, "bulk_binary", COLUMNS, ROWS)
        insert_rows(conn, "bulk_text", (*COLUMNS, "seen"), [(*r, "2026-01-02 03:04") for r in ROWS])
        chosen = conn.connection.info["binary_copy_types"]
        assert chosen[("bulk_binary", COLUMNS)] == [
            "int4",
            "int8",
            "float8",
            "bool",
            "text",
            "text",
        ]
        assert chosen[("bulk_text", (*COLUMNS, "seen"))] is None
        assert _sorted(_read(conn, "bulk_binary")) == _sorted(_read(conn, "bulk_text"))
        assert _sorted(_read(conn, "bulk_text")) == _sorted(_expected(ROWS))


def test_upserts_of_several_tables_add_up(engine):
    """Several tables' upserts in one call; each row's measures add to what is stored,
    a NULL key included (as the rollups key theirs: COALESCE(id, -1))."""
    metadata = MetaData()
    daily = Table(
        "bulk_daily",
        metadata,
        Column("day", Integer, nullable=False),
        Column("user_id", Integer),
        Column("runs", Integer, nullable=False),
        Column("cost", Float, nullable=False),
    )
    totals = Table(
        "bulk_totals",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("total", BigInteger, nullable=False),
    )
    by_day = Upsert(
        daily,
        ("day", "user_id", "runs", "cost"),
        "ON CONFLICT (day, (COALESCE(user_id, -1))) DO UPDATE SET "
        "runs = bulk_daily.runs + excluded.runs, cost = bulk_daily.cost + excluded.cost",
        [(20000, None, 2, 0.5), (20000, 5, 1, 1.0)],
    )
    by_id = Upsert(
        totals,
        ("id", "total"),
        "ON CONFLICT (id) DO UPDATE SET total = bulk_totals.total + excluded.total",
        [(1, 10), (2, 2**40)],
    )
    with engine.begin() as conn:
        metadata.create_all(conn)
        conn.execute(
            text("CREATE UNIQUE INDEX ux_bulk_daily ON bulk_daily (day, (COALESCE(user_id, -1)))")
        )
        upsert_rows(conn, [by_day, by_id])
        upsert_rows(
            conn,
            [
                by_day._replace(rows=[(20000, None, 3, 0.25), (20001, None, 1, 2.0)]),
                by_id._replace(rows=[(2, 5)]),
                by_id._replace(table=daily, rows=[]),  # nothing to do: skipped
            ],
        )
        stored = conn.execute(text("SELECT day, user_id, runs, cost FROM bulk_daily")).all()
        summed = conn.execute(text("SELECT id, total FROM bulk_totals ORDER BY id")).all()
    assert _sorted([tuple(row) for row in stored]) == _sorted(
        [(20000, None, 5, 0.75), (20000, 5, 1, 1.0), (20001, None, 1, 2.0)]
    )
    assert [tuple(row) for row in summed] == [(1, 10), (2, 2**40 + 5)]


def test_one_upsert_per_table(engine):
    """Two upserts of one table would share its staging table (PostgreSQL): refused."""
    metadata = MetaData()
    table = Table("bulk_twice", metadata, Column("id", Integer, primary_key=True))
    upsert = Upsert(table, ("id",), "ON CONFLICT (id) DO NOTHING", [(1,)])
    with engine.begin() as conn:
        metadata.create_all(conn)
        with pytest.raises(ValueError, match="one upsert per table"):
            upsert_rows(conn, [upsert, upsert._replace(rows=[(2,)])])
        upsert_rows(conn, [upsert, upsert._replace(rows=[])])  # an empty one is skipped
        assert conn.execute(text("SELECT id FROM bulk_twice")).scalars().all() == [1]
