"""The login page: the form, the throttle, the audit, and the hand-off to the cookie route.

Every attempt passes telemetry.login_throttle first (too many wrong passwords
from this address, or for this name from this address, make the sender wait)
and is audited with the name typed and the client address. A right password
creates a login record (telemetry.sessions); the browser is then sent to
``/session/begin``, which sets the HttpOnly cookie and comes back to this
page's URL (the dashboard opens there).
"""

from __future__ import annotations

from typing import Any

import streamlit as st
import streamlit_authenticator as stauth
from sqlalchemy import Engine

from telemetry import accounts, login_throttle, logins, sessions
from telemetry.accounts import Account
from telemetry.passwords import RULES_TEXT
from telemetry.session_http import BEGIN_PATH
from telemetry.timeutil import US_PER_SECOND, now_us
from ui import auth, browser

# A real bcrypt hash of a random string: unknown usernames cost as much time as
# known ones, so response times do not reveal which usernames exist.
_DUMMY_HASH = "$2b$12$T2Ajt8Gp/W3urkJiA8KCj.MKCHzz7wZomkRYJdlYJt1ODhn0Up2c."
MAX_NAME_LENGTH = 256
HELP = (
    "Forgot your password? An admin sets a new one with "
    "`python -m telemetry users passwd USERNAME` (passwords: "
    f"{RULES_TEXT}). After wrong passwords the form asks you to wait a little "
    "longer each time; an admin can clear that with `python -m telemetry users unlock "
    "USERNAME`. You stay logged in on this browser for a week unless you log out; a "
    "changed password, role or teams logs you out everywhere."
)


def clock() -> int:
    """Now, in epoch microseconds (tests replace it to move time without sleeping)."""
    return now_us()


def login_page(
    authenticator: stauth.Authenticate | None,
    config: dict[str, Any] | None,
    engine: Engine,
    problem: str = "",
    *,
    url_path: str = "",
) -> None:
    """The only page a visitor who is not logged in can reach (``url_path``: which URL)."""
    _, middle, _ = st.columns([1, 1.4, 1])
    with middle:
        st.title("Agent telemetry")
        st.caption("Usage, cost and failures of your AI agents.")
        if problem or authenticator is None or config is None:
            st.error(problem or "The accounts file could not be read.", icon=":material/error:")
            return
        if auth.logout_notice():
            st.success("You are logged out.", icon=":material/logout:")
        elif auth.ended_notice():
            st.info(
                "Your login has ended (logged out elsewhere, or the account's password, "
                "role or teams changed). Log in again.",
                icon=":material/lock_clock:",
            )
        with st.form("login", enter_to_submit=True):
            username = st.text_input("Username", key="login_username", autocomplete="username")
            password = st.text_input(
                "Password", type="password", key="login_password", autocomplete="current-password"
            )
            submitted = st.form_submit_button("Log in", type="primary", width="stretch")
        if submitted:
            auth.clear_notices()
            _attempt_login(authenticator, config, engine, username, password, url_path)
        st.caption(HELP)


def _attempt_login(
    authenticator: stauth.Authenticate,
    config: dict[str, Any],
    engine: Engine,
    username: str,
    password: str,
    url_path: str,
) -> None:
    username = username.strip().lower()[:MAX_NAME_LENGTH]
    if not username or not password:
        st.error("Enter your username and password.")
        return
    address = browser.client_address()
    refusal = login_throttle.check_attempt(engine, username, address, at_us=clock())
    account = accounts.find_account(config, username)
    if refusal is not None:
        _audit_failure(engine, username, account, address, logins.THROTTLED, refusal.seconds)
        st.error(throttle_message(refusal, username))
        return
    if account is None:
        accounts.password_matches(password, _DUMMY_HASH)
        succeeded = False
    else:
        succeeded = bool(authenticator.authentication_controller.login(username, password))
    if not succeeded:
        login_throttle.record_failure(engine, username, address, at_us=clock())
        reason = logins.WRONG_PASSWORD if account else logins.UNKNOWN_USER
        _audit_failure(engine, username, account, address, reason)
        auth.forget_session()
        st.error("Username or password is incorrect.")
        return
    _begin_login(config, engine, account, address, url_path)


def _begin_login(
    config: dict[str, Any], engine: Engine, account: Account, address: str, url_path: str
) -> None:
    login_throttle.record_success(engine, account.username, address)
    logins.record_auth_event(
        engine,
        logins.LOGIN,
        account.username,
        details={"address": address},
        at_us=clock(),
    )
    days = float(config["cookie"].get("expiry_days", accounts.COOKIE_EXPIRY_DAYS))
    started = sessions.start_session(
        engine,
        account,
        lifetime_us=int(days * 86_400 * US_PER_SECOND),
        address=address,
        with_handoff=browser.cookie_routes_reachable(),
        at_us=clock(),
    )
    st.session_state[auth.SESSION_KEY] = started.record.id
    if started.handoff_code is None:
        st.rerun()  # no cookie route in this process: the login lasts while the tab is open
    # The route sets the HttpOnly cookie and returns to this page, which then opens.
    back = browser.page_path(url_path)
    browser.navigate(browser.route_url(BEGIN_PATH, code=started.handoff_code, next=back))
    st.info("Logging in…", icon=":material/login:")
    st.stop()


def _audit_failure(
    engine: Engine,
    username: str,
    account: Account | None,
    address: str,
    reason: str,
    wait_seconds: int | None = None,
) -> None:
    details: dict[str, Any] = {"reason": reason, "address": address}
    if wait_seconds is not None:
        details["wait_seconds"] = wait_seconds
    logins.record_auth_event(
        engine,
        logins.LOGIN_FAILED,
        username,
        details=details,
        at_us=clock(),
    )


def throttle_message(refusal: login_throttle.Refusal, username: str) -> str:
    wait = _duration(refusal.seconds)
    if refusal.because == login_throttle.NAME:
        return (
            f"Too many wrong passwords for {username!r}: try again in {wait}. "
            f"An admin can clear this with `python -m telemetry users unlock {username}`."
        )
    return (
        f"Too many wrong passwords from your address: try again in {wait}. "
        "An admin can clear this with `python -m telemetry users unlock --address ADDRESS`."
    )


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} s"
    return f"{-(-seconds // 60)} min"
