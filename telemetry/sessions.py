"""Dashboard logins kept server-side (``login_session``), so a login can end before its cookie.

A login accepted by the form becomes a row holding the account's login
generation (telemetry.accounts). The browser then trades a one-time code
(valid :data:`HANDOFF_LIFETIME_US`) for an HttpOnly cookie holding a random
token (telemetry.session_http); only SHA-256 hashes of the code and token are
stored. On every request the session's row is read again: a login is over once
it has expired, was revoked (logout), or its account's generation changed
(password, role or teams changed, ``users logout-all``, account removed).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, or_, select, update

from telemetry.accounts import Account
from telemetry.models import LoginSession
from telemetry.timeutil import US_PER_SECOND, now_us

HANDOFF_LIFETIME_US = 60 * US_PER_SECOND
# Ended logins are kept a day for the record, then deleted.
KEEP_ENDED_US = 24 * 3600 * US_PER_SECOND


@dataclass(frozen=True)
class LoginRecord:
    """A login that has not ended (yet): whose, of which account generation, until when."""

    id: int
    username: str
    generation: str
    expires_us: int

    def belongs_to(self, account: Account | None) -> bool:
        """Still the account's login: it exists and its generation has not changed since."""
        return (
            account is not None
            and account.username == self.username
            and account.login_generation == self.generation
        )


@dataclass(frozen=True)
class Started:
    record: LoginRecord
    # The one-time code the browser trades for its cookie (None: no cookie wanted).
    handoff_code: str | None


@dataclass(frozen=True)
class Cookie:
    token: str
    expires_us: int


def start_session(
    engine: Engine,
    account: Account,
    *,
    lifetime_us: int,
    address: str = "",
    with_handoff: bool = True,
    at_us: int | None = None,
) -> Started:
    """Record a new login of ``account`` (the password was just checked)."""
    at_us = now_us() if at_us is None else at_us
    code = secrets.token_urlsafe(32) if with_handoff else None
    values = {
        "username": account.username,
        "generation": account.login_generation,
        "address": address[:64],
        "created_us": at_us,
        "expires_us": at_us + lifetime_us,
        "handoff_hash": _digest(code) if code else None,
        "handoff_expires_us": at_us + HANDOFF_LIFETIME_US if code else None,
    }
    with engine.begin() as conn:
        _forget_ended(conn, at_us)
        session_id = conn.execute(insert(LoginSession).values(**values)).inserted_primary_key[0]
    record = LoginRecord(
        session_id, account.username, account.login_generation, values["expires_us"]
    )
    return Started(record=record, handoff_code=code)


def redeem_handoff(engine: Engine, code: str, *, at_us: int | None = None) -> Cookie | None:
    """Trade a fresh one-time code for the login's cookie token, once; else ``None``."""
    at_us = now_us() if at_us is None else at_us
    code_hash = _digest(code)
    with engine.begin() as conn:
        row = conn.execute(
            select(LoginSession.id, LoginSession.expires_us).where(
                LoginSession.handoff_hash == code_hash,
                LoginSession.handoff_expires_us > at_us,
                LoginSession.revoked_us.is_(None),
                LoginSession.token_hash.is_(None),
                LoginSession.expires_us > at_us,
            )
        ).first()
        if row is None:
            return None
        token = secrets.token_urlsafe(32)
        # Conditional on the code still being there: of two redemptions, one wins.
        traded = conn.execute(
            update(LoginSession)
            .where(LoginSession.id == row.id, LoginSession.handoff_hash == code_hash)
            .values(token_hash=_digest(token), handoff_hash=None, handoff_expires_us=None)
        )
        if traded.rowcount != 1:
            return None
    return Cookie(token=token, expires_us=row.expires_us)


def session_by_id(
    engine: Engine, session_id: int, *, at_us: int | None = None
) -> LoginRecord | None:
    """The login ``session_id`` if it has neither expired nor been revoked."""
    return _active(engine, LoginSession.id == session_id, at_us)


def session_by_token(engine: Engine, token: str, *, at_us: int | None = None) -> LoginRecord | None:
    """The login a cookie token stands for, if it has neither expired nor been revoked."""
    if not token:
        return None
    return _active(engine, LoginSession.token_hash == _digest(token), at_us)


def revoke_session(engine: Engine, session_id: int, *, at_us: int | None = None) -> None:
    """End one login (logout): its cookie, wherever copied, opens nothing any more."""
    _revoke(engine, LoginSession.id == session_id, at_us)


def revoke_token(engine: Engine, token: str, *, at_us: int | None = None) -> None:
    if token:
        _revoke(engine, LoginSession.token_hash == _digest(token), at_us)


def _active(engine: Engine, which, at_us: int | None) -> LoginRecord | None:
    at_us = now_us() if at_us is None else at_us
    with engine.connect() as conn:
        row = conn.execute(
            select(
                LoginSession.id,
                LoginSession.username,
                LoginSession.generation,
                LoginSession.expires_us,
            ).where(which, LoginSession.revoked_us.is_(None), LoginSession.expires_us > at_us)
        ).first()
    return LoginRecord(*row) if row else None


def _revoke(engine: Engine, which, at_us: int | None) -> None:
    at_us = now_us() if at_us is None else at_us
    with engine.begin() as conn:
        conn.execute(
            update(LoginSession)
            .where(which, LoginSession.revoked_us.is_(None))
            .values(revoked_us=at_us, handoff_hash=None, handoff_expires_us=None)
        )


def _forget_ended(conn, at_us: int) -> None:
    cutoff = at_us - KEEP_ENDED_US
    conn.execute(
        delete(LoginSession).where(
            or_(LoginSession.expires_us < cutoff, LoginSession.revoked_us < cutoff)
        )
    )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
