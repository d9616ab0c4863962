"""Channels against real servers: mail over SMTP, signed webhooks, Slack blocks; retries,
failing channels and servers that refuse."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

import pytest

from telemetry.alerts import channels as channel_store
from telemetry.alerts.access import cli_account
from telemetry.alerts.delivery import BACKOFF_S, MAX_ATTEMPTS, deliver_due, send_test
from telemetry.alerts.evaluate import evaluate_all
from telemetry.alerts.history import alert_history
from telemetry.alerts.rules import RuleSpec, save_rule
from telemetry.alerts.senders import DeliveryError
from telemetry.models import SpanStatus
from telemetry.timeutil import US_PER_SECOND, now_us, to_us
from tests.alerts_servers import smtp_server, webhook_server
from tests.factories import Dataset, root

ADMIN = cli_account("tester")
SECRET = "s3cret-for-tests"
PINNED = {"event_id", "rule", "state", "value", "threshold", "window", "scope", "url"}


@pytest.fixture
def failing_runs(sqlite_engine):
    """3 of 4 runs on 2 March 2026 failed (error rate 75%)."""
    ds = Dataset(sqlite_engine)
    for index in range(4):
        ds.trace(
            f"t{index}",
            start=datetime(2026, 3, 2, 8) + timedelta(minutes=index),
            spans=[root(status=SpanStatus.ERROR if index else SpanStatus.OK)],
        )
    return sqlite_engine


def add_rule(engine, channel: str) -> int:
    channel_id = channel_store.add_channel(
        engine, ADMIN, "default", channel_store.parse_channel(channel)
    )
    spec = RuleSpec(
        org="default",
        name="Errors",
        metric="error_rate",
        window="7d",
        threshold=0.5,
        channels=(channel_id,),
    )
    save_rule(engine, ADMIN, spec)
    return channel_id


def evaluate(engine):
    return evaluate_all(engine, to_us(datetime(2026, 3, 3)))


def test_alert_mail_arrives_through_a_real_smtp_server(failing_runs, monkeypatch):
    with smtp_server(user="alerts", password="pw") as box:
        monkeypatch.setenv("TELEMETRY_SMTP_HOST", box.host)
        monkeypatch.setenv("TELEMETRY_SMTP_PORT", str(box.port))
        monkeypatch.setenv("TELEMETRY_SMTP_USER", "alerts")
        monkeypatch.setenv("TELEMETRY_SMTP_PASSWORD", "pw")
        monkeypatch.setenv("TELEMETRY_SMTP_FROM", "dashboard@example.com")
        monkeypatch.setenv("TELEMETRY_SMTP_STARTTLS", "false")
        add_rule(failing_runs, "email:oncall@example.com")
        result = evaluate(failing_runs)
    assert result.deliveries.sent == 1
    (mail,) = box.mails
    (entry,) = alert_history(failing_runs, ADMIN, "default")
    assert mail["Subject"] == "[ALERT] Errors"
    assert (mail["From"], mail["To"]) == ("dashboard@example.com", "oncall@example.com")
    assert box.recipients == [["oncall@example.com"]]
    assert mail["X-Telemetry-Event-Id"] == entry.event_id
    text = mail.get_payload(decode=True).decode()
    assert "Value:     75.0%" in text and "Threshold: 50.0%" in text
    assert entry.url in text


def test_smtp_server_refusing_the_login_is_said_plainly(failing_runs, monkeypatch):
    with smtp_server(user="alerts", password="right") as box:
        monkeypatch.setenv("TELEMETRY_SMTP_HOST", box.host)
        monkeypatch.setenv("TELEMETRY_SMTP_PORT", str(box.port))
        monkeypatch.setenv("TELEMETRY_SMTP_USER", "alerts")
        monkeypatch.setenv("TELEMETRY_SMTP_PASSWORD", "wrong")
        monkeypatch.setenv("TELEMETRY_SMTP_STARTTLS", "false")
        channel_id = channel_store.add_channel(
            failing_runs, ADMIN, "default", channel_store.parse_channel("email:a@example.com")
        )
        with pytest.raises(DeliveryError, match="refused the login of 'alerts'"):
            send_test(failing_runs, ADMIN, "default", channel_id)
    assert box.mails == []


def test_smtp_without_starttls_is_refused_unless_turned_off(failing_runs, monkeypatch):
    with smtp_server() as box:
        monkeypatch.setenv("TELEMETRY_SMTP_HOST", box.host)
        monkeypatch.setenv("TELEMETRY_SMTP_PORT", str(box.port))
        channel_id = channel_store.add_channel(
            failing_runs, ADMIN, "default", channel_store.parse_channel("email:a@example.com")
        )
        with pytest.raises(DeliveryError, match="does not offer STARTTLS"):
            send_test(failing_runs, ADMIN, "default", channel_id)


def verify(received, secret: str) -> None:
    timestamp = received.headers["X-Telemetry-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + received.body, hashlib.sha256)
    assert received.headers["X-Telemetry-Signature"] == "sha256=" + expected.hexdigest()
    assert abs(int(timestamp) - now_us() // US_PER_SECOND) < 60


def test_webhook_is_signed_retried_with_the_same_event_id(failing_runs, monkeypatch):
    monkeypatch.setenv("TELEMETRY_WEBHOOK_SECRET", SECRET)
    with webhook_server(fail_first=1) as hook:
        add_rule(failing_runs, f"webhook:{hook.url}")
        first = evaluate(failing_runs)
        assert (first.deliveries.sent, first.deliveries.retrying) == (0, 1)
        assert deliver_due(failing_runs).sent == 0  # the retry is not due yet
        later = now_us() + BACKOFF_S[0] * US_PER_SECOND + 1
        assert deliver_due(failing_runs, at_us=later).sent == 1
    failed, delivered = hook.received
    for received in hook.received:
        verify(received, SECRET)
    body = delivered.json
    assert set(body) >= PINNED
    assert failed.json["event_id"] == body["event_id"]  # the retry is the same event
    assert delivered.headers["X-Telemetry-Event-Id"] == body["event_id"]
    (entry,) = alert_history(failing_runs, ADMIN, "default")
    assert body["event_id"] == entry.event_id
    assert (body["rule"], body["state"], body["window"]) == ("Errors", "ALERT", "7d")
    assert body["value"] == pytest.approx(0.75) and body["threshold"] == 0.5
    assert body["scope"]["org"] == "default"
    assert body["url"].startswith("http://localhost:8501/traces?org=default")
    assert entry.deliveries[0][1] == "sent"


def test_a_channel_secret_overrides_the_global_one(failing_runs, monkeypatch):
    monkeypatch.setenv("TELEMETRY_WEBHOOK_SECRET", SECRET)
    with webhook_server() as hook:
        spec = channel_store.ChannelSpec("webhook", hook.url, secret="own-secret")
        channel_id = channel_store.add_channel(failing_runs, ADMIN, "default", spec)
        send_test(failing_runs, ADMIN, "default", channel_id)
    (received,) = hook.received
    verify(received, "own-secret")
    assert received.json["state"] == "OK" and received.json["type"] == "test"


def test_slack_gets_readable_blocks(failing_runs):
    with webhook_server() as hook:
        add_rule(failing_runs, f"slack:{hook.url}")
        evaluate(failing_runs)
    (received,) = hook.received
    payload = received.json
    assert payload["text"].startswith("🔴 [ALERT] Errors")
    header, message, fields = payload["blocks"][:3]
    assert header["text"]["text"] == "🔴 [ALERT] Errors"
    assert "75.0%" in message["text"]["text"]
    assert "*Threshold*\n50.0%" in [field["text"] for field in fields["fields"]]


def test_a_channel_that_keeps_failing_is_marked_and_nothing_is_dropped(failing_runs):
    with webhook_server(fail_first=100) as hook:
        channel_id = add_rule(failing_runs, f"webhook:{hook.url}")
        evaluate(failing_runs)
        moment = now_us()
        for delay in BACKOFF_S:
            moment += delay * US_PER_SECOND + 1
            deliver_due(failing_runs, at_us=moment)
    assert len(hook.received) == MAX_ATTEMPTS
    (channel,) = [c for c in channel_store.list_channels(failing_runs, "default")]
    assert channel.id == channel_id and channel.failing
    assert channel.last_error.startswith("HTTP 500")
    assert "down for maintenance" in channel.last_error
    (entry,) = alert_history(failing_runs, ADMIN, "default")
    assert entry.deliveries[0][1] == "failed"  # kept, shown as not delivered


@pytest.mark.parametrize(
    "text, message",
    [
        ("webhook:ftp://example.com/x", r"is not an http\(s\) URL"),
        ("slack:hooks.slack.com/x", r"is not an http\(s\) URL"),
        ("email:not-an-address", "is not an e-mail address"),
        ("pager:123", "write email:ADDRESS, slack:URL or webhook:URL"),
    ],
)
def test_bad_channels_are_refused(text, message):
    with pytest.raises(channel_store.ChannelError, match=message):
        channel_store.parse_channel(text)
