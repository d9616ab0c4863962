"""Dashboard accounts changed by an admin (Settings page and ``users`` CLI), each change audited.

telemetry.accounts keeps the accounts file; this module checks what it cannot
(teams and organizations exist in the store, a password was given), applies the
change and writes the audit event with the before -> after of role, teams and
name. Passwords never reach the audit trail. Every check runs before anything is
written, so a refused request leaves the file as it was.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, select

from telemetry import accounts
from telemetry.accounts import MANAGER, Account, AccountsError
from telemetry.admin_access import acting
from telemetry.audit import changes, record_audit
from telemetry.models import Team
from telemetry.store import UnknownOrganization, org_id


@dataclass(frozen=True)
class Done:
    """An account after the change, and the generated password to show once (else None)."""

    account: Account | None
    password: str | None = None


def view(account: Account | None) -> dict | None:
    """What the audit trail records of an account (never its password)."""
    if account is None:
        return None
    return {
        "role": account.role,
        "name": account.name,
        "teams": {org: list(names) for org, names in account.teams},
    }


def known_teams(engine: Engine, org: str) -> list[str]:
    """The team names of organization ``org`` (empty when it has none or does not exist)."""
    with engine.connect() as conn:
        try:
            org_pk = org_id(conn, org)
        except UnknownOrganization:
            return []
        return sorted(conn.execute(select(Team.name).where(Team.org_id == org_pk)).scalars())


def check_teams(engine: Engine, teams: Mapping[str, Sequence[str]]) -> None:
    """Refuse an organization or team the store does not know, naming the known ones."""
    with engine.connect() as conn:
        for org, names in teams.items():
            try:
                org_pk = org_id(conn, org)
            except UnknownOrganization as error:
                raise AccountsError(str(error)) from None
            known = set(conn.execute(select(Team.name).where(Team.org_id == org_pk)).scalars())
            unknown = sorted(set(names) - known)
            if unknown:
                shown = ", ".join(sorted(known)) or "none yet"
                raise AccountsError(
                    f"unknown team {', '.join(map(repr, unknown))} in organization {org!r}; "
                    f"its teams are: {shown}"
                )


def _password(password: str | None, generate: bool) -> tuple[str, str | None]:
    """The password to set, and the same again if generated (to show once)."""
    if generate:
        made = accounts.generate_password()
        return made, made
    if not password:
        raise AccountsError("the password is empty: type one, or let one be generated")
    return password, None


@contextmanager
def _audited(engine: Engine, actor: str, action: str, username: str) -> Iterator[dict]:
    """``with _audited(...) as event:`` change the accounts file, then set
    ``event["details"]``: the change and its audit event are kept together or not at all.

    The audit transaction opens first, so a database that cannot be reached refuses
    the change before the file is touched; if the event cannot be stored after the
    file was saved, the file is put back as it was.
    """
    before = accounts.file_content()
    event: dict = {}
    try:
        with engine.begin() as conn:
            conn.execute(select(1))  # reach the database before changing anything
            yield event
            if "details" in event:
                details = event["details"]
                record_audit(conn, None, action, actor=actor, target=username, details=details)
    except BaseException:
        if accounts.file_content() != before:
            accounts.put_back(before)
        raise


def _find(username: str) -> Account | None:
    return accounts.find_account(accounts.load_config(), username)


def add(
    engine: Engine,
    username: str,
    *,
    role: str,
    teams: Mapping[str, Sequence[str]] | None = None,
    name: str = "",
    password: str | None = None,
    generate: bool = False,
    account: Account | None = None,
    actor: str = "",
) -> Done:
    """Create an account (``generate``: a random password, returned to show once)."""
    who = acting(engine, account, actor, "account.add", username)
    teams = {org: list(names) for org, names in (teams or {}).items() if names}
    if role == MANAGER:
        check_teams(engine, teams)
    secret, shown = _password(password, generate)
    with _audited(engine, who, "account.add", username) as event:
        created = accounts.add_account(username, role=role, password=secret, teams=teams, name=name)
        event["details"] = changes(None, view(created))
    return Done(created, shown)


def edit(
    engine: Engine,
    username: str,
    *,
    role: str | None = None,
    org: str | None = None,
    teams: Sequence[str] | None = None,
    account: Account | None = None,
    actor: str = "",
) -> Done:
    """Change the role and/or a manager's teams in ``org``; the account's logins end.

    The last admin cannot be demoted (telemetry.accounts refuses it).
    """
    who = acting(engine, account, actor, "account.edit", username)
    before = _find(username)
    if before is None:
        raise AccountsError(f"no account {username!r} (see the list of accounts)")
    new_teams = {org: list(teams)} if org is not None and teams is not None else None
    if new_teams and any(new_teams.values()):
        check_teams(engine, new_teams)
    if (role is None or role == before.role) and new_teams is None:
        return Done(before)
    with _audited(engine, who, "account.edit", username) as event:
        if role is not None and role != before.role:
            after = accounts.set_role(username, role, teams=new_teams)
        else:
            after = accounts.set_teams(username, org, list(teams))
        event["details"] = changes(view(before), view(after))
    return Done(after)


def reset_password(
    engine: Engine,
    username: str,
    *,
    password: str | None = None,
    generate: bool = False,
    account: Account | None = None,
    actor: str = "",
) -> Done:
    """Set a new password (typed, or generated and returned once); the account's logins end."""
    who = acting(engine, account, actor, "account.password", username)
    secret, shown = _password(password, generate)
    with _audited(engine, who, "account.password", username) as event:
        accounts.set_password(username, secret)
        event["details"] = {"logins_ended": True}
    return Done(_find(username), shown)


def remove(
    engine: Engine, username: str, *, account: Account | None = None, actor: str = ""
) -> Done:
    """Delete an account (never the last admin); its open logins end at their next request."""
    who = acting(engine, account, actor, "account.remove", username)
    if account is not None and account.username == username:
        raise AccountsError("you cannot remove your own account here; ask another admin")
    before = _find(username)
    with _audited(engine, who, "account.remove", username) as event:
        accounts.remove_account(username)
        event["details"] = changes(view(before), None)
    return Done(None)


def logout_everywhere(
    engine: Engine, username: str, *, account: Account | None = None, actor: str = ""
) -> None:
    who = acting(engine, account, actor, "account.logout_all", username)
    with _audited(engine, who, "account.logout_all", username) as event:
        accounts.logout_everywhere(username)
        event["details"] = {"logins_ended": True}
