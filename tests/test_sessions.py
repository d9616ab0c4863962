"""Login records: a login ends on logout, expiry or an account change (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from telemetry import accounts, sessions
from telemetry.accounts import ADMIN, MANAGER
from telemetry.models import LoginSession
from telemetry.timeutil import US_PER_SECOND

T0 = 1_800_000_000 * US_PER_SECOND
DAY = 86_400 * US_PER_SECOND
PASSWORD = "correct-horse-battery"


@pytest.fixture
def auth_file(tmp_path, monkeypatch):
    path = tmp_path / "auth.yaml"
    monkeypatch.setenv(accounts.AUTH_FILE_ENV, str(path))
    accounts.add_account("root", role=ADMIN, password=PASSWORD)
    accounts.add_account("mia", role=MANAGER, password=PASSWORD, teams={"default": ["A"]})
    return path


def account(name: str) -> accounts.Account:
    found = accounts.find_account(accounts.load_config(), name)
    assert found is not None
    return found


def log_in(engine, name: str, at_us: int = T0) -> tuple[sessions.LoginRecord, str]:
    """A login as the form makes it, and the cookie token the browser gets for it."""
    started = sessions.start_session(engine, account(name), lifetime_us=7 * DAY, at_us=at_us)
    cookie = sessions.redeem_handoff(engine, started.handoff_code, at_us=at_us + US_PER_SECOND)
    assert cookie is not None
    return started.record, cookie.token


def still_open(engine, token: str, at_us: int = T0 + 60 * US_PER_SECOND) -> bool:
    """What the app decides on a request carrying this cookie."""
    record = sessions.session_by_token(engine, token, at_us=at_us)
    found = accounts.find_account(accounts.load_config(), record.username) if record else None
    return record is not None and record.belongs_to(found)


CHANGES = {
    "password": lambda: accounts.set_password("mia", "another-long-horse-battery"),
    "role": lambda: accounts.set_role("mia", ADMIN),
    "teams": lambda: accounts.set_teams("mia", "default", ["B"]),
    "logout-all": lambda: accounts.logout_everywhere("mia"),
    "removal": lambda: accounts.remove_account("mia"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_an_account_change_ends_its_logins_and_no_other(engine, auth_file, change):
    _, mias = log_in(engine, "mia")
    _, roots = log_in(engine, "root")
    assert still_open(engine, mias) and still_open(engine, roots)
    CHANGES[change]()
    assert not still_open(engine, mias)
    assert still_open(engine, roots)


def test_a_new_login_after_a_password_change_works(engine, auth_file):
    _, old = log_in(engine, "mia")
    accounts.set_password("mia", "another-long-horse-battery")
    _, new = log_in(engine, "mia")
    assert not still_open(engine, old) and still_open(engine, new)


def test_logout_ends_that_login_only(engine, auth_file):
    record, token = log_in(engine, "mia")
    _, other_browser = log_in(engine, "mia")
    sessions.revoke_session(engine, record.id, at_us=T0 + 10 * US_PER_SECOND)
    assert not still_open(engine, token)
    assert sessions.session_by_id(engine, record.id, at_us=T0 + 11 * US_PER_SECOND) is None
    assert still_open(engine, other_browser)
    sessions.revoke_token(engine, other_browser)
    assert not still_open(engine, other_browser)


def test_a_login_expires(engine, auth_file):
    record, token = log_in(engine, "mia")
    assert record.expires_us == T0 + 7 * DAY
    assert still_open(engine, token, at_us=T0 + 7 * DAY - 1)
    assert not still_open(engine, token, at_us=T0 + 7 * DAY)


def test_the_one_time_code_works_once_and_only_for_a_minute(engine, auth_file):
    mia = account("mia")
    started = sessions.start_session(engine, mia, lifetime_us=DAY, at_us=T0)
    code = started.handoff_code
    assert sessions.redeem_handoff(engine, code, at_us=T0 + 61 * US_PER_SECOND) is None
    fresh = sessions.start_session(engine, mia, lifetime_us=DAY, at_us=T0)
    assert sessions.redeem_handoff(engine, fresh.handoff_code, at_us=T0 + US_PER_SECOND)
    assert sessions.redeem_handoff(engine, fresh.handoff_code, at_us=T0 + US_PER_SECOND) is None
    assert sessions.redeem_handoff(engine, "made-up-code", at_us=T0) is None
    revoked = sessions.start_session(engine, mia, lifetime_us=DAY, at_us=T0)
    sessions.revoke_session(engine, revoked.record.id, at_us=T0)
    assert sessions.redeem_handoff(engine, revoked.handoff_code, at_us=T0 + 1) is None


def test_neither_code_nor_token_is_stored(engine, auth_file):
    started = sessions.start_session(engine, account("mia"), lifetime_us=DAY, at_us=T0)
    stored_code = _columns(engine)
    cookie = sessions.redeem_handoff(engine, started.handoff_code, at_us=T0 + 1)
    stored_token = _columns(engine)
    assert started.handoff_code not in stored_code and cookie.token not in stored_token
    assert len(cookie.token) >= 43  # 32 random bytes


def test_ended_logins_are_deleted_a_day_later(engine, auth_file):
    record, _ = log_in(engine, "mia")
    sessions.revoke_session(engine, record.id, at_us=T0)
    log_in(engine, "root", at_us=T0 + DAY + US_PER_SECOND)
    with engine.connect() as conn:
        users = conn.execute(select(LoginSession.username)).scalars().all()
    assert users == ["root"]


def _columns(engine) -> str:
    with engine.connect() as conn:
        rows = conn.execute(select(LoginSession.__table__)).all()
    return repr(rows)
