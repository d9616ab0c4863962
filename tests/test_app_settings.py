"""The Settings and Audit log pages in AppTest: an admin adds a manager (bad input says why and
adds nothing), the audit log shows before -> after; a manager reads only their own events."""

from __future__ import annotations

from sqlalchemy import insert

from telemetry import accounts
from telemetry.audit_log import AuditQuery, list_audit
from telemetry.logins import record_auth_event
from telemetry.models import Team
from telemetry.store import org_id
from tests.app_support import TEAM_A, all_text, signed_in_app
from tests.failing_store import REASON, refuse_audit_events


def add_teams(engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Team).values(org_id=org_id(conn, "default"), name=TEAM_A))


def settings_page(username: str):
    at = signed_in_app(username).run()
    return at.switch_page("../pages/settings.py").run()


def test_an_admin_adds_a_manager_and_bad_input_adds_nothing(app_env):
    add_teams(app_env.engine)
    at = settings_page("root")
    assert not at.exception
    assert [tab.label for tab in at.tabs] == [
        "Accounts",
        "API keys",
        "Organizations",
        "Model prices",
        "General",
        "Data",
    ]
    assert at.selectbox(key="data_org") is not None  # the Data tab draws the retention form
    at.text_input(key="add_username").input("Lea")
    at.selectbox(key="add_role").select("manager")
    at.multiselect(key="add_teams").select(TEAM_A)
    at.checkbox(key="add_generate").uncheck()
    at.button(key="add_account").click().run()
    assert "the password is empty" in " ".join(e.value for e in at.error)
    assert accounts.find_account(accounts.load_config(), "lea") is None

    at.text_input(key="add_password").input("violet-lantern-harbor-91")
    at.button(key="add_account").click().run()
    assert not at.exception
    lea = accounts.find_account(accounts.load_config(), "lea")
    assert lea.role == "manager" and lea.teams == (("default", (TEAM_A,)),)
    assert accounts.password_matches("violet-lantern-harbor-91", _stored_hash("lea"))
    assert "Account 'lea' created." in [s.value for s in at.success]

    at.switch_page("../pages/audit.py").run()
    assert not at.exception
    (table,) = [frame.value for frame in at.dataframe]
    row = table[table["what"] == "account.add"].iloc[0]
    assert row["who"] == "root" and row["target"] == "lea"
    assert "role: — → manager" in row["changes"]


def test_a_change_the_database_cannot_store_says_so_and_changes_nothing(app_env):
    refuse_audit_events(app_env.engine)
    before = accounts.accounts_path().read_bytes()
    at = settings_page("root")
    at.text_input(key="add_username").input("lea")
    at.selectbox(key="add_role").select("admin")
    at.button(key="add_account").click().run()
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert "nothing was changed" in error and REASON in error
    assert accounts.accounts_path().read_bytes() == before


def _stored_hash(username: str) -> str:
    config = accounts.load_config()
    return config["credentials"]["usernames"][username]["password"]


def test_a_manager_reads_only_their_own_events(app_env):
    record_auth_event(app_env.engine, "login", "mia")
    record_auth_event(app_env.engine, "login", "root")
    record_auth_event(app_env.engine, "login_failed", "mallory")
    at = signed_in_app("mia").run()
    at.switch_page("../pages/audit.py").run()
    assert not at.exception
    (table,) = [frame.value for frame in at.dataframe]
    assert set(table["who"]) == {"mia"}
    assert "mallory" not in all_text(at)
    assert list_audit(app_env.engine, AuditQuery()).total == 3
