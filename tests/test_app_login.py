"""The app's front door: only a login form for visitors, audited logins, throttle, logout."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from telemetry import accounts, sessions
from telemetry.cli import main as cli_main
from telemetry.models import AuditEvent
from telemetry.timeutil import US_PER_SECOND
from tests import app_support
from tests.app_support import (
    APP,
    PASSWORD,
    TEAM_A,
    TIMEOUT,
    all_text,
    build_two_teams,
    log_in_with_form,
    signed_in_app,
)
from ui import browser, login_form
from ui.auth import SESSION_KEY
from ui.navigation import page_specs_for


class Client:
    """Where the login form's requests come from, and when (a clock the test moves)."""

    def __init__(self) -> None:
        self.address = "192.0.2.1"
        self.now_us = 1_900_000_000 * US_PER_SECOND


@pytest.fixture
def client(monkeypatch) -> Client:
    test_client = Client()
    monkeypatch.setattr(browser, "client_address", lambda: test_client.address)
    monkeypatch.setattr(login_form, "clock", lambda: test_client.now_us)
    return test_client


def audit_details(engine) -> list[tuple[str, str, dict]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(AuditEvent.action, AuditEvent.actor, AuditEvent.details).order_by(AuditEvent.id)
        ).all()
    return [(action, actor, json.loads(details)) for action, actor, details in rows]


def audit_rows(engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(AuditEvent.action, AuditEvent.actor, AuditEvent.details).order_by(AuditEvent.id)
        ).all()
    return [
        (action, actor, json.loads(details).get("reason", "")) for action, actor, details in rows
    ]


def assert_only_login_form(at: AppTest) -> None:
    assert not at.exception
    assert [box.key for box in at.text_input] == ["login_username", "login_password"]
    assert not at.metric and not at.dataframe and not at.selectbox and not at.multiselect
    text = all_text(at).lower()
    for data_name in (TEAM_A.lower(), "atlas-agent", "avalon-app", "borealis"):
        assert data_name not in text


def test_visitor_sees_only_the_login_form(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert_only_login_form(at)


def test_visitor_asking_for_any_page_url_gets_the_login_form(app_env):
    build_two_teams(app_env.engine, app_env.today)
    pages = page_specs_for(accounts.ADMIN)
    assert pages, "no page is registered at all"
    for spec in pages:
        at = signed_in_app("root").run()
        at.switch_page(f"../{spec.path}")
        # The same request for this page's URL, from a session that is not logged in.
        at.session_state["authentication_status"] = None
        at.session_state["username"] = None
        del at.session_state[SESSION_KEY]
        assert_only_login_form(at.run())


def test_login_with_the_right_password_opens_the_overview_and_is_audited(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    log_in_with_form(at, "mia", PASSWORD)
    assert not at.exception
    assert [title.value for title in at.title] == ["Overview"]
    assert audit_rows(app_env.engine) == [("login", "mia", "")]


def test_session_stays_logged_in_across_reruns(app_env):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    log_in_with_form(at, "mia", PASSWORD)
    at.run()
    at.run()
    assert [title.value for title in at.title] == ["Overview"]
    assert [row[:2] for row in audit_rows(app_env.engine)] == [("login", "mia")]


def test_wrong_password_is_refused_and_audited_with_the_client_address(app_env, client):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    client.address = "203.0.113.9"
    log_in_with_form(at, "mia", "not-the-password")
    assert [error.value for error in at.error] == ["Username or password is incorrect."]
    assert not at.metric
    log_in_with_form(at, "ghost", "whatever-it-is")
    assert [error.value for error in at.error] == ["Username or password is incorrect."]
    assert audit_details(app_env.engine) == [
        ("login_failed", "mia", {"reason": "wrong_password", "address": "203.0.113.9"}),
        ("login_failed", "ghost", {"reason": "unknown_user", "address": "203.0.113.9"}),
    ]


def test_hammering_a_name_slows_the_hammerer_but_never_locks_out_the_rightful_user(app_env, client):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    client.address = "203.0.113.9"
    # Three free wrong passwords, then waits of 1 s, 2 s, 4 s: each attempt is made
    # as soon as it is allowed (the test's clock moves; nothing sleeps).
    for wait in (0, 0, 0, 1, 2, 4):
        client.now_us += wait * US_PER_SECOND
        log_in_with_form(at, "mia", "wrong-password")
        assert [error.value for error in at.error] == ["Username or password is incorrect."]
    # Six failures: the next attempt from that address must wait 2^(6-3) = 8 s, and is
    # turned away unchecked, even with the right password.
    client.now_us += 7 * US_PER_SECOND
    log_in_with_form(at, "mia", PASSWORD)
    assert "try again in 1 s" in at.error[0].value and not at.metric
    failed = [row for row in audit_details(app_env.engine) if row[0] == "login_failed"]
    assert len(failed) == 7
    assert failed[-1] == (
        "login_failed",
        "mia",
        {"reason": "throttled", "address": "203.0.113.9", "wait_seconds": 1},
    )
    # Meanwhile mia, from her own address, logs in at once with her password.
    client.address = "198.51.100.7"
    mine = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    log_in_with_form(mine, "mia", PASSWORD)
    assert [title.value for title in mine.title] == ["Overview"]
    assert audit_details(app_env.engine)[-1] == ("login", "mia", {"address": "198.51.100.7"})


def test_spread_out_guessing_slows_a_name_and_users_unlock_clears_it(app_env, client, capsys):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    for index in range(5):  # five addresses, one wrong password each
        client.address = f"203.0.113.{index}"
        log_in_with_form(at, "root", "wrong-password")
    # root mistypes once from her own address: the name's 6 failures from everywhere
    # now make her wait 2^(6-3) = 8 s before her next try on that name.
    client.address = "198.51.100.7"
    log_in_with_form(at, "root", "wrong-passwrd")
    log_in_with_form(at, "root", PASSWORD)
    assert at.error[0].value.startswith("Too many wrong passwords for 'root': try again in 8 s")
    assert cli_main(["users", "unlock", "root"]) == 0
    assert "cleared (7 records)" in capsys.readouterr().out  # the name + 6 (name, address)
    log_in_with_form(at, "root", PASSWORD)
    assert [title.value for title in at.title] == ["Overview"]


def test_logout_returns_to_the_login_form_and_is_audited(app_env):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    log_in_with_form(at, "root", PASSWORD)
    at.button(key="logout_button").click().run()
    assert_only_login_form(at)
    assert [note.value for note in at.success] == ["You are logged out."]
    assert [row[:2] for row in audit_rows(app_env.engine)] == [
        ("login", "root"),
        ("logout", "root"),
    ]


ACCOUNT_CHANGES = {
    "removed": lambda path: accounts.remove_account("mia", path=path),
    "password": lambda path: accounts.set_password("mia", "brand-new-horse-battery", path=path),
    "role": lambda path: accounts.set_role("mia", accounts.ADMIN, path=path),
    "teams": lambda path: accounts.set_teams("mia", "default", ["Borealis"], path=path),
    "logout-all": lambda path: accounts.logout_everywhere("mia", path=path),
}


@pytest.mark.parametrize("change", sorted(ACCOUNT_CHANGES))
def test_an_account_change_logs_its_open_sessions_out_at_their_next_click(app_env, change):
    build_two_teams(app_env.engine, app_env.today)
    at = signed_in_app("mia").run()
    other = signed_in_app("root").run()
    assert at.metric and other.metric
    ACCOUNT_CHANGES[change](app_env.auth_file)
    assert_only_login_form(at.run())
    if change != "removed":
        assert "Your login has ended" in at.info[0].value
    assert other.run().metric  # another account's session goes on


def test_logout_ends_the_login_record_server_side(app_env):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    log_in_with_form(at, "root", PASSWORD)
    login_id = at.session_state[SESSION_KEY]
    assert sessions.session_by_id(app_env.engine, login_id) is not None
    at.button(key="logout_button").click().run()
    assert sessions.session_by_id(app_env.engine, login_id) is None


def test_a_new_tab_with_the_cookie_of_a_live_login_opens_the_dashboard(app_env, monkeypatch):
    started = sessions.start_session(
        app_env.engine, account_named("mia"), lifetime_us=app_support.DAY_US
    )
    cookie = sessions.redeem_handoff(app_env.engine, started.handoff_code)
    monkeypatch.setattr(browser, "cookie", lambda name: cookie.token)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert [title.value for title in at.title] == ["Overview"]
    assert at.session_state["username"] == "mia"
    # No new login: a cookie re-login is not audited.
    assert audit_rows(app_env.engine) == []
    accounts.set_password("mia", "brand-new-horse-battery", path=app_env.auth_file)
    fresh = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert_only_login_form(fresh)
    assert "Your login has ended" in fresh.info[0].value


def test_an_unknown_cookie_opens_nothing(app_env, monkeypatch):
    monkeypatch.setattr(browser, "cookie", lambda name: "forged-or-old-cookie-value")
    assert_only_login_form(AppTest.from_file(str(APP), default_timeout=TIMEOUT).run())


def account_named(username: str) -> accounts.Account:
    found = accounts.find_account(accounts.load_config(), username)
    assert found is not None
    return found


def test_missing_accounts_file_says_how_to_create_the_first_account(app_env):
    app_env.auth_file.unlink()
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "python -m telemetry users add admin --role admin" in at.error[0].value
    assert not at.text_input


def test_page_file_run_without_the_dashboard_script_shows_no_data(app_env):
    """Defence in depth: if Streamlit ever ran pages/overview.py on its own (its legacy
    multipage mode; ui/dashboard.py lives apart from pages/ so that it never does), a
    session that did not pass the login and the sidebar filters sees nothing."""
    build_two_teams(app_env.engine, app_env.today)
    at = AppTest.from_file(str(app_support.PAGES / "overview.py"), default_timeout=TIMEOUT)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "root"
    at.run()
    assert not at.exception
    assert not at.metric and not at.dataframe
    assert "Log in to see the dashboard" in at.info[0].value
    text = all_text(at).lower()
    assert TEAM_A.lower() not in text and "borealis" not in text


def test_unreachable_store_is_explained_without_a_traceback(app_env, monkeypatch):
    monkeypatch.setenv(
        "TELEMETRY_DATABASE_URL", "postgresql://someone:s3cret@127.0.0.1:1/telemetry"
    )
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    (message,) = [error.value for error in at.error]
    assert message.startswith("The store at postgresql://someone:***@127.0.0.1:1/telemetry cannot")
    assert "s3cret" not in all_text(at)
