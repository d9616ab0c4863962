"""Notification channels: an e-mail address, a Slack incoming webhook, or a generic webhook.

Written as ``kind:target`` on the command line (``email:ops@example.com``,
``slack:https://hooks.slack.com/...``, ``webhook:https://example.com/hook``).
Admins manage them; anyone who may save a rule can attach existing ones. Every
change is audited; a webhook's own secret is never written to the audit trail.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, delete, select, update

from telemetry.accounts import Account
from telemetry.alerts.access import check_admin
from telemetry.alerts.tables import AlertChannel, AlertRule, Budget
from telemetry.ingest.audit import record_audit
from telemetry.store import org_id
from telemetry.timeutil import now_us

EMAIL, SLACK, WEBHOOK = "email", "slack", "webhook"
KINDS = (EMAIL, SLACK, WEBHOOK)
# A channel is shown as failing after this many failed attempts in a row.
FAILING_AFTER = 3
_ADDRESS = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


class ChannelError(ValueError):
    """A channel that cannot be used as given; the message says why."""


@dataclass(frozen=True)
class ChannelSpec:
    kind: str
    target: str
    name: str = ""
    secret: str = ""

    @property
    def label(self) -> str:
        return self.name or f"{self.kind}:{self.target}"


def parse_channel(text: str) -> ChannelSpec:
    """``kind:target`` as a checked :class:`ChannelSpec`."""
    kind, _, target = str(text).strip().partition(":")
    return check_channel(ChannelSpec(kind.strip().lower(), target.strip()))


def check_channel(spec: ChannelSpec) -> ChannelSpec:
    if spec.kind not in KINDS:
        raise ChannelError(
            f"channel {spec.kind}:{spec.target!r}: write email:ADDRESS, slack:URL or webhook:URL"
        )
    if spec.kind == EMAIL:
        if not _ADDRESS.match(spec.target):
            raise ChannelError(f"{spec.target!r} is not an e-mail address (name@example.com)")
        return spec
    parts = urlsplit(spec.target)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ChannelError(
            f"{spec.kind} URL {spec.target!r} is not an http(s) URL: it must start with "
            "https:// (or http://) and name a host"
        )
    return spec


@dataclass(frozen=True)
class Channel:
    """A stored channel and how its deliveries went."""

    id: int
    kind: str
    target: str
    name: str
    has_secret: bool
    failures: int
    last_error: str
    last_attempt_us: int | None
    last_success_us: int | None

    @property
    def label(self) -> str:
        return self.name or f"{self.kind}:{self.target}"

    @property
    def failing(self) -> bool:
        return self.failures >= FAILING_AFTER


def _channel(row: AlertChannel) -> Channel:
    return Channel(
        id=row.id,
        kind=row.kind,
        target=row.target,
        name=row.name,
        has_secret=bool(row.secret),
        failures=row.failures,
        last_error=row.last_error,
        last_attempt_us=row.last_attempt_us,
        last_success_us=row.last_success_us,
    )


def list_channels(engine: Engine, org_slug: str) -> list[Channel]:
    with engine.connect() as conn:
        org = org_id(conn, org_slug)
        rows = conn.execute(
            select(AlertChannel).where(AlertChannel.org_id == org).order_by(AlertChannel.id)
        ).all()
    return [_channel(AlertChannel.model_validate(row._mapping)) for row in rows]


def _audit_view(spec: ChannelSpec | None) -> dict | None:
    if spec is None:
        return None
    return {
        "kind": spec.kind,
        "target": spec.target,
        "name": spec.name,
        "secret": bool(spec.secret),
    }


def ensure_channel(conn: Connection, account: Account, org: int, spec: ChannelSpec) -> int:
    """The id of the organization's channel for ``spec``'s target, created (by an admin) if new."""
    spec = check_channel(spec)
    found = conn.execute(
        select(AlertChannel.id).where(
            AlertChannel.org_id == org,
            AlertChannel.kind == spec.kind,
            AlertChannel.target == spec.target,
        )
    ).scalar()
    if found is not None:
        return int(found)
    check_admin(account, "add a notification channel")
    new_id = conn.execute(
        AlertChannel.__table__.insert().values(
            org_id=org,
            kind=spec.kind,
            target=spec.target,
            name=spec.name,
            secret=spec.secret,
            created_us=now_us(),
            created_by=account.username,
        )
    ).inserted_primary_key[0]
    record_audit(
        conn,
        org,
        "alert.channel.create",
        actor=account.username,
        target=f"channel {new_id}: {spec.label}",
        details={"before": None, "after": _audit_view(spec)},
    )
    return int(new_id)


def add_channel(engine: Engine, account: Account, org_slug: str, spec: ChannelSpec) -> int:
    with engine.begin() as conn:
        return ensure_channel(conn, account, org_id(conn, org_slug), spec)


def update_channel(
    engine: Engine, account: Account, org_slug: str, channel_id: int, spec: ChannelSpec
) -> None:
    """Change a channel's target, name or secret (an empty secret keeps the stored one)."""
    check_admin(account, "change a notification channel")
    spec = check_channel(spec)
    with engine.begin() as conn:
        org = org_id(conn, org_slug)
        row = _load(conn, org, channel_id)
        before = ChannelSpec(row.kind, row.target, row.name, row.secret)
        values = {"kind": spec.kind, "target": spec.target, "name": spec.name, "failures": 0}
        if spec.secret:
            values["secret"] = spec.secret
        conn.execute(update(AlertChannel).where(AlertChannel.id == channel_id).values(**values))
        record_audit(
            conn,
            org,
            "alert.channel.update",
            actor=account.username,
            target=f"channel {channel_id}: {spec.label}",
            details={"before": _audit_view(before), "after": _audit_view(spec)},
        )


def delete_channel(engine: Engine, account: Account, org_slug: str, channel_id: int) -> None:
    """Remove a channel no rule or budget uses (say which do, otherwise)."""
    check_admin(account, "remove a notification channel")
    with engine.begin() as conn:
        org = org_id(conn, org_slug)
        row = _load(conn, org, channel_id)
        users = _users_of(conn, org, channel_id)
        if users:
            raise ChannelError(
                f"channel {channel_id} is used by {', '.join(users)}; remove it from them first"
            )
        conn.execute(delete(AlertChannel).where(AlertChannel.id == channel_id))
        before = ChannelSpec(row.kind, row.target, row.name, row.secret)
        record_audit(
            conn,
            org,
            "alert.channel.delete",
            actor=account.username,
            target=f"channel {channel_id}: {before.label}",
            details={"before": _audit_view(before), "after": None},
        )


def _users_of(conn: Connection, org: int, channel_id: int) -> list[str]:
    users = []
    for name, channels in conn.execute(
        select(AlertRule.name, AlertRule.channels).where(AlertRule.org_id == org)
    ):
        if channel_id in json.loads(channels or "[]"):
            users.append(f"rule {name!r}")
    for kind, value, channels in conn.execute(
        select(Budget.scope_kind, Budget.scope_value, Budget.channels).where(Budget.org_id == org)
    ):
        if channel_id in json.loads(channels or "[]"):
            users.append(f"budget {kind}:{value}" if value else f"budget {kind}")
    return users


def _load(conn: Connection, org: int, channel_id: int) -> AlertChannel:
    row = conn.execute(
        select(AlertChannel).where(AlertChannel.org_id == org, AlertChannel.id == channel_id)
    ).first()
    if row is None:
        raise LookupError(f"no channel {channel_id} in this organization (see `alerts channels`)")
    return AlertChannel.model_validate(row._mapping)


def load_channel(conn: Connection, channel_id: int) -> AlertChannel | None:
    """A channel with its secret, for sending (any organization)."""
    row = conn.execute(select(AlertChannel).where(AlertChannel.id == channel_id)).first()
    return None if row is None else AlertChannel.model_validate(row._mapping)


def find_channel(engine: Engine, org_slug: str, text: str) -> int:
    """A channel named by id, name or ``kind:target``; ``LookupError`` listing them if none."""
    channels = list_channels(engine, org_slug)
    for channel in channels:
        if text in (str(channel.id), channel.name, f"{channel.kind}:{channel.target}"):
            return channel.id
    known = ", ".join(f"{c.id} ({c.label})" for c in channels) or "none yet"
    raise LookupError(f"no channel {text!r} in {org_slug}; the channels are: {known}")
