"""API keys and organizations: shown once, stored hashed, revocable; the CLI around them."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from telemetry import apikeys
from telemetry.cli import main
from telemetry.db import DATABASE_URL_ENV
from telemetry.models import ApiKey, AuditEvent, Organization


def cli(engine, monkeypatch, capsys, *args) -> tuple[int, str]:
    monkeypatch.setenv(DATABASE_URL_ENV, engine.url.render_as_string(hide_password=False))
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_a_key_is_stored_only_as_its_sha256_and_authenticates_its_organization(engine):
    key, info = apikeys.create_key(engine, "default", "agent A", actor="ops")
    assert key.startswith("tk_") and len(key) > 40
    with engine.connect() as conn:
        row = conn.execute(select(ApiKey)).mappings().one()
        default_id = conn.execute(
            select(Organization.id).where(Organization.slug == "default")
        ).scalar()
        assert apikeys.authenticate(conn, key) == (default_id, info.id, key[:12])
        assert apikeys.authenticate(conn, key + "x") is None
        assert apikeys.authenticate(conn, "") is None
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {str(v) for v in row.values()}
    assert row["prefix"] == key[:12]


def test_a_revoked_key_no_longer_authenticates(engine):
    key, info = apikeys.create_key(engine, "default")
    revoked = apikeys.revoke_key(engine, info.prefix, actor="ops")
    assert revoked.revoked_us is not None and not revoked.active
    with engine.connect() as conn:
        assert apikeys.authenticate(conn, key) is None
        actions = conn.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars()
        assert list(actions) == ["apikey.create", "apikey.revoke"]


def test_revoking_needs_a_prefix_or_id_that_names_one_key(engine):
    _, first = apikeys.create_key(engine, "default")
    apikeys.create_key(engine, "default")
    with pytest.raises(LookupError, match="several keys"):
        apikeys.revoke_key(engine, "tk_")
    with pytest.raises(LookupError, match="no API key"):
        apikeys.revoke_key(engine, "tk_nothing-like-this")
    assert apikeys.revoke_key(engine, str(first.id)).id == first.id


def test_keys_cli_prints_the_key_once_and_lists_prefixes_only(engine, monkeypatch, capsys):
    code, out = cli(engine, monkeypatch, capsys, "keys", "create", "--name", "bot")
    assert code == 0
    key = next(line for line in out.splitlines() if line.startswith("tk_"))
    code, listing = cli(engine, monkeypatch, capsys, "keys", "list")
    assert code == 0 and key[:12] in listing and key not in listing and "active" in listing
    code, out = cli(engine, monkeypatch, capsys, "keys", "revoke", key[:12])
    assert code == 0 and "revoked" in out
    code, listing = cli(engine, monkeypatch, capsys, "keys", "list", "--org", "default")
    assert "revoked" in listing


def test_orgs_cli_creates_and_lists_organizations(engine, monkeypatch, capsys):
    assert cli(engine, monkeypatch, capsys, "orgs", "create", "acme", "--name", "Acme Inc")[0] == 0
    code, out = cli(engine, monkeypatch, capsys, "orgs", "create", "acme")
    assert code == 2 and "already exists" in out
    code, out = cli(engine, monkeypatch, capsys, "orgs", "create", "Not A Slug")
    assert code == 2 and "not a valid slug" in out
    code, out = cli(engine, monkeypatch, capsys, "orgs", "list")
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["acme", "default"]
    code, out = cli(engine, monkeypatch, capsys, "keys", "create", "--org", "nope")
    assert code == 2 and "orgs create nope" in out
