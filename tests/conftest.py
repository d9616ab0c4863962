"""Shared fixtures: a fresh store per test, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

from telemetry.db import init_store, make_engine
from tests.pgserver import PostgresServer, find_bindir

POSTGRES_URL_ENV = "TELEMETRY_TEST_POSTGRES_URL"
_database_numbers = itertools.count()


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """URL of a maintenance database on a real server (started here unless given)."""
    given = os.environ.get(POSTGRES_URL_ENV)
    if given:
        yield given
        return
    bindir = find_bindir()
    if bindir is None:
        message = "PostgreSQL is not installed (scripts/test.sh installs Debian's postgresql)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    server = PostgresServer(bindir)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres_admin_url) -> str:
    """A migrated database that fresh test databases are copied from (quicker than migrating)."""
    store, _drop = _fresh_postgres_engine(postgres_admin_url)
    init_store(store)
    store.dispose()  # CREATE DATABASE ... TEMPLATE needs the template to have no connections
    return store.url.database


def _fresh_postgres_engine(admin_url: str, template: str | None = None) -> tuple[Engine, callable]:
    name = f"telemetry_test_{os.getpid()}_{next(_database_numbers)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)

    def drop() -> None:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return engine, drop


@pytest.fixture(autouse=True)
def _cookie_routes_as_they_were(monkeypatch):
    """Building the server's routes (server_routes) marks its cookie routes served for the
    rest of the process, which changes how a login completes in any later AppTest of the
    same worker: restored after every test."""
    from telemetry import session_http

    monkeypatch.setitem(session_http._served, "routes", session_http._served["routes"])


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path) -> Iterator[Engine]:
    """A fresh, migrated store; every test using it runs on both backends."""
    if request.param == "sqlite":
        store = make_engine(f"sqlite:///{tmp_path / 'telemetry.db'}")
        init_store(store)
        yield store
        store.dispose()
        return
    admin_url = request.getfixturevalue("postgres_admin_url")
    store, drop = _fresh_postgres_engine(admin_url, request.getfixturevalue("postgres_template"))
    init_store(store)  # nothing left to apply: proves the copy is up to date
    try:
        yield store
    finally:
        drop()


@pytest.fixture
def postgresql_engine(postgres_admin_url, postgres_template) -> Iterator[Engine]:
    """A fresh PostgreSQL store, for tests about PostgreSQL-only behaviour (locks)."""
    store, drop = _fresh_postgres_engine(postgres_admin_url, postgres_template)
    try:
        yield store
    finally:
        drop()


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    """A fresh SQLite store, for tests about SQLite-only behaviour or the UI."""
    store = make_engine(f"sqlite:///{tmp_path / 'telemetry.db'}")
    init_store(store)
    yield store
    store.dispose()


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    """A throwaway store and accounts file for an ``AppTest`` run (see tests/app_support.py)."""
    from tests import app_support

    yield from app_support.make_app_env(tmp_path, monkeypatch)


def _record_downloads(monkeypatch, keep) -> list:
    import streamlit as st

    offered: list = []
    original = st.download_button  # another recorder, when both fixtures are used

    def recording(label, data, *args, **kwargs):
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        entry = keep(kwargs.get("file_name", ""), kwargs.get("mime", ""), text)
        if entry is not None:
            offered.append(entry)
        return original(label, data, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", recording)
    return offered


@pytest.fixture
def csv_downloads(monkeypatch) -> list[str]:
    """Every CSV file the app offers for download in this test, as text."""
    return _record_downloads(
        monkeypatch, lambda name, mime, text: text if mime == "text/csv" else None
    )


@pytest.fixture
def offered_downloads(monkeypatch) -> list[tuple[str, str, str]]:
    """Every file the app offers for download in this test: (file name, MIME type, text)."""
    return _record_downloads(monkeypatch, lambda name, mime, text: (name, mime, text))
