"""Admin-only actions: the server-side check every Settings action makes, refusals audited.

Hiding a page or a button is not access control: each action of the Settings page
(and the price form) calls :func:`require_admin` with the signed-in account before
it changes anything. A refusal is written to the audit trail (kind ``denied``).
The CLI runs with the files' and database's own rights and passes no account.
"""

from __future__ import annotations

from sqlalchemy import Engine

from telemetry.accounts import Account
from telemetry.audit import current_actor, record_audit

DENIED = "denied"


class AdminOnly(PermissionError):
    """A dashboard account that is not an admin tried an admin action."""


def require_admin(engine: Engine, account: Account | None, action: str, target: str = "") -> None:
    """Return when ``account`` is an admin; else audit the attempt and raise :class:`AdminOnly`."""
    if account is not None and account.is_admin:
        return
    who = account.username if account is not None else "(not logged in)"
    with engine.begin() as conn:
        details = {"attempted": action, "role": account.role if account else ""}
        record_audit(conn, None, DENIED, actor=who, target=target, details=details)
    raise AdminOnly(f"{who} may not do {action!r}: only admins can change settings. Ask an admin.")


def acting(
    engine: Engine, account: Account | None, actor: str, action: str, target: str = ""
) -> str:
    """Who does ``action``: the checked admin ``account`` (dashboard), else ``actor`` (CLI)."""
    if account is None:
        return current_actor(actor)
    require_admin(engine, account, action, target)
    return account.username
