"""The admin console's functions (Settings page and CLI): each change audited with its
before -> after, bad input refused with nothing half-applied, non-admins refused and audited."""

from __future__ import annotations

import json

import pytest
import yaml
from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError, OperationalError

from telemetry import account_admin, accounts, apikeys, orgs, settings
from telemetry.accounts import ADMIN, MANAGER, AccountsError
from telemetry.admin_access import AdminOnly
from telemetry.audit import verify_chain
from telemetry.audit_log import AuditQuery, describe_details, list_audit
from telemetry.db import make_engine
from telemetry.models import AuditEvent, Organization, Team, Trace
from telemetry.store import ensure_org
from tests.failing_store import REASON, refuse_audit_events

PASSWORD = "correct-horse-battery"


@pytest.fixture
def store(engine, tmp_path, monkeypatch):
    monkeypatch.setenv(accounts.AUTH_FILE_ENV, str(tmp_path / "auth.yaml"))
    accounts.add_account("root", role=ADMIN, password=PASSWORD)
    with engine.begin() as conn:
        for org, teams in (("default", ("Avalon", "Borealis")), ("acme", ("Ops",))):
            org_pk = ensure_org(conn, org)
            conn.execute(insert(Team), [{"org_id": org_pk, "name": t} for t in teams])
    return engine


def events(engine) -> list[tuple[str, str, str, dict]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                AuditEvent.actor, AuditEvent.action, AuditEvent.target, AuditEvent.details
            ).order_by(AuditEvent.seq)
        ).all()
    return [(who, what, target, json.loads(details)) for who, what, target, details in rows]


def admin() -> accounts.Account:
    return accounts.find_account(accounts.load_config(), "root")


def test_account_changes_are_audited_with_before_and_after(store):
    done = account_admin.add(
        store, "mia", role=MANAGER, teams={"default": ["Avalon"]}, generate=True, account=admin()
    )
    assert accounts.password_matches(done.password, _hash("mia"))  # the one shown once
    account_admin.edit(store, "mia", org="default", teams=["Avalon", "Borealis"], account=admin())
    account_admin.edit(store, "mia", role=ADMIN, account=admin())
    account_admin.reset_password(store, "mia", password="violet-lantern-harbor-91", actor="ops")
    account_admin.remove(store, "mia", account=admin())
    assert events(store) == [
        (
            "root",
            "account.add",
            "mia",
            {
                "before": None,
                "after": {"role": "manager", "name": "mia", "teams": {"default": ["Avalon"]}},
            },
        ),
        (
            "root",
            "account.edit",
            "mia",
            {
                "before": {"teams": {"default": ["Avalon"]}},
                "after": {"teams": {"default": ["Avalon", "Borealis"]}},
            },
        ),
        (
            "root",
            "account.edit",
            "mia",
            {
                "before": {"role": "manager", "teams": {"default": ["Avalon", "Borealis"]}},
                "after": {"role": "admin", "teams": {}},
            },
        ),
        ("ops", "account.password", "mia", {"logins_ended": True}),
        (
            "root",
            "account.remove",
            "mia",
            {"before": {"role": "admin", "name": "mia", "teams": {}}, "after": None},
        ),
    ]
    assert "violet-lantern" not in json.dumps(events(store)) and done.password not in str(
        events(store)
    )
    assert verify_chain(store).intact


def _hash(username: str) -> str:
    return yaml.safe_load(accounts.accounts_path().read_text())["credentials"]["usernames"][
        username
    ]["password"]


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"username": "mia", "password": ""}, "password is empty"),
        ({"username": "mia", "password": "password1234"}, "common passwords"),
        ({"username": "mia", "password": "mia-mia-mia-1"}, "too easy to guess"),
        ({"username": "root", "password": PASSWORD}, "already exists"),
        (
            {"username": "mia", "password": PASSWORD, "teams": {"default": ["Zeta"]}},
            "unknown team 'Zeta'",
        ),
        ({"username": "mia", "password": PASSWORD, "teams": {"nowhere": ["Ops"]}}, "nowhere"),
    ],
)
def test_bad_account_requests_say_why_and_change_nothing(store, request_, message):
    before = accounts.accounts_path().read_bytes()
    with pytest.raises(AccountsError, match=message):
        account_admin.add(store, role=MANAGER, account=admin(), **request_)
    assert accounts.accounts_path().read_bytes() == before
    assert events(store) == []


def test_the_last_admin_can_be_neither_removed_nor_demoted(store):
    account_admin.add(store, "mia", role=MANAGER, password=PASSWORD, actor="ops")
    with pytest.raises(AccountsError, match="last admin"):
        account_admin.remove(store, "root", actor="ops")
    with pytest.raises(AccountsError, match="last admin"):
        account_admin.edit(store, "root", role=MANAGER, actor="ops")
    assert admin().is_admin
    assert [e[1] for e in events(store)] == ["account.add"]


def test_a_managers_crafted_requests_are_refused_and_audited(store):
    account_admin.add(store, "mia", role=MANAGER, password=PASSWORD, actor="ops")
    mia = accounts.find_account(accounts.load_config(), "mia")
    attempts = [
        lambda: account_admin.add(store, "eve", role=ADMIN, password=PASSWORD, account=mia),
        lambda: account_admin.edit(store, "mia", role=ADMIN, account=mia),
        lambda: apikeys.create_key(store, "default", "stolen", account=mia),
        lambda: orgs.delete_org(store, "acme", confirm="acme", account=mia),
        lambda: settings.set_setting(store, settings.PUBLIC_URL, "https://evil", account=mia),
    ]
    for attempt in attempts:
        with pytest.raises(AdminOnly):
            attempt()
    assert accounts.find_account(accounts.load_config(), "eve") is None
    assert not accounts.find_account(accounts.load_config(), "mia").is_admin
    assert apikeys.list_keys(store) == []
    assert settings.stored_settings(store).get(settings.PUBLIC_URL) is None
    denied = [(who, what, details["attempted"]) for who, what, _, details in events(store)[1:]]
    assert denied == [
        ("mia", "denied", "account.add"),
        ("mia", "denied", "account.edit"),
        ("mia", "denied", "apikey.create"),
        ("mia", "denied", "org.delete"),
        ("mia", "denied", "setting.set"),
    ]


def test_keys_orgs_and_settings_changes_are_audited(store):
    key, info = apikeys.create_key(store, "acme", "ci", account=admin())
    apikeys.revoke_key(store, info.prefix, account=admin())
    with pytest.raises(LookupError, match="no API key"):
        apikeys.revoke_key(store, "tk_nothere", account=admin())
    orgs.rename_org(store, "acme", "Acme Corp", account=admin())
    settings.set_setting(store, settings.PUBLIC_URL, "https://t.example.com", account=admin())
    settings.set_setting(store, "smtp_password", "hunter2-hunter2", account=admin())
    found = [(what, target, details) for _, what, target, details in events(store)]
    assert found == [
        (
            "apikey.create",
            info.prefix,
            {"before": None, "after": {"name": "ci", "prefix": info.prefix, "state": "active"}},
        ),
        (
            "apikey.revoke",
            info.prefix,
            {"before": {"state": "active"}, "after": {"state": "revoked"}},
        ),
        ("org.rename", "acme", {"before": {"name": "acme"}, "after": {"name": "Acme Corp"}}),
        (
            "setting.set",
            "public_url",
            {"before": {"public_url": "(empty)"}, "after": {"public_url": "https://t.example.com"}},
        ),
        (
            "setting.set",
            "smtp_password",
            {"before": {"smtp_password": "(empty)"}, "after": {"smtp_password": "(set)"}},
        ),
    ]
    assert key not in str(found) and "hunter2" not in str(found)
    text = describe_details(json.dumps(found[2][2]))
    assert text == "name: acme → Acme Corp"
    # Empty values read as a dash, never as "{}" or nothing.
    emptied = {"before": {"teams": {"demo": ["Sales"]}, "team": "x"}, "after": {"teams": {}}}
    assert describe_details(json.dumps(emptied)) == "teams: {demo=[Sales]} → —; team: x → —"
    assert describe_details(json.dumps({"role": "admin", "team": ""})) == "role=admin, team=—"


def test_deleting_an_organization_needs_its_slug_and_keeps_the_chain(store):
    with store.begin() as conn:
        acme = conn.execute(select(Organization.id).where(Organization.slug == "acme")).scalar()
        conn.execute(insert(AuditEvent).values(org_id=acme, ts_us=1, day=0, action="imported"))
    apikeys.create_key(store, "acme", "ci", actor="ops")
    with pytest.raises(ValueError, match="type the organization's slug"):
        orgs.delete_org(store, "acme", confirm="acm", actor="ops")
    with pytest.raises(ValueError, match="cannot be deleted"):
        orgs.delete_org(store, "default", confirm="default", actor="ops")
    assert [o.slug for o in orgs.list_orgs(store)] == ["acme", "default"]
    assert orgs.delete_org(store, "acme", confirm="acme", actor="ops") > 0
    assert [o.slug for o in orgs.list_orgs(store)] == ["default"]
    with store.connect() as conn:
        left = conn.execute(select(AuditEvent.action, AuditEvent.org_id, AuditEvent.org_slug))
        left = sorted(tuple(row) for row in left)
        assert conn.execute(select(Trace.id)).first() is None
    # The imported event went with the organization; the dashboard's trail stayed.
    assert left == [("apikey.create", None, "acme"), ("org.delete", None, "")]
    assert verify_chain(store).intact
    listed = list_audit(store, AuditQuery(org="default"))
    assert list(listed.events["organization"]) == ["(dashboard)", "acme"]


def test_listing_filters_by_kind_actor_and_organization(store):
    from telemetry.logins import record_auth_event

    record_auth_event(store, "login_failed", "mallory", details={"reason": "unknown_user"})
    apikeys.create_key(store, "acme", "ci", actor="ana")
    apikeys.create_key(store, "default", "ci", actor="bob")
    every = list_audit(store, AuditQuery())
    assert every.total == 3
    assert list(list_audit(store, AuditQuery(kind="access")).events["who"]) == ["mallory"]
    assert list(list_audit(store, AuditQuery(actor="ana")).events["organization"]) == ["acme"]
    # An organization's listing: its events and the dashboard's, not other organizations'.
    in_default = list_audit(store, AuditQuery(org="default")).events
    assert sorted(in_default["who"]) == ["bob", "mallory"]
    with pytest.raises(ValueError, match="unknown kind"):
        list_audit(store, AuditQuery(kind="nope"))


def test_the_report_item_lists_an_admins_view_or_only_the_managers_own_events(store):
    from datetime import UTC, datetime

    from telemetry.filters import Filters
    from telemetry.logins import record_auth_event
    from telemetry.reports.catalog import item
    from telemetry.reports.model import ReportFormat, ReportRequest
    from telemetry.timeutil import now_us

    record_auth_event(store, "login", "mia")
    apikeys.create_key(store, "default", "ci", actor="root")
    today = datetime.now(UTC).date()

    def rows(teams, by):
        filters = Filters(start=today, end=today, org="default", teams=teams)
        request = ReportRequest(filters, ReportFormat.HTML, ("audit.events",), by, now_us())
        block, _ = item("audit.events").build(store, request)
        return sorted(block.frame["who"])

    assert rows(None, "root") == ["mia", "root"]
    assert rows(("Avalon",), "mia") == ["mia"]


def test_a_reset_or_removed_account_is_logged_out_at_its_next_request(store):
    from telemetry import sessions

    account_admin.add(store, "mia", role=MANAGER, password=PASSWORD, actor="ops")
    account_admin.add(store, "lea", role=MANAGER, password=PASSWORD, actor="ops")

    def login_of(name):
        found = accounts.find_account(accounts.load_config(), name)
        return sessions.start_session(store, found, lifetime_us=10**9, with_handoff=False).record

    mia, lea = login_of("mia"), login_of("lea")
    assert mia.belongs_to(accounts.find_account(accounts.load_config(), "mia"))
    account_admin.reset_password(store, "mia", generate=True, account=admin())
    account_admin.remove(store, "lea", account=admin())
    config = accounts.load_config()
    assert not mia.belongs_to(accounts.find_account(config, "mia"))
    assert not lea.belongs_to(accounts.find_account(config, "lea"))


def test_an_account_change_whose_audit_event_cannot_be_stored_is_undone(store):
    account_admin.add(store, "mia", role=MANAGER, password=PASSWORD, actor="ops")
    refuse_audit_events(store)
    before = accounts.accounts_path().read_bytes()
    changes = [
        lambda: account_admin.add(store, "lea", role=ADMIN, password=PASSWORD, actor="ops"),
        lambda: account_admin.edit(store, "mia", role=ADMIN, actor="ops"),
        lambda: account_admin.edit(store, "mia", org="default", teams=["Avalon"], actor="ops"),
        lambda: account_admin.reset_password(store, "mia", generate=True, actor="ops"),
        lambda: account_admin.remove(store, "mia", actor="ops"),
        lambda: account_admin.logout_everywhere(store, "mia", actor="ops"),
    ]
    for change in changes:
        with pytest.raises(DBAPIError, match=REASON):
            change()
        assert accounts.accounts_path().read_bytes() == before
    assert [e[1] for e in events(store)] == ["account.add"]


def test_an_account_change_is_refused_before_the_file_when_the_database_is_unreachable(
    store, tmp_path
):
    before = accounts.accounts_path().read_bytes()
    unreachable = make_engine(f"sqlite:///{tmp_path / 'no-such-dir' / 'telemetry.db'}")
    with pytest.raises(OperationalError):
        account_admin.add(unreachable, "lea", role=ADMIN, password=PASSWORD, actor="ops")
    assert accounts.accounts_path().read_bytes() == before
