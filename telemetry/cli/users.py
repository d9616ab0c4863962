"""``users``: add, list, remove dashboard accounts and reset their passwords."""

from __future__ import annotations

import argparse
import sys

from telemetry import accounts
from telemetry.cli.common import CommandError
from telemetry.db import DEFAULT_ORG


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "users",
        help="manage dashboard accounts (admins and managers)",
        description=(
            "Manage the people who can log in to the dashboard. Accounts live in "
            f"{accounts.DEFAULT_AUTH_FILE.relative_to(accounts.PROJECT_ROOT)} "
            f"(or the file named by {accounts.AUTH_FILE_ENV}); passwords are stored as "
            "bcrypt hashes. Without --password-stdin a random password is generated "
            "and printed once."
        ),
    )
    commands = parser.add_subparsers(dest="users_command", metavar="ACTION", required=True)

    add = commands.add_parser(
        "add",
        help="create an account",
        description=(
            "Create an account. An admin sees every organization and team; a manager "
            "sees only the teams given with --team (in the organization given with --org)."
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
        default=DEFAULT_ORG,
        metavar="SLUG",
        help=f"organization of the --team names (default: {DEFAULT_ORG})",
    )
    add.add_argument("--name", default="", help="display name (default: the username)")
    _password_stdin_option(add)
    add.set_defaults(func=run_add)

    listing = commands.add_parser("list", help="list accounts, roles and teams")
    listing.set_defaults(func=run_list)

    remove = commands.add_parser("remove", help="delete an account")
    remove.add_argument("username")
    remove.set_defaults(func=run_remove)

    passwd = commands.add_parser("passwd", help="set a new password for an account")
    passwd.add_argument("username")
    _password_stdin_option(passwd)
    passwd.set_defaults(func=run_passwd)


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


def run_add(args: argparse.Namespace) -> int:
    password, generated = _password(args)
    teams = {args.org: args.team} if args.team else {}
    try:
        account = accounts.add_account(
            args.username, role=args.role, password=password, teams=teams, name=args.name
        )
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
        accounts.remove_account(args.username)
    except accounts.AccountsError as error:
        raise CommandError(str(error)) from None
    print(f"removed {args.username!r}")
    return 0


def run_passwd(args: argparse.Namespace) -> int:
    password, generated = _password(args)
    try:
        accounts.set_password(args.username, password)
    except accounts.AccountsError as error:
        raise CommandError(str(error)) from None
    print(f"password of {args.username!r} changed")
    if generated:
        print(f"password: {password}")
        print("(shown once; pass it on privately)")
    return 0


def _teams_text(account: accounts.Account) -> str:
    return "; ".join(f"{org}: {', '.join(names)}" for org, names in account.teams if names)
