"""Who may see and change which rules and budgets: admins all, managers their own teams only.

Checked here, in the functions every caller goes through (page, CLI), so a
crafted request cannot reach past it.
"""

from __future__ import annotations

from collections.abc import Sequence

from telemetry.accounts import ADMIN, Account


class AccessDenied(PermissionError):
    """The account may not see or change this rule, budget or channel."""


def cli_account(actor: str) -> Account:
    """The CLI runs with the machine's rights: an admin named after the OS user."""
    return Account(username=actor, name=actor, role=ADMIN)


def allowed_teams(account: Account, org: str) -> tuple[str, ...] | None:
    """Teams the account may scope to in ``org``; ``None`` = every team (admin)."""
    return None if account.is_admin else account.teams_in(org)


def may_see_teams(account: Account, org: str, teams: Sequence[str] | None) -> bool:
    """True when a rule or budget scoped to ``teams`` (None = all) is within the account's teams."""
    allowed = allowed_teams(account, org)
    if allowed is None:
        return True
    return bool(teams) and set(teams) <= set(allowed)


def check_teams(account: Account, org: str, teams: Sequence[str] | None, what: str) -> None:
    """Raise :class:`AccessDenied` unless ``teams`` are within the account's teams."""
    if may_see_teams(account, org, teams):
        return
    allowed = ", ".join(allowed_teams(account, org) or ()) or "none"
    raise AccessDenied(
        f"a manager's {what} must be scoped to their own teams ({allowed} in {org}); "
        "pick one or more of them, or ask an admin"
    )


def check_admin(account: Account, what: str) -> None:
    if not account.is_admin:
        raise AccessDenied(f"only an admin can {what}")
