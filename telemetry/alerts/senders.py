"""Sending one notice to one channel: SMTP, a Slack incoming webhook, a signed webhook POST.

Nothing else is ever contacted: only the channel's own target, without
following redirects. Every failure raises :class:`DeliveryError` with a
sentence a person can act on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.request

from telemetry.alerts.channels import EMAIL, SLACK, WEBHOOK
from telemetry.alerts.messages import Notice, email_message, slack_payload, webhook_bytes
from telemetry.alerts.tables import AlertChannel
from telemetry.settings import SmtpSettings

TIMEOUT_S = 10
USER_AGENT = "telemetry-dashboard-alerts/1"


class DeliveryError(Exception):
    """A notice could not be delivered; the message says why."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise DeliveryError(f"HTTP {code}: the target redirects to {newurl}; configure that URL")


_OPENER = urllib.request.build_opener(_NoRedirect())


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256 of ``"{timestamp}.{body}"`` with ``secret``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def post(url: str, body: bytes, headers: dict[str, str]) -> None:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
    )
    try:
        with _OPENER.open(request, timeout=TIMEOUT_S) as answer:
            answer.read(1024)
    except urllib.error.HTTPError as error:
        detail = error.read(200).decode("utf-8", "replace").strip()
        raise DeliveryError(f"HTTP {error.code} from {url}: {detail or error.reason}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryError(f"cannot reach {url}: {reason}") from None


def send_webhook(notice: Notice, url: str, secret: str) -> None:
    body = webhook_bytes(notice)
    timestamp = str(int(time.time()))
    headers = {"X-Telemetry-Timestamp": timestamp, "X-Telemetry-Event-Id": notice.event_id}
    if secret:
        headers["X-Telemetry-Signature"] = signature(secret, timestamp, body)
    post(url, body, headers)


def send_slack(notice: Notice, url: str) -> None:
    post(url, json.dumps(slack_payload(notice)).encode(), {})


def send_email(notice: Notice, address: str, smtp: SmtpSettings) -> None:
    if not smtp.configured:
        raise DeliveryError(
            "no SMTP server is configured: set TELEMETRY_SMTP_HOST (and _PORT, _USER, "
            "_PASSWORD, _FROM) or the mail settings on the Alerts page"
        )
    if smtp.problem:
        raise DeliveryError(smtp.problem)
    mail = email_message(notice, smtp.sender, address)
    where = f"{smtp.host}:{smtp.port}"
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT_S) as server:
            if smtp.starttls:
                server.starttls(context=ssl.create_default_context())
            if smtp.user:
                server.login(smtp.user, smtp.password)
            server.send_message(mail)
    except smtplib.SMTPNotSupportedError:
        raise DeliveryError(
            f"the SMTP server {where} does not offer STARTTLS; set TELEMETRY_SMTP_STARTTLS=false "
            "only if it is on a trusted network"
        ) from None
    except smtplib.SMTPAuthenticationError as error:
        raise DeliveryError(
            f"the SMTP server {where} refused the login of {smtp.user!r}: {_smtp_text(error)}"
        ) from None
    except smtplib.SMTPRecipientsRefused as error:
        refused = "; ".join(f"{who}: {_smtp_text(why)}" for who, why in error.recipients.items())
        raise DeliveryError(f"the SMTP server {where} refused the recipient ({refused})") from None
    except smtplib.SMTPResponseException as error:
        raise DeliveryError(f"the SMTP server {where} refused: {_smtp_text(error)}") from None
    except (TimeoutError, smtplib.SMTPException, OSError, ssl.SSLError) as error:
        raise DeliveryError(f"cannot send mail through {where}: {error}") from None


def _smtp_text(error) -> str:
    code = getattr(error, "smtp_code", None)
    text = getattr(error, "smtp_error", b"")
    if isinstance(error, tuple):
        code, text = error
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {message}".strip()


def send(notice: Notice, channel: AlertChannel, *, smtp: SmtpSettings, default_secret: str) -> None:
    """Deliver ``notice`` to ``channel`` or raise :class:`DeliveryError`."""
    if channel.kind == EMAIL:
        send_email(notice, channel.target, smtp)
    elif channel.kind == SLACK:
        send_slack(notice, channel.target)
    elif channel.kind == WEBHOOK:
        send_webhook(notice, channel.target, channel.secret or default_secret)
    else:
        raise DeliveryError(f"channel kind {channel.kind!r} cannot be sent to")
