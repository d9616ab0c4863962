"""Login, logout and the signed-in account, on top of streamlit-authenticator.

streamlit-authenticator keeps the session state (``authentication_status``,
``username``, ...), checks bcrypt hashes and handles the re-login cookie. We
draw the login form ourselves so that every attempt passes the failed-login
rate limit of :mod:`telemetry.logins` first and is audited (login,
login_failed, logout). A cookie re-login is not a new login and is not audited.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import streamlit as st
import streamlit_authenticator as stauth
from sqlalchemy import Engine
from streamlit_authenticator.utilities import LoginError

from telemetry import accounts, logins
from telemetry.accounts import Account
from telemetry.db import DEFAULT_ORG
from telemetry.timeutil import from_us, now_us

# The library sleeps this long on every logged-out run (its default is 0.7 s);
# our own rate limit is what slows password guessing down.
LOGIN_SLEEP_SECONDS = 0.05
_LOGOUT_REQUESTED = "_telemetry_logout_requested"
_SET_COOKIE = "_telemetry_set_cookie"
_JUST_LOGGED_OUT = "_telemetry_logged_out"
# A real bcrypt hash of a random string: unknown usernames cost as much time as
# known ones, so response times do not reveal which usernames exist.
_DUMMY_HASH = "$2b$12$T2Ajt8Gp/W3urkJiA8KCj.MKCHzz7wZomkRYJdlYJt1ODhn0Up2c."


def make_authenticator(config: dict[str, Any]) -> stauth.Authenticate:
    """The one authenticator of this run (it draws the cookie reader, so only one per run)."""
    settings = accounts.authenticator_settings(config)
    return stauth.Authenticate(
        settings["credentials"],
        settings["cookie_name"],
        settings["cookie_key"],
        settings["cookie_expiry_days"],
        auto_hash=False,
        login_sleep_time=LOGIN_SLEEP_SECONDS,
    )


def signed_in_account(
    authenticator: stauth.Authenticate, config: dict[str, Any], engine: Engine
) -> Account | None:
    """The logged-in account of this session, or ``None`` (then only the login page is shown)."""
    if st.session_state.pop(_LOGOUT_REQUESTED, False):
        _log_out(authenticator, config, engine)
        return None
    try:
        authenticator.login(location="unrendered")  # re-login from a valid cookie, if any
    except LoginError:
        _forget_session()  # the cookie names an account that no longer exists
    if not st.session_state.get("authentication_status"):
        return None
    account = accounts.find_account(config, st.session_state.get("username"))
    if account is None:  # removed from the accounts file since logging in
        authenticator.logout(location="unrendered")
        return None
    if st.session_state.pop(_SET_COOKIE, False):
        authenticator.cookie_controller.set_cookie()
    return account


def _forget_session() -> None:
    for key in ("name", "username", "authentication_status", "email", "roles"):
        st.session_state[key] = None


def _log_out(authenticator: stauth.Authenticate, config: dict[str, Any], engine: Engine) -> None:
    username = st.session_state.get("username")
    if username:
        account = accounts.find_account(config, username)
        logins.record_auth_event(engine, logins.LOGOUT, username, org=_audit_org(account))
    if st.session_state.get("authentication_status"):
        authenticator.logout(location="unrendered")  # clears the session and the cookie
    st.session_state[_JUST_LOGGED_OUT] = True


def _audit_org(account: Account | None) -> str:
    if account is not None and account.orgs:
        return account.orgs[0]
    return DEFAULT_ORG


def login_page(
    authenticator: stauth.Authenticate | None,
    config: dict[str, Any] | None,
    engine: Engine,
    problem: str = "",
) -> None:
    """The only page a visitor who is not logged in can reach."""
    _, middle, _ = st.columns([1, 1.4, 1])
    with middle:
        st.title("Agent telemetry")
        st.caption("Usage, cost and failures of your AI agents.")
        if problem or authenticator is None or config is None:
            st.error(problem or "The accounts file could not be read.", icon=":material/error:")
            return
        if st.session_state.pop(_JUST_LOGGED_OUT, False):
            st.success("You are logged out.", icon=":material/logout:")
        with st.form("login", enter_to_submit=True):
            username = st.text_input("Username", key="login_username", autocomplete="username")
            password = st.text_input(
                "Password", type="password", key="login_password", autocomplete="current-password"
            )
            submitted = st.form_submit_button("Log in", type="primary", width="stretch")
        if submitted:
            _attempt_login(authenticator, config, engine, username, password)
        st.caption(
            "Forgot your password? An admin can set a new one with "
            "`python -m telemetry users passwd USERNAME`."
        )


def _attempt_login(
    authenticator: stauth.Authenticate,
    config: dict[str, Any],
    engine: Engine,
    username: str,
    password: str,
) -> None:
    username = username.strip().lower()
    if not username or not password:
        st.error("Enter your username and password.")
        return
    lock = logins.lockout(engine, username)
    if lock is not None:
        logins.record_auth_event(
            engine, logins.LOGIN_FAILED, username, details={"reason": logins.LOCKED}
        )
        st.error(_lockout_message(lock))
        return
    account = accounts.find_account(config, username)
    if account is None:
        accounts.password_matches(password, _DUMMY_HASH)
        succeeded = False
    else:
        succeeded = bool(authenticator.authentication_controller.login(username, password))
    if succeeded:
        logins.record_auth_event(engine, logins.LOGIN, username, org=_audit_org(account))
        st.session_state[_SET_COOKIE] = True
        st.rerun()
    reason = logins.WRONG_PASSWORD if account else logins.UNKNOWN_USER
    logins.record_auth_event(
        engine, logins.LOGIN_FAILED, username, org=_audit_org(account), details={"reason": reason}
    )
    _forget_session()
    lock = logins.lockout(engine, username)
    st.error(_lockout_message(lock) if lock else "Username or password is incorrect.")


def _lockout_message(lock: logins.Lockout) -> str:
    minutes = -(-lock.seconds_left(now_us()) // 60)
    until = from_us(lock.until_us).astimezone(UTC)
    return (
        f"Too many failed logins for {lock.username!r}: try again in {minutes} min "
        f"(after {until:%H:%M} UTC), or ask an admin to reset the password with "
        f"`python -m telemetry users passwd {lock.username}`."
    )


def account_box(account: Account) -> None:
    """Who is logged in, and the logout button (bottom of the sidebar)."""
    with st.sidebar:
        st.divider()
        role = "Admin: all teams" if account.is_admin else "Manager: your teams only"
        st.caption(f"Logged in as **{account.name}** · {role}")
        st.button(
            "Log out",
            key="logout_button",
            icon=":material/logout:",
            on_click=_request_logout,
            width="stretch",
        )


def _request_logout() -> None:
    # Handled at the top of the next run, before any page is chosen, so the
    # logout takes effect (and the cookie is deleted) before anything is drawn.
    st.session_state[_LOGOUT_REQUESTED] = True
