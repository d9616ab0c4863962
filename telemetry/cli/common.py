"""Helpers shared by the CLI command modules."""

from __future__ import annotations

import argparse
from datetime import date

from sqlalchemy import Engine

from telemetry.db import init_store, make_engine


class CommandError(Exception):
    """A problem the user can fix; printed without a traceback, exit code 2."""


def open_store() -> Engine:
    """The configured engine, schema brought up to date."""
    engine = make_engine()
    init_store(engine)
    return engine


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in YYYY-MM-DD form") from None
