"""Admin settings kept in the store, each with an environment variable as its default.

A stored value (set by an admin in the dashboard or the CLI) wins; else the
environment variable; else the built-in default. Secrets read here (the SMTP
password) are never logged or shown back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import Engine, select

from telemetry.accounts import Account
from telemetry.admin_access import acting
from telemetry.audit import changes, record_audit
from telemetry.models import AppSetting
from telemetry.store import insert_ignoring_duplicates
from telemetry.timeutil import now_us

PUBLIC_URL = "public_url"
DEFAULT_PUBLIC_URL = "http://localhost:8501"
# Setting key -> the environment variable that gives its default.
ENVIRONMENT = {
    PUBLIC_URL: "TELEMETRY_PUBLIC_URL",
    "smtp_host": "TELEMETRY_SMTP_HOST",
    "smtp_port": "TELEMETRY_SMTP_PORT",
    "smtp_user": "TELEMETRY_SMTP_USER",
    "smtp_password": "TELEMETRY_SMTP_PASSWORD",
    "smtp_from": "TELEMETRY_SMTP_FROM",
    "smtp_starttls": "TELEMETRY_SMTP_STARTTLS",
    "webhook_secret": "TELEMETRY_WEBHOOK_SECRET",
}
SECRETS = frozenset({"smtp_password", "webhook_secret"})
DEFAULTS = {PUBLIC_URL: DEFAULT_PUBLIC_URL, "smtp_port": "587", "smtp_starttls": "true"}


def stored_settings(engine: Engine) -> dict[str, str]:
    """Every stored value (without the environment's defaults)."""
    with engine.connect() as conn:
        return dict(conn.execute(select(AppSetting.key, AppSetting.value)).all())


def get_setting(engine: Engine, key: str) -> str:
    """The setting's value: stored, else its environment variable, else the default ("")."""
    _check_key(key)
    with engine.connect() as conn:
        stored = conn.execute(select(AppSetting.value).where(AppSetting.key == key)).scalar()
    if stored:
        return stored
    return os.environ.get(ENVIRONMENT[key], "") or DEFAULTS.get(key, "")


def set_setting(
    engine: Engine, key: str, value: str, *, actor: str = "", account: Account | None = None
) -> None:
    """Store ``value`` for ``key`` ("" removes it: the environment variable applies again).

    ``account``: the dashboard account asking (must be an admin); else ``actor`` (CLI).
    The change is audited; a secret's value never is (only whether it is set).
    """
    _check_key(key)
    actor = acting(engine, account, actor, "setting.set", key)
    value = value.strip()
    with engine.begin() as conn:
        insert_ignoring_duplicates(conn, AppSetting.__table__, [{"key": key, "value": ""}])
        before = conn.execute(select(AppSetting.value).where(AppSetting.key == key)).scalar()
        conn.execute(
            AppSetting.__table__.update()
            .where(AppSetting.key == key)
            .values(value=value, updated_us=now_us(), updated_by=actor)
        )
        if before != value:
            details = changes({key: _shown(key, before)}, {key: _shown(key, value)})
            if key in SECRETS and before and value:
                details = {"after": {key: "(changed)"}, "before": {key: "(set)"}}
            record_audit(conn, None, "setting.set", actor=actor, target=key, details=details)


def _shown(key: str, value: str | None) -> str:
    if key in SECRETS:
        return "(set)" if value else "(empty)"
    return value or "(empty)"


def _check_key(key: str) -> None:
    if key not in ENVIRONMENT:
        raise KeyError(f"unknown setting {key!r}; the settings are: {', '.join(ENVIRONMENT)}")


def public_url(engine: Engine) -> str:
    """The dashboard's address as people open it, for links in notifications (no trailing /)."""
    return get_setting(engine, PUBLIC_URL).rstrip("/")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str
    password: str
    sender: str
    starttls: bool
    problem: str = ""  # a setting that cannot be used, said for a person

    @property
    def configured(self) -> bool:
        return bool(self.host)


def smtp_settings(engine: Engine) -> SmtpSettings:
    """The mail server to send alerts through (``TELEMETRY_SMTP_*`` or the admin's settings)."""
    values = {key: get_setting(engine, key) for key in ENVIRONMENT if key.startswith("smtp_")}
    port = values["smtp_port"]
    problem = "" if port.isdigit() else f"the SMTP port {port!r} is not a number; fix it"
    return SmtpSettings(
        host=values["smtp_host"],
        port=int(port) if port.isdigit() else 0,
        user=values["smtp_user"],
        password=values["smtp_password"],
        sender=values["smtp_from"] or values["smtp_user"] or "telemetry@localhost",
        starttls=values["smtp_starttls"].lower() not in ("0", "false", "no", "off"),
        problem=problem,
    )
