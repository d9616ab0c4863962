"""Dashboard accounts: bcrypt hashes, a cookie key per install, the users CLI, the first admin."""

from __future__ import annotations

import io
import stat

import bcrypt
import pytest
import yaml
from zxcvbn import zxcvbn

from telemetry import accounts, startup
from telemetry.accounts import ADMIN, MANAGER, AccountsError
from telemetry.cli import main
from telemetry.db import DATABASE_URL_ENV, init_store, make_engine
from telemetry.store import ensure_org, ensure_team


@pytest.fixture
def auth_file(tmp_path, monkeypatch):
    path = tmp_path / "auth.yaml"
    monkeypatch.setenv(accounts.AUTH_FILE_ENV, str(path))
    team_store(tmp_path, monkeypatch, {})  # the CLI records every change in the audit log
    return path


def team_store(tmp_path, monkeypatch, teams: dict[str, list[str]]) -> None:
    """A store (pointed at by the environment) holding these organizations and teams."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    engine = make_engine(url)
    init_store(engine)
    with engine.begin() as conn:
        for slug, names in teams.items():
            org = ensure_org(conn, slug)
            for name in names:
                ensure_team(conn, org, name)
    engine.dispose()


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
        ("ana", {"role": ADMIN, "password": "short"}, "has 5 characters; use at least 12"),
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


def test_cli_users_add_list_passwd_remove(auth_file, capsys, monkeypatch, tmp_path):
    team_store(tmp_path, monkeypatch, {"default": [], "acme": ["Avalon"]})
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


WEAK_PASSWORDS = [
    ("12345678", "has 8 characters; use at least 12"),
    ("password", "has 8 characters; use at least 12"),
    ("1q2w3e4r5t6y", "in a list of common passwords"),
    ("password1234", "in a list of common passwords"),
    ("qwertyuiopasdf", "too easy to guess"),
    ("abcdefghijklmnop", "too easy to guess"),
    ("aaaaaaaaaaaaaaaa", "too easy to guess"),
]


@pytest.mark.parametrize("role", [ADMIN, MANAGER])
@pytest.mark.parametrize(("password", "message"), WEAK_PASSWORDS)
def test_weak_passwords_are_refused_for_every_role(auth_file, role, password, message):
    with pytest.raises(AccountsError, match=message):
        accounts.add_account("ana", role=role, password=password)
    accounts.add_account("ana", role=role, password="correct-horse-battery")
    before = stored(auth_file)["credentials"]["usernames"]["ana"]["password"]
    with pytest.raises(AccountsError, match=message):
        accounts.set_password("ana", password)
    assert stored(auth_file)["credentials"]["usernames"]["ana"]["password"] == before


def test_a_password_made_of_the_account_name_is_too_easy(auth_file):
    with pytest.raises(AccountsError, match="too easy to guess"):
        accounts.add_account("mortimer", role=ADMIN, password="mortimer2026!", name="Mortimer")


def test_cli_refuses_a_weak_password_and_keeps_the_old_one(auth_file, capsys, monkeypatch):
    accounts.add_account("ana", role=ADMIN, password="correct-horse-battery")
    monkeypatch.setattr("sys.stdin", io.StringIO("12345678\n"))
    assert main(["users", "passwd", "ana", "--password-stdin"]) == 2
    assert "use at least 12" in capsys.readouterr().err
    hashed = stored(auth_file)["credentials"]["usernames"]["ana"]["password"]
    assert accounts.password_matches("correct-horse-battery", hashed)


def test_generated_passwords_pass_the_rules():
    for _ in range(50):
        password = accounts.generate_password()
        assert len(password) >= 12 and zxcvbn(password)["score"] >= 3


def test_first_admin_password_passes_the_rules(sqlite_engine, auth_file, monkeypatch):
    monkeypatch.setenv(startup.DEMO_ENV, "0")
    out = io.StringIO()
    startup.prepare_server(sqlite_engine, out=out)
    password = out.getvalue().split("password: ", 1)[1].split()[0]
    assert len(password) >= 12 and zxcvbn(password)["score"] >= 3


def generation_of(path, username: str) -> str:
    return stored(path)["credentials"]["usernames"][username]["login_generation"]


CHANGES = {
    "password": lambda: accounts.set_password("mia", "another-long-horse-battery"),
    "role": lambda: accounts.set_role("mia", ADMIN),
    "teams": lambda: accounts.set_teams("mia", "acme", ["Beta"]),
    "logout-all": lambda: accounts.logout_everywhere("mia"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_account_changes_give_a_new_login_generation(auth_file, change):
    accounts.add_account("root", role=ADMIN, password="correct-horse-battery")
    accounts.add_account(
        "mia", role=MANAGER, password="correct-horse-battery", teams={"acme": ["Alpha"]}
    )
    before = {name: generation_of(auth_file, name) for name in ("root", "mia")}
    assert len(before["mia"]) == 16 and before["mia"] != before["root"]
    CHANGES[change]()
    assert generation_of(auth_file, "mia") not in ("", before["mia"])
    assert generation_of(auth_file, "root") == before["root"]  # other accounts untouched


def test_an_account_added_again_under_the_same_name_gets_a_new_generation(auth_file):
    accounts.add_account("root", role=ADMIN, password="correct-horse-battery")
    accounts.add_account("mia", role=MANAGER, password="correct-horse-battery")
    first = generation_of(auth_file, "mia")
    accounts.remove_account("mia")
    accounts.add_account("mia", role=MANAGER, password="correct-horse-battery")
    assert generation_of(auth_file, "mia") != first


def test_role_and_team_changes(auth_file):
    accounts.add_account("root", role=ADMIN, password="correct-horse-battery")
    accounts.add_account(
        "mia", role=MANAGER, password="correct-horse-battery", teams={"acme": ["Alpha"]}
    )
    mia = accounts.set_teams("mia", "default", ["Zeta", "Eta", "Zeta"])
    assert mia.teams == (("acme", ("Alpha",)), ("default", ("Eta", "Zeta")))
    mia = accounts.set_teams("mia", "acme", [])
    assert mia.teams == (("default", ("Eta", "Zeta")),)
    assert accounts.set_role("mia", ADMIN).teams == ()
    assert "teams" not in stored(auth_file)["credentials"]["usernames"]["mia"]
    with pytest.raises(AccountsError, match="admin and sees every team"):
        accounts.set_teams("mia", "acme", ["Alpha"])
    accounts.set_role("root", MANAGER)  # mia is an admin now: root may step down
    with pytest.raises(AccountsError, match="'mia' is the last admin"):
        accounts.set_role("mia", MANAGER)


def test_cli_edit_logout_all_and_their_errors(auth_file, capsys, monkeypatch, tmp_path):
    team_store(tmp_path, monkeypatch, {"default": ["Avalon", "Borealis"]})
    accounts.add_account("root", role=ADMIN, password="correct-horse-battery")
    accounts.add_account("mia", role=MANAGER, password="correct-horse-battery")
    before = generation_of(auth_file, "mia")
    assert main(["users", "edit", "mia", "--team", "Avalon", "--team", "Borealis"]) == 0
    assert capsys.readouterr().out == (
        "'mia' is now manager (default: Avalon, Borealis); its existing logins ended\n"
    )
    assert main(["users", "edit", "mia", "--no-teams"]) == 0
    assert "is now manager (no teams)" in capsys.readouterr().out
    assert main(["users", "edit", "mia", "--role", "admin"]) == 0
    assert "is now admin (all teams)" in capsys.readouterr().out
    middle = generation_of(auth_file, "mia")
    assert main(["users", "logout-all", "mia"]) == 0
    assert capsys.readouterr().out == "every login of 'mia' ended\n"
    assert len({before, middle, generation_of(auth_file, "mia")}) == 3
    assert main(["users", "edit", "mia"]) == 2
    assert "nothing to change" in capsys.readouterr().err
    assert main(["users", "logout-all", "ghost"]) == 2
    assert "no account 'ghost'" in capsys.readouterr().err


def test_users_add_refuses_a_team_that_does_not_exist_and_lists_the_known_ones(
    auth_file, capsys, monkeypatch, tmp_path
):
    team_store(tmp_path, monkeypatch, {"default": ["Sales", "Support"]})
    assert main(["users", "add", "mgr", "--role", "manager", "--team", "Sals"]) == 2
    error = capsys.readouterr().err
    assert "no team 'Sals' in organization 'default' (known teams: Sales, Support)" in error
    assert not auth_file.exists() or "mgr" not in auth_file.read_text()
    # The only organization is the one meant when --org is left out.
    assert main(["users", "add", "mgr", "--role", "manager", "--team", "Sales"]) == 0
    assert accounts.list_accounts()[0].teams_in("default") == ("Sales",)


def test_users_add_and_edit_ask_for_org_when_there_are_several(
    auth_file, capsys, monkeypatch, tmp_path
):
    team_store(tmp_path, monkeypatch, {"default": ["Sales"], "acme": ["Sales"]})
    assert main(["users", "add", "mgr", "--role", "manager", "--team", "Sales"]) == 2
    assert "there are 2 organizations (acme, default): say which one" in capsys.readouterr().err
    arguments = ["users", "add", "mgr", "--role", "manager", "--team", "Sales", "--org", "acme"]
    assert main(arguments) == 0
    capsys.readouterr()
    assert main(["users", "edit", "mgr", "--team", "Sales"]) == 2
    assert "say which one the teams belong to with --org" in capsys.readouterr().err
    assert main(["users", "edit", "mgr", "--team", "Sales", "--org", "nowhere"]) == 2
    assert "organization 'nowhere' does not exist (known: acme, default)" in capsys.readouterr().err
