"""Dashboard accounts (people who log in, not the agents' end users), kept in one YAML file.

The file is the one streamlit-authenticator reads (``cookie`` + ``credentials``),
plus keys of ours per user: ``roles`` (``[admin]`` or ``[manager]``), for
managers ``teams`` (organization slug -> team names), and ``login_generation``:
a random value replaced whenever the account's existing logins must end
(password, role or teams changed, ``users logout-all``), which every login
session records and is checked against on each request (telemetry.sessions).
Passwords are bcrypt hashes; the cookie key is generated when the file is
created, never a default.
Default location ``data/auth.yaml`` (git-ignored); ``TELEMETRY_AUTH_FILE``
overrides it. No Streamlit here: the CLI and the server's first start use it too.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt
import yaml

from telemetry import passwords
from telemetry.db import PROJECT_ROOT
from telemetry.private_files import private_dir

AUTH_FILE_ENV = "TELEMETRY_AUTH_FILE"
DEFAULT_AUTH_FILE = PROJECT_ROOT / "data" / "auth.yaml"
ADMIN = "admin"
MANAGER = "manager"
ROLES = (ADMIN, MANAGER)
FIRST_ADMIN = "admin"
COOKIE_NAME = "telemetry_auth"
COOKIE_EXPIRY_DAYS = 7
LOGIN_GENERATION = "login_generation"
MIN_PASSWORD_LENGTH = passwords.MIN_PASSWORD_LENGTH
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.@-]{0,63}$")
_HEADER = (
    "# Dashboard accounts of the telemetry dashboard: bcrypt password hashes and the\n"
    "# login cookie's secret key. Keep this file private (mode 600, outside git).\n"
    "# Manage it with: python -m telemetry users --help\n"
)


class AccountsError(ValueError):
    """A problem with the accounts file or an account request, said for a person."""


@dataclass(frozen=True)
class Account:
    """A dashboard account: who may log in, with which role, seeing which teams."""

    username: str
    name: str
    role: str
    # Managers only: ((org slug, (team, ...)), ...), sorted. Admins see every team.
    teams: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Replaced whenever existing logins must end; a login session of another value is over.
    login_generation: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def orgs(self) -> tuple[str, ...]:
        """Organizations where a manager has at least one team."""
        return tuple(org for org, names in self.teams if names)

    def teams_in(self, org: str) -> tuple[str, ...]:
        """A manager's teams in ``org`` (empty when none)."""
        return dict(self.teams).get(org, ())


def accounts_path() -> Path:
    """Where the accounts file lives: ``TELEMETRY_AUTH_FILE`` or ``data/auth.yaml``."""
    configured = os.environ.get(AUTH_FILE_ENV)
    return Path(configured) if configured else DEFAULT_AUTH_FILE


# --- passwords ----------------------------------------------------------------


def generate_password() -> str:
    """A random password for a new account that passes the password rules."""
    return passwords.generate_password()


def check_password_rules(password: str, *, known_words: Sequence[str] = ()) -> None:
    """Raise :class:`AccountsError` when ``password`` cannot be used, saying why."""
    try:
        passwords.check_password_rules(password, known_words=known_words)
    except passwords.PasswordRejected as error:
        raise AccountsError(str(error)) from None


def hash_password(password: str, *, known_words: Sequence[str] = ()) -> str:
    """The bcrypt hash of a password that passes the rules (else :class:`AccountsError`)."""
    check_password_rules(password, known_words=known_words)
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def password_matches(password: str, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), hashed.encode())
    except ValueError:
        return False


# --- the file -------------------------------------------------------------------


def new_config() -> dict[str, Any]:
    """An empty accounts configuration with a freshly generated cookie key."""
    return {
        "cookie": {
            "name": COOKIE_NAME,
            "key": secrets.token_urlsafe(32),
            "expiry_days": COOKIE_EXPIRY_DAYS,
        },
        "credentials": {"usernames": {}},
    }


def load_config(path: Path | None = None) -> dict[str, Any]:
    """Read and check the accounts file; raise :class:`AccountsError` saying what to fix."""
    path = path or accounts_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AccountsError(
            f"{path}: no accounts file; create the first account with "
            "`python -m telemetry users add admin --role admin` (or start the server once)"
        ) from None
    try:
        config = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise AccountsError(f"{where}: not valid YAML ({error}); fix or restore the file") from None
    _check_config(path, config)
    return config


def _check_config(path: Path, config: Any) -> None:
    if not isinstance(config, dict):
        raise AccountsError(f"{path}: expected a mapping with 'cookie' and 'credentials'")
    cookie = config.get("cookie")
    if not isinstance(cookie, dict) or not cookie.get("key") or not cookie.get("name"):
        raise AccountsError(
            f"{path}: 'cookie' must have a 'name' and a generated 'key'; "
            "move the file away and add the accounts again to get a new one"
        )
    users = (config.get("credentials") or {}).get("usernames")
    if users is None:
        config.setdefault("credentials", {})["usernames"] = {}
        return
    if not isinstance(users, dict):
        raise AccountsError(f"{path}: 'credentials.usernames' must be a mapping of accounts")
    for username, entry in users.items():
        if not isinstance(entry, dict) or not entry.get("password"):
            raise AccountsError(f"{path}: account {username!r} has no password hash")
        role = _role_of(entry)
        if role not in ROLES:
            raise AccountsError(
                f"{path}: account {username!r} has role {role!r}; use one of {', '.join(ROLES)}"
            )


def save_config(config: Mapping[str, Any], path: Path | None = None) -> None:
    """Write the file atomically, readable by its owner only."""
    body = _HEADER + yaml.safe_dump(dict(config), sort_keys=False, allow_unicode=True)
    _write(path or accounts_path(), body.encode("utf-8"))


def file_content(path: Path | None = None) -> bytes | None:
    """The accounts file as it is now (None when there is none), for :func:`put_back`."""
    path = path or accounts_path()
    return path.read_bytes() if path.exists() else None


def put_back(content: bytes | None, path: Path | None = None) -> None:
    """Make the accounts file what :func:`file_content` read (remove it if it was none)."""
    path = path or accounts_path()
    if content is None:
        path.unlink(missing_ok=True)
    else:
        _write(path, content)


def _write(path: Path, body: bytes) -> None:
    private_dir(path.parent)
    handle, temporary = tempfile.mkstemp(prefix=".auth-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(body)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _load_or_new(path: Path) -> dict[str, Any]:
    return load_config(path) if path.exists() else new_config()


def _users(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return config["credentials"]["usernames"]


def _role_of(entry: Mapping[str, Any]) -> str:
    roles = entry.get("roles") or []
    return roles[0] if isinstance(roles, list) and roles else ""


# --- accounts -----------------------------------------------------------------


def account_from_entry(username: str, entry: Mapping[str, Any]) -> Account:
    raw_teams = entry.get("teams") or {}
    teams = tuple(
        sorted(
            (str(org), tuple(sorted({str(t) for t in names or ()})))
            for org, names in raw_teams.items()
        )
    )
    return Account(
        username=username,
        name=str(entry.get("name") or username),
        role=_role_of(entry),
        teams=teams if _role_of(entry) == MANAGER else (),
        login_generation=str(entry.get(LOGIN_GENERATION) or ""),
    )


def find_account(config: Mapping[str, Any], username: str | None) -> Account | None:
    """The account called ``username`` in a loaded configuration, or ``None``."""
    if not username:
        return None
    entry = _users(config).get(username.lower())
    return account_from_entry(username.lower(), entry) if entry else None


def list_accounts(path: Path | None = None) -> list[Account]:
    config = load_config(path)
    return [account_from_entry(name, entry) for name, entry in sorted(_users(config).items())]


def check_username(username: str) -> str:
    if not _USERNAME.match(username):
        raise AccountsError(
            f"username {username!r} is not allowed: use 1-64 lowercase letters, digits, "
            "'.', '_', '-' or '@', starting with a letter or digit"
        )
    return username


def add_account(
    username: str,
    *,
    role: str,
    password: str,
    teams: Mapping[str, Sequence[str]] | None = None,
    name: str = "",
    path: Path | None = None,
) -> Account:
    """Create an account (the file too, with a new cookie key, if it does not exist yet)."""
    path = path or accounts_path()
    check_username(username)
    if role not in ROLES:
        raise AccountsError(f"role {role!r} does not exist; use one of {', '.join(ROLES)}")
    if role == ADMIN and any(teams.values() if teams else ()):
        raise AccountsError("admins see every team; --team is only for managers")
    config = _load_or_new(path)
    if username in _users(config):
        raise AccountsError(
            f"account {username!r} already exists in {path}; "
            f"remove it first or reset its password with `users passwd {username}`"
        )
    entry: dict[str, Any] = {
        "name": name or username,
        "email": "",
        "password": hash_password(password, known_words=(username, name)),
        "roles": [role],
        # A fresh value: logins of an earlier account of the same name stay over.
        LOGIN_GENERATION: _new_generation(),
    }
    if role == MANAGER:
        entry["teams"] = {org: sorted(set(names)) for org, names in (teams or {}).items() if names}
    _users(config)[username] = entry
    save_config(config, path)
    return account_from_entry(username, entry)


def remove_account(username: str, *, path: Path | None = None) -> None:
    """Delete an account; the last admin cannot be removed (nobody could manage the rest)."""
    path = path or accounts_path()
    config = load_config(path)
    users = _users(config)
    if username not in users:
        raise AccountsError(f"no account {username!r} in {path} (see `users list`)")
    admins = [name for name, entry in users.items() if _role_of(entry) == ADMIN]
    if admins == [username]:
        raise AccountsError(f"{username!r} is the last admin; add another admin before removing it")
    del users[username]
    save_config(config, path)


def set_password(username: str, password: str, *, path: Path | None = None) -> None:
    """Set a new password; the account's existing logins end."""
    with _changing(username, path) as entry:
        entry["password"] = hash_password(password, known_words=(username, entry.get("name", "")))


def set_role(
    username: str,
    role: str,
    *,
    teams: Mapping[str, Sequence[str]] | None = None,
    path: Path | None = None,
) -> Account:
    """Make the account an admin or a manager (of ``teams``); its existing logins end.

    The last admin cannot become a manager (nobody could manage the accounts).
    """
    if role not in ROLES:
        raise AccountsError(f"role {role!r} does not exist; use one of {', '.join(ROLES)}")
    if role == ADMIN and any(teams.values() if teams else ()):
        raise AccountsError("admins see every team; --team is only for managers")
    path = path or accounts_path()
    with _changing(username, path) as entry:
        if _role_of(entry) == ADMIN and role == MANAGER and _admins(path) == [username]:
            raise AccountsError(f"{username!r} is the last admin; make another account admin first")
        entry["roles"] = [role]
        if role == ADMIN:
            entry.pop("teams", None)
        else:
            entry["teams"] = _clean_teams({**(entry.get("teams") or {}), **(teams or {})})
    return _account(username, path)


def set_teams(
    username: str, org: str, teams: Sequence[str], *, path: Path | None = None
) -> Account:
    """Set a manager's teams in organization ``org`` (empty: none there); logins end."""
    with _changing(username, path) as entry:
        if _role_of(entry) != MANAGER:
            raise AccountsError(
                f"{username!r} is an admin and sees every team; teams are only for managers"
            )
        entry["teams"] = _clean_teams({**(entry.get("teams") or {}), org: list(teams)})
    return _account(username, path)


def logout_everywhere(username: str, *, path: Path | None = None) -> None:
    """End every existing login of the account (all browsers, copied cookies included)."""
    with _changing(username, path):
        pass


@contextmanager
def _changing(username: str, path: Path | None) -> Iterator[dict[str, Any]]:
    """Load the file, yield the account's entry to change, give it a new login generation
    (so its existing logins end at their next request) and save."""
    path = path or accounts_path()
    config = load_config(path)
    entry = _users(config).get(username)
    if entry is None:
        raise AccountsError(f"no account {username!r} in {path} (see `users list`)")
    yield entry
    entry[LOGIN_GENERATION] = _new_generation()
    save_config(config, path)


def _account(username: str, path: Path | None) -> Account:
    found = find_account(load_config(path or accounts_path()), username)
    assert found is not None, username
    return found


def _admins(path: Path) -> list[str]:
    return [name for name, entry in _users(load_config(path)).items() if _role_of(entry) == ADMIN]


def _clean_teams(teams: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    return {str(org): sorted(set(names)) for org, names in teams.items() if names}


def _new_generation() -> str:
    return secrets.token_hex(8)


def ensure_first_admin(path: Path | None = None) -> tuple[str, str] | None:
    """On a fresh install (no accounts file), create ``admin`` with a random password.

    Returns ``(username, password)`` when it created the account, so the caller
    can show the password once; ``None`` when the file already existed.
    """
    path = path or accounts_path()
    if path.exists():
        return None
    password = generate_password()
    add_account(FIRST_ADMIN, role=ADMIN, password=password, name="Administrator", path=path)
    return FIRST_ADMIN, password


def authenticator_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """What ``streamlit_authenticator.Authenticate`` needs, as a private copy it may mutate."""
    users = {
        name: {
            "name": entry.get("name") or name,
            "email": entry.get("email") or "",
            "password": entry["password"],
            "roles": list(entry.get("roles") or []),
        }
        for name, entry in _users(config).items()
    }
    cookie = config["cookie"]
    return {
        "credentials": {"usernames": users},
        "cookie_name": str(cookie["name"]),
        "cookie_key": str(cookie["key"]),
        "cookie_expiry_days": float(cookie.get("expiry_days", COOKIE_EXPIRY_DAYS)),
    }
