"""Who is logged in: the login record behind this session, checked on every run; logout.

streamlit-authenticator checks the bcrypt hashes (ui.login_form) and keeps the
session state (``authentication_status``, ``username``, ...). Its own re-login
cookie is a JWT that JavaScript writes (never HttpOnly) and that cannot be
revoked, so it is not used: a login is a server-side record
(telemetry.sessions) and the browser's cookie, set by telemetry.session_http,
is HttpOnly, SameSite=Strict and Secure on https. Every run reads the record
again, so a logout elsewhere, a changed password, role or teams, or a removed
account ends the session at its next click. A cookie re-login is not audited.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
import streamlit_authenticator as stauth
from sqlalchemy import Engine

from telemetry import accounts, logins, sessions
from telemetry.accounts import Account
from telemetry.session_http import END_PATH
from ui import browser

# The library sleeps this long on every logged-out run of its own login widget
# (default 0.7 s); we never call that widget, so it only matters if someone does.
LOGIN_SLEEP_SECONDS = 0.05
SESSION_KEY = "_telemetry_login_session"  # the id of this session's login record
LOGGED_OUT_PARAM = "logged_out"
_LOGOUT_REQUESTED = "_telemetry_logout_requested"
_JUST_LOGGED_OUT = "_telemetry_logged_out"
_LOGIN_ENDED = "_telemetry_login_ended"
_STATE_KEYS = ("name", "username", "authentication_status", "email", "roles")


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
        _log_out(config, engine)
        return None
    record = _current_login(config, engine)
    account = accounts.find_account(config, record.username) if record else None
    if record is None or not record.belongs_to(account):
        if record is not None or st.session_state.get(SESSION_KEY) is not None:
            st.session_state[_LOGIN_ENDED] = True
        forget_session()
        return None
    if not st.session_state.get("authentication_status"):  # a new tab with the cookie
        authenticator.authentication_controller.login(token={"username": account.username})
    st.session_state[SESSION_KEY] = record.id
    return account


def _current_login(config: dict[str, Any], engine: Engine) -> sessions.LoginRecord | None:
    """This session's login record if it has not ended: by id once known, else the cookie's."""
    session_id = st.session_state.get(SESSION_KEY)
    if session_id is not None:
        return sessions.session_by_id(engine, session_id)
    token = browser.cookie(str(config["cookie"]["name"]))
    if not token:
        return None
    record = sessions.session_by_token(engine, token)
    if record is None:
        st.session_state[_LOGIN_ENDED] = True  # a cookie that no longer opens anything
    return record


def forget_session() -> None:
    """Drop who is logged in from this session (its login record is left as it is)."""
    st.session_state.pop(SESSION_KEY, None)
    for key in _STATE_KEYS:
        st.session_state[key] = None


def _log_out(config: dict[str, Any], engine: Engine) -> None:
    """End this login server-side (its cookie, wherever copied, opens nothing), then the page."""
    username = st.session_state.get("username")
    session_id = st.session_state.get(SESSION_KEY)
    if session_id is not None:
        sessions.revoke_session(engine, session_id)
    if username:
        logins.record_auth_event(
            engine,
            logins.LOGOUT,
            username,
            details={"address": browser.client_address()},
        )
    forget_session()
    st.session_state[_JUST_LOGGED_OUT] = True
    if browser.cookie_routes_reachable():
        # Like st.logout: the browser goes to the route that deletes the HttpOnly cookie.
        back = browser.app_path(f"?{LOGGED_OUT_PARAM}=1")
        browser.navigate(browser.route_url(END_PATH, next=back))


def logout_notice() -> bool:
    """Whether to say "You are logged out" (after a logout in this page or the one before).

    Kept in the session until the next login attempt: the page reruns on its own
    (the cookie component reports), and the notice must not vanish with that rerun.
    """
    if LOGGED_OUT_PARAM in st.query_params:
        del st.query_params[LOGGED_OUT_PARAM]
        st.session_state[_JUST_LOGGED_OUT] = True
    return bool(st.session_state.get(_JUST_LOGGED_OUT))


def ended_notice() -> bool:
    """Whether this session's earlier login ended without a logout here."""
    return bool(st.session_state.get(_LOGIN_ENDED))


def clear_notices() -> None:
    """A login attempt: the notices about the last login have been read."""
    st.session_state.pop(_JUST_LOGGED_OUT, None)
    st.session_state.pop(_LOGIN_ENDED, None)


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
    # logout takes effect before anything is drawn.
    st.session_state[_LOGOUT_REQUESTED] = True
