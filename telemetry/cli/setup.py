"""``init``: create or upgrade the store."""

from __future__ import annotations

import argparse

from telemetry.db import init_store, make_engine


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "init",
        help="create the store or bring its schema up to date",
        description=(
            "Create the database (SQLite file or PostgreSQL) and apply pending "
            "migrations. Safe to run any number of times."
        ),
    )
    parser.set_defaults(func=run_init)


def run_init(args: argparse.Namespace) -> int:
    engine = make_engine()
    applied = init_store(engine)
    where = engine.url.render_as_string(hide_password=True)
    if applied:
        print(f"{where}: applied {len(applied)} migration(s): {', '.join(applied)}")
    else:
        print(f"{where}: schema up to date")
    return 0
