"""Organizations (tenants): create, rename, delete with typed confirmation; each change audited.

The slug is an organization's permanent id (URLs, managers' teams in the accounts
file, the CLI); renaming changes its display name. Deleting removes every row of
the organization; its part of the dashboard's audit trail stays (detached, still
naming the slug) so the hash chain still verifies. ``default`` cannot be deleted:
logins and commands without --org fall back to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Engine, func, select, update

from telemetry.accounts import Account
from telemetry.admin_access import acting
from telemetry.audit import changes, record_audit
from telemetry.db import DEFAULT_ORG
from telemetry.models import ApiKey, Organization, Trace
from telemetry.store import ensure_org, org_id, organization_slugs

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class OrganizationError(ValueError):
    """A request about organizations that cannot be done, said for a person."""


@dataclass(frozen=True)
class OrgInfo:
    slug: str
    name: str
    traces: int
    active_keys: int


def list_orgs(engine: Engine) -> list[OrgInfo]:
    traces = select(func.count(Trace.id)).where(Trace.org_id == Organization.id).scalar_subquery()
    keys = (
        select(func.count(ApiKey.id))
        .where(ApiKey.org_id == Organization.id, ApiKey.revoked_us.is_(None))
        .scalar_subquery()
    )
    with engine.connect() as conn:
        rows = conn.execute(
            select(Organization.slug, Organization.name, traces, keys).order_by(Organization.slug)
        ).all()
    return [OrgInfo(slug, name, int(count), int(active)) for slug, name, count, active in rows]


def create_org(
    engine: Engine, slug: str, name: str = "", *, account: Account | None = None, actor: str = ""
) -> None:
    slug = slug.strip()
    who = acting(engine, account, actor, "org.create", slug)
    if not SLUG.match(slug):
        raise OrganizationError(
            f"{slug!r} is not a valid slug: use 1-64 lowercase letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    with engine.begin() as conn:
        if slug in organization_slugs(conn):
            raise OrganizationError(f"organization {slug!r} already exists")
        org_pk = ensure_org(conn, slug, name.strip())
        details = changes(None, {"slug": slug, "name": name.strip() or slug})
        record_audit(conn, org_pk, "org.create", actor=who, target=slug, details=details)


def rename_org(
    engine: Engine, slug: str, name: str, *, account: Account | None = None, actor: str = ""
) -> None:
    """Give organization ``slug`` a new display name."""
    who = acting(engine, account, actor, "org.rename", slug)
    name = name.strip()
    if not name:
        raise OrganizationError("the new name is empty; type the name to show")
    if len(name) > 200:
        raise OrganizationError(f"the name has {len(name)} characters; use at most 200")
    with engine.begin() as conn:
        org_pk = org_id(conn, slug)
        old = conn.execute(select(Organization.name).where(Organization.id == org_pk)).scalar()
        conn.execute(update(Organization).where(Organization.id == org_pk).values(name=name))
        details = changes({"name": old}, {"name": name})
        record_audit(conn, org_pk, "org.rename", actor=who, target=slug, details=details)


def delete_org(
    engine: Engine,
    slug: str,
    *,
    confirm: str,
    account: Account | None = None,
    actor: str = "",
) -> int:
    """Delete organization ``slug`` and all its data once ``confirm`` repeats the slug.

    Returns how many rows were removed.
    """
    # Imported here: the bulk helpers pull in the demo package.
    from telemetry.demo.storage import bulk_connection, delete_org_rows

    who = acting(engine, account, actor, "org.delete", slug)
    if confirm.strip() != slug:
        raise OrganizationError(
            f"type the organization's slug {slug!r} exactly to confirm; nothing was deleted"
        )
    if slug == DEFAULT_ORG:
        raise OrganizationError(
            f"{DEFAULT_ORG!r} cannot be deleted: commands and logins without an organization "
            "use it. Delete its data with the retention settings instead."
        )
    with bulk_connection(engine) as conn, conn.begin():
        org_pk = org_id(conn, slug)
        name = conn.execute(select(Organization.name).where(Organization.id == org_pk)).scalar()
        removed = delete_org_rows(conn, org_pk, drop_org=True)
        details = {**changes({"slug": slug, "name": name}, None), "rows_removed": removed}
        # The organization is gone: the event is the dashboard's, naming the slug.
        record_audit(conn, None, "org.delete", actor=who, target=slug, details=details)
    return removed
