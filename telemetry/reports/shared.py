"""Query results shared by the items of one report build, so a query two items need runs once.

Several items read the same query (the Billing charts and tables all start from
``cost_by_model``). Inside :func:`sharing` (the builder wraps each build in it),
:func:`query` keeps each result for the rest of that build; outside it, the
query simply runs. A query that raises is not kept: every item that needs it
fails, or succeeds on retry, on its own. Items must not modify what they get.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy import Engine

from telemetry.filters import Filters

T = TypeVar("T")
_results: ContextVar[dict | None] = ContextVar("report_query_results", default=None)


@contextmanager
def sharing() -> Iterator[None]:
    """Share query results between the items built inside this block."""
    token = _results.set({})
    try:
        yield
    finally:
        _results.reset(token)


def query(function: Callable[..., T], engine: Engine, filters: Filters, **options: Any) -> T:
    """``function(engine, filters, **options)``, run once per build for the same arguments."""
    results = _results.get()
    if results is None:
        return function(engine, filters, **options)
    key = (function, id(engine), filters, tuple(sorted(options.items())))
    if key not in results:
        results[key] = function(engine, filters, **options)
    return results[key]
