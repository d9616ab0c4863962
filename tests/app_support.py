"""Helpers for the app tests: a temporary store and accounts file, signed-in AppTests.

How a test logs in (two ways, both real):

- ``log_in_with_form`` drives the login form like a person: types the username
  and password and presses "Log in". The login tests use it, since the form,
  the rate limit and the audit events are what they check.
- ``signed_in_app`` starts the session already logged in: it records a login
  (telemetry.sessions, as the form does after the right password) and puts into
  ``session_state`` its id and what streamlit-authenticator stores after a
  successful login (``authentication_status`` True, ``username``, ``name``,
  ``roles``). app.py still checks that login record and looks the username up
  in the accounts file on every run, so role and teams come from the file, as
  in production. It avoids a bcrypt check per test and lets a test open a URL
  (query parameters) on the session's very first run, as a logged-in person
  following a link does.

Every test points the app at a temporary SQLite store (``TELEMETRY_DATABASE_URL``)
and a temporary accounts file (``TELEMETRY_AUTH_FILE``), and clears Streamlit's
caches before and after, so no engine or result leaks between tests.

The script under test is ui/dashboard.py, the one app.py mounts in the server.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from telemetry import accounts, sessions
from telemetry.accounts import ADMIN, MANAGER
from telemetry.db import database_url, init_store, make_engine
from telemetry.models import CostSource, SpanStatus
from telemetry.timeutil import US_PER_SECOND
from tests.factories import Dataset, generation, root
from ui.auth import SESSION_KEY

APP = Path(__file__).resolve().parent.parent / "ui" / "dashboard.py"
PAGES = APP.parent.parent / "pages"
TIMEOUT = 60
DAY_US = 86_400 * US_PER_SECOND
# Passes the password rules (12+ characters, rated strong by zxcvbn).
PASSWORD = "correct-horse-battery"
TEAM_A = "Avalon"
TEAM_B = "Borealis"
# Every name that belongs to team B: none may ever reach team A's manager.
TEAM_B_NAMES = ("borealis", "bjorn", "bruno", "bianca")


@dataclass
class AppEnv:
    engine: Engine
    auth_file: Path
    today: date


def make_app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppEnv]:
    """An empty, migrated store and an accounts file with an admin and two managers.

    Test modules wrap it in their own ``app_env`` fixture (``yield from``).
    """
    url = f"sqlite:///{tmp_path / 'telemetry.db'}"
    auth_file = tmp_path / "auth.yaml"
    monkeypatch.setenv("TELEMETRY_DATABASE_URL", url)
    monkeypatch.setenv("TELEMETRY_AUTH_FILE", str(auth_file))
    engine = make_engine(url)
    init_store(engine)
    accounts.add_account("root", role=ADMIN, password=PASSWORD, path=auth_file)
    accounts.add_account(
        "mia", role=MANAGER, password=PASSWORD, teams={"default": [TEAM_A]}, path=auth_file
    )
    accounts.add_account("nobody", role=MANAGER, password=PASSWORD, path=auth_file)
    clear_caches()
    yield AppEnv(engine=engine, auth_file=auth_file, today=utc_today())
    clear_caches()
    engine.dispose()


def utc_today() -> date:
    from ui.periods import utc_today as today

    return today()


def clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


def at_noon(day: date) -> datetime:
    return datetime.combine(day, time(12, 0))


def build_two_teams(engine: Engine, today: date) -> Dataset:
    """Teams Avalon (A) and Borealis (B) in org "default"; the expected figures are in the tests.

    Current period = the default "last 30 days"; the previous one = the 30 days before.
    A: users ana, arno (tracing) and ada (never traced). ana traced once in the
    previous period, so only arno is new. Current A traces: 4 (2 sessions, one
    error, one still running), 3 LLM calls of which 1 unpriced, cost 0.375, tokens
    2150. B: bjorn, bruno, bianca with 6 traces in its own environment, agent and module.
    """
    ds = Dataset(engine)
    for name in ("ana", "arno", "ada"):
        ds.user(name, team=TEAM_A, created=datetime(2025, 1, 1))
    for name in ("bjorn", "bruno", "bianca"):
        ds.user(name, team=TEAM_B, created=datetime(2025, 1, 1))
    a = {"module": "avalon-app", "agent": "atlas-agent"}
    ds.trace(
        "a0",
        user="ana",
        start=at_noon(today - timedelta(days=40)),
        **a,
        spans=[root(), generation(input_tokens=100, output_tokens=10, cost_usd=0.05)],
    )
    ds.trace(
        "a1",
        user="ana",
        session="s-a1",
        start=at_noon(today - timedelta(days=2)),
        **a,
        spans=[root(), generation(input_tokens=1000, output_tokens=200, cost_usd=0.25)],
    )
    ds.trace(
        "a2",
        user="ana",
        session="s-a1",
        start=at_noon(today - timedelta(days=2)) + timedelta(minutes=5),
        **a,
        spans=[
            root(status=SpanStatus.ERROR, error_type="ValueError"),
            generation(input_tokens=500, output_tokens=100, cost_source=CostSource.UNPRICED),
        ],
    )
    ds.trace(
        "a3",
        user="arno",
        session="s-a2",
        start=at_noon(today - timedelta(days=1)),
        **a,
        spans=[root(), generation(input_tokens=300, output_tokens=50, cost_usd=0.125)],
    )
    ds.trace(
        "a4", user="arno", start=at_noon(today - timedelta(days=5)), **a, spans=[root(seconds=None)]
    )
    b = {"module": "borealis-search", "agent": "borealis-bot", "environment": "borealis-staging"}
    for index, name in enumerate(("bjorn", "bjorn", "bruno", "bruno", "bruno", "bianca")):
        ds.trace(
            f"b{index}",
            user=name,
            session=f"s-b{index}",
            start=at_noon(today - timedelta(days=3 + index)),
            **b,
            spans=[root(), generation(input_tokens=2000, output_tokens=400, cost_usd=1.5)],
        )
    return ds


def signed_in_app(username: str, *, query: dict | None = None) -> AppTest:
    """An AppTest whose session is already logged in as ``username`` (see the module doc)."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state[SESSION_KEY] = record_login(username)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    at.session_state["name"] = username
    at.session_state["roles"] = None
    at.session_state["logout"] = None
    if query:
        at.query_params.update(query)
    return at


def record_login(username: str) -> int | None:
    """A login record for ``username`` as the form makes it; its id (None: no such account)."""
    account = accounts.find_account(accounts.load_config(), username)
    if account is None:
        return None
    engine = make_engine(database_url())
    try:
        started = sessions.start_session(engine, account, lifetime_us=DAY_US, with_handoff=False)
    finally:
        engine.dispose()
    return started.record.id


def log_in_with_form(at: AppTest, username: str, password: str) -> AppTest:
    """Type into the login form and press "Log in" (the app must show the login page)."""
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    at.button[0].click()
    return at.run()


def all_text(at: AppTest) -> str:
    """Everything the session received: every element's protobuf, charts and tables included."""
    parts: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)


def shown(markdown: str) -> str:
    """What a viewer reads of Markdown that holds telemetry text (ui/plain.py): backslash
    escapes read as their character, the invisible word joiners left out."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("\u2060", "")


def metric_values(at: AppTest) -> dict[str, str]:
    """KPI card label -> shown value (labels after " · " are dropped: "Cost · 67% ...")."""
    return {metric.label.split(" · ")[0]: metric.value for metric in at.metric}


def metric_labels(at: AppTest) -> list[str]:
    return [metric.label for metric in at.metric]


def _trace_page_script() -> None:
    import streamlit as st

    from telemetry import accounts
    from ui.filters import sidebar_filters
    from ui.trace_view import show_trace

    account = accounts.find_account(accounts.load_config(), st.session_state["username"])
    show_trace(sidebar_filters(account), st.query_params["trace"])


def open_trace(username: str, trace_id: str) -> AppTest:
    """The trace view of ``trace_id`` as ``username`` sees it (the Traces page's detail)."""
    at = AppTest.from_function(_trace_page_script, default_timeout=TIMEOUT)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    at.query_params["trace"] = trace_id
    at.run()
    assert not at.exception, at.exception
    return at
