"""The app's front door: only a login form for visitors, audited logins, rate limit, logout."""

from __future__ import annotations

import json

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from telemetry import accounts
from telemetry.models import AuditEvent
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
from ui.navigation import page_specs_for


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


def test_wrong_password_is_refused_and_audited(app_env):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    log_in_with_form(at, "mia", "not-the-password")
    assert [error.value for error in at.error] == ["Username or password is incorrect."]
    assert not at.metric
    log_in_with_form(at, "ghost", "whatever-it-is")
    assert [error.value for error in at.error] == ["Username or password is incorrect."]
    assert audit_rows(app_env.engine) == [
        ("login_failed", "mia", "wrong_password"),
        ("login_failed", "ghost", "unknown_user"),
    ]


def test_five_failed_logins_lock_the_username_even_for_the_right_password(app_env):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    for _ in range(5):
        log_in_with_form(at, "mia", "wrong-password")
    assert "Too many failed logins for 'mia'" in at.error[0].value
    log_in_with_form(at, "mia", PASSWORD)
    assert "Too many failed logins for 'mia'" in at.error[0].value
    assert not at.metric
    assert audit_rows(app_env.engine)[-1] == ("login_failed", "mia", "locked")
    # Another username is not affected by mia's lock.
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


def test_removed_account_is_logged_out_at_its_next_click(app_env):
    at = signed_in_app("mia").run()
    assert at.metric
    accounts.remove_account("mia", path=app_env.auth_file)
    assert_only_login_form(at.run())


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
