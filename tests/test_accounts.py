"""Dashboard accounts: bcrypt hashes, a cookie key per install, the users CLI, the first admin."""

from __future__ import annotations

import io
import stat

import bcrypt
import pytest
import yaml

from telemetry import accounts, startup
from telemetry.accounts import ADMIN, MANAGER, AccountsError
from telemetry.cli import main


@pytest.fixture
def auth_file(tmp_path, monkeypatch):
    path = tmp_path / "auth.yaml"
    monkeypatch.setenv(accounts.AUTH_FILE_ENV, str(path))
    return path


def stored(path) -> dict:
    return yaml.safe_load(path.read_text())


def test_passwords_are_stored_as_bcrypt_hashes_only(auth_file):
    accounts.add_account("ana", role=ADMIN, password="a-secret-pass")
    text = auth_file.read_text()
    assert "a-secret-pass" not in text
    hashed = stored(auth_file)["credentials"]["usernames"]["ana"]["password"]
    assert hashed.startswith("$2b$")
    assert bcrypt.checkpw(b"a-secret-pass", hashed.encode())
    assert not bcrypt.checkpw(b"another-pass", hashed.encode())


def test_each_install_gets_its_own_generated_cookie_key(tmp_path):
    keys = []
    for install in ("one", "two"):
        path = tmp_path / install / "auth.yaml"
        accounts.add_account("ana", role=ADMIN, password="a-secret-pass", path=path)
        keys.append(stored(path)["cookie"]["key"])
    assert keys[0] != keys[1]
    assert all(len(key) >= 40 for key in keys)  # 32 random bytes, URL-safe base64


def test_accounts_file_is_readable_by_its_owner_only(auth_file):
    accounts.add_account("ana", role=ADMIN, password="a-secret-pass")
    assert stat.S_IMODE(auth_file.stat().st_mode) == 0o600


def test_manager_teams_are_kept_per_organization(auth_file):
    account = accounts.add_account(
        "mia", role=MANAGER, password="a-secret-pass", teams={"acme": ["Beta", "Alpha", "Beta"]}
    )
    assert account.teams == (("acme", ("Alpha", "Beta")),)
    assert account.teams_in("acme") == ("Alpha", "Beta")
    assert account.teams_in("default") == ()
    assert account.orgs == ("acme",)
    assert accounts.list_accounts() == [account]


@pytest.mark.parametrize(
    ("username", "options", "message"),
    [
        ("Bad Name", {"role": ADMIN}, "is not allowed"),
        ("ana", {"role": "owner"}, "role 'owner' does not exist"),
        ("ana", {"role": ADMIN, "teams": {"default": ["A"]}}, "admins see every team"),
        ("ana", {"role": ADMIN, "password": "short"}, "shorter than 8 characters"),
        ("ana", {"role": ADMIN, "password": " padded-pass "}, "starts or ends with a space"),
    ],
)
def test_bad_account_requests_say_what_is_wrong(auth_file, username, options, message):
    options = {"password": "a-secret-pass", **options}
    with pytest.raises(AccountsError, match=message):
        accounts.add_account(username, **options)


def test_the_last_admin_cannot_be_removed(auth_file):
    accounts.add_account("ana", role=ADMIN, password="a-secret-pass")
    with pytest.raises(AccountsError, match="last admin"):
        accounts.remove_account("ana")


def test_unreadable_accounts_file_names_the_line(auth_file):
    auth_file.write_text("cookie:\n  name: x\n  key: [unclosed\n")
    with pytest.raises(AccountsError, match=rf"{auth_file}:\d+: not valid YAML"):
        accounts.load_config()


def test_cli_users_add_list_passwd_remove(auth_file, capsys, monkeypatch):
    assert main(["users", "add", "ana", "--role", "admin"]) == 0
    printed = capsys.readouterr().out
    (password,) = [line.split(": ", 1)[1] for line in printed.splitlines() if "password:" in line]
    hashed = stored(auth_file)["credentials"]["usernames"]["ana"]["password"]
    assert accounts.password_matches(password, hashed)

    monkeypatch.setattr("sys.stdin", io.StringIO("mias-chosen-pass\n"))
    arguments = ["users", "add", "mia", "--role", "manager", "--team", "Avalon", "--org", "acme"]
    assert main([*arguments, "--password-stdin"]) == 0
    assert "password:" not in capsys.readouterr().out
    hashed = stored(auth_file)["credentials"]["usernames"]["mia"]["password"]
    assert accounts.password_matches("mias-chosen-pass", hashed)

    assert main(["users", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "ana  admin    all teams",
        "mia  manager  acme: Avalon",
    ]

    assert main(["users", "passwd", "mia"]) == 0
    new_password = capsys.readouterr().out.split("password: ", 1)[1].split()[0]
    hashed = stored(auth_file)["credentials"]["usernames"]["mia"]["password"]
    assert accounts.password_matches(new_password, hashed)
    assert not accounts.password_matches("mias-chosen-pass", hashed)

    assert main(["users", "remove", "mia"]) == 0
    assert list(stored(auth_file)["credentials"]["usernames"]) == ["ana"]


def test_cli_errors_are_one_line_with_exit_code_2(auth_file, capsys):
    assert main(["users", "list"]) == 2
    error = capsys.readouterr().err
    assert error == (
        f"error: {auth_file}: no accounts file; create the first account with "
        "`python -m telemetry users add admin --role admin` (or start the server once)\n"
    )
    accounts.add_account("ana", role=ADMIN, password="a-secret-pass")
    assert main(["users", "remove", "ghost"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: no account 'ghost'") and "Traceback" not in error


def test_first_start_creates_an_admin_and_prints_the_password_only_once(
    sqlite_engine, auth_file, monkeypatch
):
    monkeypatch.setenv(startup.DEMO_ENV, "0")
    first, second = io.StringIO(), io.StringIO()
    startup.prepare_server(sqlite_engine, out=first)
    startup.prepare_server(sqlite_engine, out=second)
    (line,) = [text for text in first.getvalue().splitlines() if "password:" in text]
    password = line.split("password: ", 1)[1].strip()
    hashed = stored(auth_file)["credentials"]["usernames"]["admin"]["password"]
    assert accounts.password_matches(password, hashed)
    assert password not in second.getvalue() and "password:" not in second.getvalue()
    assert [a.username for a in accounts.list_accounts()] == ["admin"]


def test_first_start_leaves_accounts_made_with_the_cli_alone(sqlite_engine, auth_file, monkeypatch):
    monkeypatch.setenv(startup.DEMO_ENV, "0")
    accounts.add_account("ana", role=ADMIN, password="a-secret-pass")
    out = io.StringIO()
    startup.prepare_server(sqlite_engine, out=out)
    assert "password:" not in out.getvalue()
    assert [a.username for a in accounts.list_accounts()] == ["ana"]
