"""The app's caches: one engine per database URL, query results keyed on filters and data version.

A cached result is keyed on (query function, :class:`Filters`, options, the
organization's data version), so any write to the organization (ingestion, an
import, the demo generator) changes the key and the next run shows new data.
The TTL is only a safety net for writes that forget to bump the version.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import streamlit as st
from sqlalchemy import Engine

from telemetry import retention, store
from telemetry.db import database_url, init_store, make_engine
from telemetry.filters import Filters

QUERY_TTL_SECONDS = 15 * 60
LOOKUP_TTL_SECONDS = 60


@st.cache_resource(show_spinner=False)
def _engine_for(url: str) -> Engine:
    engine = make_engine(url)
    init_store(engine)
    return engine


def get_engine() -> Engine:
    """The process-wide engine of the configured store (``TELEMETRY_DATABASE_URL``)."""
    return _engine_for(database_url())


def data_version(org: str) -> int:
    """The organization's change counter; read on every run (one indexed row)."""
    return store.data_version(get_engine(), org)


@st.cache_data(ttl=QUERY_TTL_SECONDS, max_entries=2000, show_spinner=False)
def _query_result(
    url: str, module: str, name: str, filters: Filters, version: int, options: tuple
) -> Any:
    function = getattr(importlib.import_module(module), name)
    return function(_engine_for(url), filters, **dict(options))


def cached_query(function: Callable[..., Any], filters: Filters, version: int, **options: Any):
    """``function(engine, filters, **options)``, cached until the data version changes.

    ``function`` must be a module-level query of :mod:`telemetry.queries` (or any
    module-level function with that signature); its result must be picklable.
    """
    return _query_result(
        database_url(),
        function.__module__,
        function.__qualname__,
        filters,
        version,
        tuple(sorted(options.items())),
    )


def organization_slugs() -> list[str]:
    """Every organization (not cached: one tiny query, and new ones show at once)."""
    with get_engine().connect() as conn:
        return store.organization_slugs(conn)


@st.cache_data(ttl=LOOKUP_TTL_SECONDS, max_entries=500, show_spinner=False)
def org_has_traces(url: str, org: str, version: int) -> bool:
    with _engine_for(url).connect() as conn:
        return store.org_has_traces(conn, org)


@st.cache_data(ttl=LOOKUP_TTL_SECONDS, max_entries=500, show_spinner=False)
def team_names(url: str, org: str, version: int) -> list[str]:
    with _engine_for(url).connect() as conn:
        return store.team_names(conn, store.org_id(conn, org))


@st.cache_data(ttl=QUERY_TTL_SECONDS, max_entries=500, show_spinner=False)
def environment_names(url: str, org: str, teams: tuple[str, ...] | None, version: int) -> list[str]:
    with _engine_for(url).connect() as conn:
        return store.environment_names(conn, org, teams)


@st.cache_data(ttl=LOOKUP_TTL_SECONDS, max_entries=500, show_spinner=False)
def purged_horizons(url: str, org: str, version: int) -> tuple[int | None, int | None]:
    """How far retention has purged the organization's records and content (day numbers)."""
    with _engine_for(url).connect() as conn:
        return retention.purged_horizons(conn, org)


def clear_all() -> None:
    """Drop every cached result and the engine (tests call this between apps)."""
    st.cache_data.clear()
    st.cache_resource.clear()
