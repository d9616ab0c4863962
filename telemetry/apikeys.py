"""Per-organization API keys for the ingest endpoint; only their SHA-256 is stored.

A key is shown once, when it is created. It is identified afterwards by its
display prefix (its first characters) or its id; revoking it takes effect on
the next request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, insert, or_, select, update

from telemetry.accounts import Account
from telemetry.admin_access import acting
from telemetry.audit import changes, record_audit
from telemetry.models import ApiKey, Organization
from telemetry.store import org_id
from telemetry.timeutil import now_us

KEY_PREFIX = "tk_"
DISPLAY_CHARS = 12  # "tk_" and 9 random characters: enough to tell keys apart, useless alone


@dataclass(frozen=True)
class KeyInfo:
    """What may be shown about a key: never the key itself."""

    id: int
    org: str
    name: str
    prefix: str
    created_us: int
    revoked_us: int | None
    last_used_us: int | None

    @property
    def active(self) -> bool:
        return self.revoked_us is None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(
    engine: Engine, org: str, name: str = "", *, actor: str = "", account: Account | None = None
) -> tuple[str, KeyInfo]:
    """A new key for organization ``org``: (the key, to show once; its stored description).

    ``account``: the dashboard account asking (must be an admin); else ``actor`` (CLI).
    """
    actor = acting(engine, account, actor, "apikey.create", org)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    created = now_us()
    with engine.begin() as conn:
        org_pk = org_id(conn, org)
        key_id = conn.execute(
            insert(ApiKey).values(
                org_id=org_pk,
                name=name[:200],
                prefix=key[:DISPLAY_CHARS],
                key_hash=hash_key(key),
                created_us=created,
            )
        ).inserted_primary_key[0]
        record_audit(
            conn,
            org_pk,
            "apikey.create",
            actor=actor,
            target=key[:DISPLAY_CHARS],
            details=changes(None, {"name": name, "prefix": key[:DISPLAY_CHARS], "state": "active"}),
        )
    return key, KeyInfo(key_id, org, name, key[:DISPLAY_CHARS], created, None, None)


def _info_query():
    return select(
        ApiKey.id,
        Organization.slug,
        ApiKey.name,
        ApiKey.prefix,
        ApiKey.created_us,
        ApiKey.revoked_us,
        ApiKey.last_used_us,
    ).join(Organization, Organization.id == ApiKey.org_id)


def list_keys(engine: Engine, org: str | None = None) -> list[KeyInfo]:
    """Keys of ``org`` (of every organization when None), oldest first."""
    query = _info_query().order_by(ApiKey.created_us, ApiKey.id)
    with engine.connect() as conn:
        if org is not None:
            query = query.where(ApiKey.org_id == org_id(conn, org))
        return [KeyInfo(*row) for row in conn.execute(query)]


def revoke_key(
    engine: Engine, prefix_or_id: str, *, actor: str = "", account: Account | None = None
) -> KeyInfo:
    """Revoke the one key whose display prefix starts with (or whose id is) ``prefix_or_id``."""
    wanted = prefix_or_id.strip()
    actor = acting(engine, account, actor, "apikey.revoke", wanted)
    if not wanted:
        raise LookupError("give the key's prefix (see: python -m telemetry keys list) or its id")
    condition = ApiKey.prefix.startswith(wanted, autoescape=True)
    if wanted.isdigit():
        condition = or_(condition, ApiKey.id == int(wanted))
    with engine.begin() as conn:
        found = [KeyInfo(*row) for row in conn.execute(_info_query().where(condition))]
        if not found:
            raise LookupError(f"no API key has the prefix or id {wanted!r}; see: keys list")
        if len(found) > 1:
            names = ", ".join(f"{k.prefix} (id {k.id})" for k in found)
            raise LookupError(f"{wanted!r} matches several keys: {names}; give more characters")
        key = found[0]
        if key.revoked_us is not None:
            return key
        revoked = now_us()
        conn.execute(update(ApiKey).where(ApiKey.id == key.id).values(revoked_us=revoked))
        org_pk = org_id(conn, key.org)
        details = changes({"state": "active"}, {"state": "revoked"})
        record_audit(conn, org_pk, "apikey.revoke", actor=actor, target=key.prefix, details=details)
    return KeyInfo(key.id, key.org, key.name, key.prefix, key.created_us, revoked, key.last_used_us)


def authenticate(conn: Connection, key: str) -> tuple[int, int, str] | None:
    """(organization id, key id, display prefix) of a valid, unrevoked key, else None."""
    if not key.startswith(KEY_PREFIX) or len(key) > 256:
        return None
    row = conn.execute(
        select(ApiKey.org_id, ApiKey.id, ApiKey.prefix, ApiKey.revoked_us).where(
            ApiKey.key_hash == hash_key(key)
        )
    ).first()
    if row is None or row.revoked_us is not None:
        return None
    return row.org_id, row.id, row.prefix
