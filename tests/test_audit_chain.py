"""The audit trail's hash chain: verify finds the first changed, removed or cut-off event;
concurrent appenders never fork it; the migration chains existing events once."""

from __future__ import annotations

import hashlib
import json
import threading

import pytest
from sqlalchemy import delete, insert, select, text, update

from telemetry.audit import record_audit, verify_chain
from telemetry.cli import main
from telemetry.db import make_engine, migrations
from telemetry.models import AuditEvent, Organization
from telemetry.store import ensure_org

T0 = 1_760_000_000_000_000


def record(engine, count: int, org: str | None = None) -> None:
    with engine.begin() as conn:
        org_pk = None if org is None else ensure_org(conn, org)
        for n in range(count):
            record_audit(conn, org_pk, "setting.set", actor="ana", target=f"k{n}", at_us=T0 + n)


def expected_hash(seq, ts_us, org_slug, actor, action, target, details, previous) -> str:
    """The documented formula, computed independently of telemetry.audit."""
    content = [seq, ts_us, org_slug, actor, action, target, details, previous]
    text_ = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text_.encode()).hexdigest()


def test_hashes_follow_the_documented_formula_and_link_in_order(engine):
    record(engine, 2, org="acme")
    record(engine, 1)
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                AuditEvent.seq, AuditEvent.ts_us, AuditEvent.org_slug, AuditEvent.actor,
                AuditEvent.action, AuditEvent.target, AuditEvent.details,
                AuditEvent.prev_hash, AuditEvent.hash, AuditEvent.org_id,
            ).order_by(AuditEvent.seq)
        ).all()  # fmt: skip
    previous = ""
    assert [row.seq for row in rows] == [1, 2, 3]
    assert [row.org_slug for row in rows] == ["acme", "acme", ""]
    assert rows[2].org_id is None
    for row in rows:
        assert row.prev_hash == previous
        assert row.hash == expected_hash(*row[:7], previous)
        previous = row.hash
    assert verify_chain(engine).intact


@pytest.mark.parametrize("tamper", ["edit", "delete_middle", "delete_newest", "reorder"])
def test_verify_names_the_first_broken_event(engine, tamper, capsys, monkeypatch):
    record(engine, 5)
    with engine.begin() as conn:
        ids = dict(conn.execute(select(AuditEvent.seq, AuditEvent.id)).all())
        if tamper == "edit":
            conn.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(details='{"x": 1}'))
        elif tamper == "delete_middle":
            conn.execute(delete(AuditEvent).where(AuditEvent.seq == 3))
        elif tamper == "delete_newest":
            conn.execute(delete(AuditEvent).where(AuditEvent.seq == 5))
        else:  # swap the contents of two events
            conn.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(target="k3"))
            conn.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(target="k2"))
    check = verify_chain(engine)
    assert not check.intact
    expected = {"edit": 3, "delete_middle": 3, "delete_newest": 5, "reorder": 2}[tamper]
    assert check.broken_seq == expected
    if tamper in ("edit", "reorder"):
        assert check.broken_id == ids[expected]
    monkeypatch.setenv("TELEMETRY_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    assert main(["audit", "verify"]) == 1
    assert f"BROKEN at event #{expected}" in capsys.readouterr().err


def test_cli_orgs_rename_delete_then_audit_list_and_verify(engine, capsys, monkeypatch):
    monkeypatch.setenv("TELEMETRY_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    assert main(["orgs", "create", "acme", "--actor", "ana"]) == 0
    assert main(["orgs", "rename", "acme", "Acme Corp", "--actor", "ana"]) == 0
    assert main(["orgs", "delete", "acme", "--confirm", "acm"]) == 2
    assert "type the organization's slug 'acme' exactly" in capsys.readouterr().err
    assert main(["orgs", "delete", "acme", "--confirm", "acme", "--actor", "bo"]) == 0
    capsys.readouterr()
    assert main(["audit", "list", "--kind", "org", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(e["who"], e["what"], e["changes"]) for e in listed] == [
        ("bo", "org.delete", "name: Acme Corp → —; slug: acme → —; rows_removed=1"),
        ("ana", "org.rename", "name: acme → Acme Corp"),
        ("ana", "org.create", "name: — → acme; slug: — → acme"),
    ]
    assert main(["audit", "verify", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["checked"] == 3


def test_concurrent_appenders_keep_one_unbroken_chain(engine):
    url = engine.url.render_as_string(hide_password=False)
    writers = [make_engine(url) for _ in range(3)]
    errors = []

    def append(writer, name):
        try:
            for n in range(15):
                with writer.begin() as conn:
                    record_audit(conn, None, "setting.set", actor=name, target=str(n))
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=append, args=(w, f"w{i}")) for i, w in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for writer in writers:
        writer.dispose()
    assert errors == []
    check = verify_chain(engine)
    assert check.intact, check.problem
    assert check.checked == 45


OLD_AUDIT_TABLE = (
    "CREATE TABLE audit_event (id {pk}, org_id INTEGER NOT NULL REFERENCES organization(id), "
    "ts_us BIGINT NOT NULL, day INTEGER NOT NULL, actor VARCHAR(256) NOT NULL, "
    "action VARCHAR(64) NOT NULL, target VARCHAR(512) NOT NULL, details TEXT NOT NULL)"
)


def test_the_migration_chains_existing_events_and_frees_logins_from_organizations(engine):
    # The store as main left it: audit_event without chain columns, org_id required.
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_event"))
        conn.execute(text("DROP TABLE audit_chain"))
        pk = "SERIAL PRIMARY KEY" if conn.dialect.name == "postgresql" else "INTEGER PRIMARY KEY"
        conn.execute(text(OLD_AUDIT_TABLE.format(pk=pk)))
        conn.execute(text("DELETE FROM schema_migration WHERE name = 'm021_audit_chain'"))
        acme = ensure_org(conn, "acme")
        default = conn.execute(select(Organization.id).where(Organization.slug == "default"))
        default = default.scalar()
        old = [
            (default, T0 + 2, "ana", "login", "dashboard", '{"address": "10.0.0.1"}'),
            (acme, T0 + 1, "ana", "apikey.create", "tk_abc", '{"name": "ci"}'),
            (acme, T0 + 3, "bot", "login", "", "{}"),  # an imported record: not a dashboard login
        ]
        for org_pk, ts, actor, action, target, details in old:
            conn.execute(
                text(
                    "INSERT INTO audit_event (org_id, ts_us, day, actor, action, target, details)"
                    " VALUES (:o, :t, 0, :a, :c, :g, :d)"
                ),
                {"o": org_pk, "t": ts, "a": actor, "c": action, "g": target, "d": details},
            )
    assert migrations.apply(engine) == ["m021_audit_chain"]
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                AuditEvent.seq, AuditEvent.org_id, AuditEvent.org_slug, AuditEvent.action
            ).order_by(AuditEvent.seq)
        ).all()
    assert [tuple(row) for row in rows] == [
        (1, acme, "acme", "apikey.create"),
        (2, None, "", "login"),
        (3, acme, "acme", "login"),
    ]
    assert verify_chain(engine).intact
    with engine.begin() as conn:  # new events continue the chain
        record_audit(conn, acme, "org.rename", actor="ana", target="acme")
        conn.execute(insert(AuditEvent).values(org_id=acme, ts_us=T0, day=0, action="imported"))
    check = verify_chain(engine)
    assert check.intact and check.checked == 4  # the imported (unchained) row is not in it
