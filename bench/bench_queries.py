"""Time the Overview page's queries on a 1M-trace store, with DuckDB as a reference.

Usage: .venv/bin/python bench/bench_queries.py [--traces 1000000] [--repeat 5]

Builds the store once (bench/.cache/, git-ignored) with the demo generator over
365 days, then prints the median time of the whole Overview query set for the
last 30 and 365 days. The same aggregations run in DuckDB over the same rows
(copied once into bench/.cache/) give a reference ratio: how far the store's
row-oriented SQLite is from a columnar engine on this machine.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb
import pandas as pd
from sqlalchemy import Engine, text

from bench.common import BENCH_END, CACHE, bench_store, median_seconds
from telemetry.filters import Filters
from telemetry.queries import activity_timeline, module_usage, overview_kpis, top_agents
from telemetry.timeutil import day_number

TRACE_COLUMNS = (
    "org_id, start_day, team_id, environment, status, user_id, session_id, module, agent, cost_usd"
)
OBS_COLUMNS = (
    "org_id, start_day, kind, team_id, environment, provider, model, cost_source, "
    "input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd"
)


def overview_query_set(engine: Engine, filters: Filters) -> None:
    """Every query the Overview page runs for one set of filters."""
    overview_kpis(engine, filters)
    module_usage(engine, filters)
    activity_timeline(engine, filters)
    top_agents(engine, filters)


def duckdb_copy(engine: Engine, traces: int) -> duckdb.DuckDBPyConnection:
    path = CACHE / f"reference-{traces}.duckdb"
    fresh = not path.exists()
    con = duckdb.connect(str(path))
    if fresh:
        print("copying the rows into DuckDB (once)")
        for table, columns in (("trace", TRACE_COLUMNS), ("observation", OBS_COLUMNS)):
            first = True
            with engine.connect() as conn:
                for chunk in pd.read_sql(
                    text(f"SELECT {columns} FROM {table}"), conn, chunksize=500_000
                ):
                    con.register("chunk", chunk)
                    if first:
                        con.execute(f"CREATE TABLE {table} AS SELECT * FROM chunk")
                        first = False
                    else:
                        con.execute(f"INSERT INTO {table} SELECT * FROM chunk")
                    con.unregister("chunk")
    return con


def duckdb_query_set(con: duckdb.DuckDBPyConnection, org: int, first: int, last: int) -> None:
    """The same aggregations as the Overview page, in DuckDB over the same rows."""
    length = last - first + 1
    for lo, hi in ((first, last), (first - length, first - 1)):  # period and previous period
        where = f"org_id = {org} AND start_day BETWEEN {lo} AND {hi}"
        con.execute(
            f"SELECT count(*), count(DISTINCT user_id), count(DISTINCT session_id), "
            f"sum(CASE WHEN status = 'error' THEN 1 ELSE 0 END), count(DISTINCT module) "
            f"FROM trace WHERE {where}"
        ).fetchall()
        con.execute(
            f"SELECT sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), "
            f"sum(cost_usd), count(*), sum(CASE WHEN cost_source <> 'unpriced' THEN 1 ELSE 0 END) "
            f"FROM observation WHERE {where} AND kind IN ('generation', 'embedding')"
        ).fetchall()
    where = f"org_id = {org} AND start_day BETWEEN {first} AND {last}"
    con.execute(
        f"SELECT module, count(*), count(DISTINCT user_id) FROM trace WHERE {where} GROUP BY module"
    ).fetchall()
    con.execute(
        f"SELECT start_day, count(*), count(DISTINCT user_id) FROM trace WHERE {where} "
        "GROUP BY start_day"
    ).fetchall()
    con.execute(
        f"SELECT agent, count(*), count(DISTINCT user_id), sum(cost_usd) FROM trace "
        f"WHERE {where} GROUP BY agent ORDER BY 2 DESC LIMIT 10"
    ).fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    engine = bench_store(args.traces)
    with engine.connect() as conn:
        org = conn.execute(text("SELECT id FROM organization WHERE slug = 'demo'")).scalar()
    con = duckdb_copy(engine, args.traces)
    print(f"{'period':>8} {'store median':>13} {'duckdb median':>14} {'ratio':>6}")
    for days in (30, 365):
        filters = Filters(start=BENCH_END - timedelta(days=days - 1), end=BENCH_END, org="demo")
        store = median_seconds(lambda f=filters: overview_query_set(engine, f), repeat=args.repeat)
        first, last = day_number(filters.start), day_number(filters.end)
        reference = median_seconds(
            lambda a=first, b=last: duckdb_query_set(con, org, a, b), repeat=args.repeat
        )
        print(f"{days:>6} d {store:>12.3f}s {reference:>13.3f}s {store / reference:>6.1f}x")
    con.close()


if __name__ == "__main__":
    main()
