"""The store: migrations, engine settings, the default organization."""

from __future__ import annotations

from sqlalchemy import func, select, text

from telemetry.db import init_store, migrations
from telemetry.models import Organization


def test_fresh_store_has_the_default_organization(engine):
    with engine.connect() as conn:
        slugs = list(conn.execute(select(Organization.slug)).scalars())
    assert slugs == ["default"]


def test_migrations_run_twice_are_a_no_op(engine):
    assert init_store(engine) == []
    assert migrations.pending(engine) == []
    with engine.connect() as conn:
        recorded = conn.execute(text("SELECT count(*) FROM schema_migration")).scalar()
        orgs = conn.execute(select(func.count()).select_from(Organization)).scalar()
    assert recorded == len(migrations.names)
    assert orgs == 1


def test_sqlite_runs_in_wal_with_a_busy_timeout_and_foreign_keys(sqlite_engine):
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_data_version_grows_even_when_an_organization_is_recreated(engine):
    from sqlalchemy import delete

    from telemetry.models import OrgState
    from telemetry.store import bump_data_version, data_version, ensure_org

    with engine.begin() as conn:
        org = ensure_org(conn, "acme")
        bump_data_version(conn, org)
    first = data_version(engine, "acme")
    with engine.begin() as conn:
        bump_data_version(conn, org)
    second = data_version(engine, "acme")
    with engine.begin() as conn:  # as removing an organization's data does
        conn.execute(delete(OrgState).where(OrgState.org_id == org))
        bump_data_version(conn, org)
    assert first < second < data_version(engine, "acme")
