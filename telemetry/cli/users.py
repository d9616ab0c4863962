"""``users``: add, list, edit and remove dashboard accounts; passwords, logins, throttles."""

from __future__ import annotations

import argparse
import sys

from telemetry import account_admin, accounts, login_throttle
from telemetry.cli import forget
from telemetry.cli.common import CommandError, open_store
from telemetry.db import DEFAULT_ORG
from telemetry.passwords import RULES_TEXT
from telemetry.store import UnknownOrganization, org_id, organization_slugs, team_names


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "users",
        help="manage dashboard accounts (admins and managers)",
        description=(
            "Manage the people who can log in to the dashboard. Accounts live in "
            f"{accounts.DEFAULT_AUTH_FILE.relative_to(accounts.PROJECT_ROOT)} "
            f"(or the file named by {accounts.AUTH_FILE_ENV}); passwords are stored as "
            "bcrypt hashes. Without --password-stdin a random password is generated "
            f"and printed once. Passwords: {RULES_TEXT}. Changing a password, role or "
            "teams, or removing an account, ends that account's existing logins at "
            "their next request (every browser, copied cookies included). Teams must "
            "exist in the organization. Every change is written to the audit log "
            "(python -m telemetry audit list)."
        ),
    )
    commands = parser.add_subparsers(dest="users_command", metavar="ACTION", required=True)

    add = commands.add_parser(
        "add",
        help="create an account",
        description=(
            "Create an account. An admin sees every organization and team; a manager "
            "sees only the teams given with --team (in the organization given with --org). "
            "The teams must exist (telemetry or the user directory creates them); --org is "
            "required with --team when there is more than one organization."
        ),
    )
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=accounts.ROLES)
    add.add_argument(
        "--team",
        action="append",
        default=[],
        metavar="NAME",
        help="a team the manager may see (repeat for several)",
    )
    add.add_argument(
        "--org",
        default=None,
        metavar="SLUG",
        help="organization of the --team names (default: the only one, when there is one)",
    )
    add.add_argument("--name", default="", help="display name (default: the username)")
    _password_stdin_option(add)
    _actor_option(add)
    add.set_defaults(func=run_add)

    listing = commands.add_parser("list", help="list accounts, roles and teams")
    listing.set_defaults(func=run_list)

    remove = commands.add_parser("remove", help="delete an account")
    remove.add_argument("username")
    _actor_option(remove)
    remove.set_defaults(func=run_remove)

    passwd = commands.add_parser(
        "passwd",
        help="set a new password for an account (ends its logins)",
        description=f"Set a new password ({RULES_TEXT}); the account's existing logins end.",
    )
    passwd.add_argument("username")
    _password_stdin_option(passwd)
    _actor_option(passwd)
    passwd.set_defaults(func=run_passwd)

    edit = commands.add_parser(
        "edit",
        help="change an account's role or teams (ends its logins)",
        description=(
            "Change an account's role and/or a manager's teams in one organization; "
            "the account's existing logins end. --team replaces the manager's teams "
            "in --org with the ones given; --no-teams removes them all there."
        ),
    )
    edit.add_argument("username")
    edit.add_argument("--role", choices=accounts.ROLES, help="the new role")
    teams = edit.add_mutually_exclusive_group()
    teams.add_argument(
        "--team",
        action="append",
        default=[],
        metavar="NAME",
        help="a team the manager may see in --org (repeat for several)",
    )
    teams.add_argument("--no-teams", action="store_true", help="the manager sees no team in --org")
    edit.add_argument(
        "--org",
        default=None,
        metavar="SLUG",
        help="organization of the teams (default: the only one, when there is one)",
    )
    _actor_option(edit)
    edit.set_defaults(func=run_edit)

    logout_all = commands.add_parser(
        "logout-all",
        help="end every login of an account, in every browser",
        description=(
            "End every existing login of the account: open dashboards return to the "
            "login form at their next click and saved or copied cookies open nothing."
        ),
    )
    logout_all.add_argument("username")
    _actor_option(logout_all)
    logout_all.set_defaults(func=run_logout_all)

    unlock = commands.add_parser(
        "unlock",
        help="clear the wrong-password delays of a user name (or an address)",
        description=(
            "Wrong passwords make the login form wait, longer after each one (never a "
            "lockout: the rightful user's own address is not held back by others' "
            "failures). This forgets the failures recorded for USERNAME, from every "
            "address, or with --address those of one client address."
        ),
    )
    unlock.add_argument("username", nargs="?", help="the user name (as typed in the form)")
    unlock.add_argument("--address", metavar="IP", help="a client address to clear instead")
    unlock.set_defaults(func=run_unlock)

    forget.register_forget(commands)


def _actor_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--actor", default="", help="who does this, for the audit log (default: OS user)"
    )


def _password_stdin_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input instead of generating one",
    )


def _password(args: argparse.Namespace) -> tuple[str, bool]:
    """The password to set and whether it was generated (and must be printed)."""
    if not args.password_stdin:
        return accounts.generate_password(), True
    text = sys.stdin.readline().rstrip("\r\n")
    if not text:
        raise CommandError("--password-stdin: standard input was empty; pipe the password in")
    return text, False


def _checked_org(org: str | None, teams: list[str]) -> str:
    """The organization of ``teams``, after checking it and them in the store.

    Without --org: the only organization, or an error naming them when there are
    several. Every team must exist there (an error lists the known ones).
    """
    if not teams:
        return org or DEFAULT_ORG
    with open_store().connect() as conn:
        slugs = organization_slugs(conn)
        if org is None:
            if len(slugs) != 1:
                known = ", ".join(slugs) or "none"
                raise CommandError(
                    f"there are {len(slugs)} organizations ({known}): say which one the "
                    "teams belong to with --org SLUG"
                )
            org = slugs[0]
        try:
            known_teams = team_names(conn, org_id(conn, org))
        except UnknownOrganization as error:
            raise CommandError(str(error)) from None
    unknown = [name for name in teams if name not in known_teams]
    if unknown:
        listed = ", ".join(known_teams) or "none yet"
        raise CommandError(
            f"no team {', '.join(map(repr, unknown))} in organization {org!r} "
            f"(known teams: {listed}); teams appear when telemetry or the user directory "
            "(python -m telemetry ingest users.csv) names them"
        )
    return org


def run_add(args: argparse.Namespace) -> int:
    org = _checked_org(args.org, args.team)
    password, generated = _password(args)
    teams = {org: args.team} if args.team else {}
    try:
        account = account_admin.add(
            open_store(),
            args.username,
            role=args.role,
            password=password,
            teams=teams,
            name=args.name,
            actor=args.actor,
        ).account
    except accounts.AccountsError as error:
        raise CommandError(str(error)) from None
    print(f"created {account.role} {account.username!r} in {accounts.accounts_path()}")
    if account.role == accounts.MANAGER:
        if account.teams:
            print(f"teams: {_teams_text(account)}")
        else:
            print("warning: this manager has no teams and will see no data", file=sys.stderr)
    if generated:
        print(f"password: {password}")
        print("(shown once; pass it on privately)")
    return 0


def run_list(args: argparse.Namespace) -> int:
    try:
        found = accounts.list_accounts()
    except accounts.AccountsError as error:
        raise CommandError(str(error)) from None
    if not found:
        print(f"no accounts in {accounts.accounts_path()}")
        return 0
    width = max(len(account.username) for account in found)
    for account in found:
        scope = "all teams" if account.is_admin else (_teams_text(account) or "no teams")
        print(f"{account.username:<{width}}  {account.role:<7}  {scope}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    try:
        account_admin.remove(open_store(), args.username, actor=args.actor)
    except accounts.AccountsError as error:
        raise CommandError(str(error)) from None
    print(f"removed {args.username!r}")
    return 0


def run_passwd(args: argparse.Namespace) -> int:
    password, generated = _password(args)
    try:
        account_admin.reset_password(
            open_store(), args.username, password=password, actor=args.actor
        )
    except accounts.AccountsError as error:
        raise CommandError(str(error)) from None
    print(f"password of {args.username!r} changed; its existing logins ended")
    if generated:
        print(f"password: {password}")
        print("(shown once; pass it on privately)")
    return 0


def run_edit(args: argparse.Namespace) -> int:
    if args.role is None and not args.team and not args.no_teams:
        raise CommandError("nothing to change: give --role, --team or --no-teams")
    org = _checked_org(args.org, args.team)
    teams = {org: args.team} if (args.team or args.no_teams) else None
    try:
        account = account_admin.edit(
            open_store(),
            args.username,
            role=args.role,
            org=org if teams is not None else None,
            teams=args.team if teams is not None else None,
            actor=args.actor,
        ).account
    except accounts.AccountsError as error:
        raise CommandError(str(error)) from None
    scope = "all teams" if account.is_admin else (_teams_text(account) or "no teams")
    print(f"{account.username!r} is now {account.role} ({scope}); its existing logins ended")
    return 0


def run_logout_all(args: argparse.Namespace) -> int:
    try:
        account_admin.logout_everywhere(open_store(), args.username, actor=args.actor)
    except accounts.AccountsError as error:
        raise CommandError(str(error)) from None
    print(f"every login of {args.username!r} ended")
    return 0


def run_unlock(args: argparse.Namespace) -> int:
    if bool(args.username) == bool(args.address):
        raise CommandError("give a USERNAME or --address IP (one of them)")
    engine = open_store()
    if args.address:
        cleared = login_throttle.unlock_address(engine, args.address.strip())
        print(f"wrong-password delays of address {args.address!r} cleared ({cleared} records)")
    else:
        name = args.username.strip().lower()
        cleared = login_throttle.unlock_name(engine, name)
        print(f"wrong-password delays of {name!r} cleared ({cleared} records)")
    return 0


def _teams_text(account: accounts.Account) -> str:
    return "; ".join(f"{org}: {', '.join(names)}" for org, names in account.teams if names)
