"""The outbox: each event is delivered once to each of its channels, retried with backoff.

An event and its deliveries are written in the transaction that changes the
rule's state, so a change is never lost and never notified twice. A delivery is
claimed with a conditional UPDATE before it is sent, retried after 30 s, 1, 2,
5, 10, 30 and 60 minutes, and then kept as ``failed`` (shown on the Alerts page);
the channel counts its failures in a row and is shown as failing.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from telemetry.accounts import Account
from telemetry.alerts.access import check_admin
from telemetry.alerts.channels import load_channel
from telemetry.alerts.messages import Notice
from telemetry.alerts.senders import DeliveryError, send
from telemetry.alerts.tables import AlertChannel, AlertDelivery, AlertEvent
from telemetry.ingest.audit import record_audit
from telemetry.settings import get_setting, public_url, smtp_settings
from telemetry.store import org_id
from telemetry.timeutil import US_PER_SECOND, now_us

logger = logging.getLogger(__name__)
PENDING, SENT, FAILED = "pending", "sent", "failed"
BACKOFF_S = (30, 60, 120, 300, 600, 1800, 3600)
MAX_ATTEMPTS = len(BACKOFF_S) + 1
CLAIM_S = 120  # a claimed delivery is not picked again for this long
BATCH = 200


def new_event_id() -> str:
    return uuid.uuid4().hex


def record_event(conn: Connection, values: dict[str, Any], channel_ids: list[int]) -> int:
    """Store an event (``values``: the :class:`AlertEvent` columns) and its deliveries."""
    values = {**values, "event_id": values.get("event_id") or new_event_id()}
    values["scope"] = json.dumps(values.get("scope") or {}, sort_keys=True)
    event_pk = conn.execute(AlertEvent.__table__.insert().values(**values)).inserted_primary_key[0]
    for channel_id in dict.fromkeys(channel_ids):
        conn.execute(
            AlertDelivery.__table__.insert().values(
                event_pk=event_pk, channel_id=channel_id, status=PENDING, next_attempt_us=0
            )
        )
    return int(event_pk)


def notice_of(event: AlertEvent) -> Notice:
    kind = "budget" if event.budget_id is not None else "rule"
    return Notice(
        event_id=event.event_id,
        kind=kind,
        name=event.name,
        state=event.state,
        previous_state=event.previous_state,
        metric=event.metric,
        value=event.value,
        threshold=event.threshold,
        window=event.window_name,
        scope=json.loads(event.scope or "{}"),
        group=event.group_key,
        at_us=event.at_us,
        problem_since_us=event.problem_since_us,
        message=event.message,
        url=event.url,
        rule_id=event.rule_id,
    )


@dataclass
class DeliveryStats:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def deliver_due(engine: Engine, *, at_us: int | None = None) -> DeliveryStats:
    """Send every delivery that is due (real time), once each; return what happened."""
    stats = DeliveryStats()
    at_us = now_us() if at_us is None else at_us
    with engine.connect() as conn:
        due = conn.execute(
            select(AlertDelivery.id, AlertDelivery.next_attempt_us)
            .where(AlertDelivery.status == PENDING, AlertDelivery.next_attempt_us <= at_us)
            .order_by(AlertDelivery.id)
            .limit(BATCH)
        ).all()
    if not due:
        return stats
    smtp = smtp_settings(engine)
    secret = get_setting(engine, "webhook_secret")
    for delivery_id, next_attempt in due:
        if _claim(engine, delivery_id, next_attempt, at_us):
            _attempt(engine, delivery_id, at_us, smtp, secret, stats)
    return stats


def _claim(engine: Engine, delivery_id: int, next_attempt: int, at_us: int) -> bool:
    with engine.begin() as conn:
        return (
            conn.execute(
                update(AlertDelivery)
                .where(
                    AlertDelivery.id == delivery_id,
                    AlertDelivery.status == PENDING,
                    AlertDelivery.next_attempt_us == next_attempt,
                )
                .values(next_attempt_us=at_us + CLAIM_S * US_PER_SECOND)
            ).rowcount
            == 1
        )


def _attempt(engine: Engine, delivery_id: int, at_us: int, smtp, secret: str, stats) -> None:
    with engine.connect() as conn:
        delivery = AlertDelivery.model_validate(
            conn.execute(select(AlertDelivery).where(AlertDelivery.id == delivery_id))
            .one()
            ._mapping
        )
        event = AlertEvent.model_validate(
            conn.execute(select(AlertEvent).where(AlertEvent.id == delivery.event_pk))
            .one()
            ._mapping
        )
        channel = load_channel(conn, delivery.channel_id)
    error = ""
    try:
        if channel is None:
            raise DeliveryError(f"channel {delivery.channel_id} was removed")
        send(notice_of(event), channel, smtp=smtp, default_secret=secret)
    except DeliveryError as failure:
        error = str(failure)[:1000]
    attempts = delivery.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "last_error": error}
    if not error:
        values.update(status=SENT, sent_us=now_us())
        stats.sent += 1
    elif attempts >= MAX_ATTEMPTS:
        values["status"] = FAILED
        stats.failed += 1
        logger.warning("alert %s: gave up on channel %s: %s", event.event_id, channel, error)
    else:
        values["next_attempt_us"] = at_us + BACKOFF_S[attempts - 1] * US_PER_SECOND
        stats.retrying += 1
    with engine.begin() as conn:
        conn.execute(update(AlertDelivery).where(AlertDelivery.id == delivery_id).values(**values))
        if channel is not None:
            note_attempt(conn, channel.id, error)


def _one(conn: Connection, model, row_id: int):
    row = conn.execute(select(model).where(model.id == row_id)).one()
    return model.model_validate(row._mapping)


def note_attempt(conn: Connection, channel_id: int, error: str) -> None:
    """Count a channel's failures in a row (reset by a success), and keep its last error."""
    at = now_us()
    if error:
        values = {"failures": AlertChannel.failures + 1, "last_error": error}
    else:
        values = {"failures": 0, "last_error": "", "last_success_us": at}
    conn.execute(
        update(AlertChannel)
        .where(AlertChannel.id == channel_id)
        .values(last_attempt_us=at, **values)
    )


def send_test(engine: Engine, account: Account, org_slug: str, channel_id: int) -> str:
    """Send a test notice to a channel now; return its event id or raise :class:`DeliveryError`."""
    check_admin(account, "send a test notification")
    at = now_us()
    notice = Notice(
        event_id=new_event_id(),
        kind="test",
        name="Test notification",
        state="OK",
        previous_state="",
        metric="",
        value=None,
        threshold=None,
        window="",
        scope={"org": org_slug},
        group="",
        at_us=at,
        problem_since_us=None,
        message=f"A test from the telemetry dashboard, sent by {account.username}.",
        url=f"{public_url(engine)}/alerts?org={org_slug}",
    )
    with engine.connect() as conn:
        org = org_id(conn, org_slug)
        channel = load_channel(conn, channel_id)
    if channel is None or channel.org_id != org:
        raise LookupError(f"no channel {channel_id} in {org_slug} (see `alerts channels`)")
    error = ""
    try:
        send(
            notice,
            channel,
            smtp=smtp_settings(engine),
            default_secret=get_setting(engine, "webhook_secret"),
        )
    except DeliveryError as failure:
        error = str(failure)
    with engine.begin() as conn:
        note_attempt(conn, channel_id, error)
        record_audit(
            conn,
            org,
            "alert.channel.test",
            actor=account.username,
            target=f"channel {channel_id}",
            details={"event_id": notice.event_id, "error": error or None},
        )
    if error:
        raise DeliveryError(error)
    return notice.event_id
