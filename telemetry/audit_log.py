"""Reading the audit trail: filtered listings with before -> after spelled out, CSV and JSON.

Who reads what is decided by the caller: ``org`` None = every organization and the
dashboard's own events (admins); ``actor`` = only that account's events (a
manager sees nothing but their own, in every organization).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Engine, and_, func, or_, select, true

from telemetry.models import AuditEvent, Organization
from telemetry.store import org_id
from telemetry.timeutil import from_us

ACCESS = ("login", "logout", "login_failed")
# Kind -> what it covers: access events, else the action's prefix before ".".
KINDS = {
    "access": "logins, logouts and failed logins",
    "account": "dashboard accounts",
    "apikey": "API keys",
    "org": "organizations",
    "price": "model prices",
    "setting": "general settings",
    "alert": "alert rules and channels",
    "budget": "budgets",
    "report": "reports generated",
    "export": "exports downloaded",
    "retention": "retention settings and runs",
    "user": "end users forgotten",
    "denied": "refused admin actions",
}
COLUMNS = ["when", "organization", "who", "kind", "what", "target", "changes", "details", "seq"]
DEFAULT_LIMIT = 1000


@dataclass(frozen=True)
class AuditQuery:
    """What to list: the period (epoch µs, end exclusive), scope, account, kind."""

    start_us: int | None = None
    end_us: int | None = None
    org: str | None = None  # None: every organization; else it and the dashboard's events
    actor: str | None = None  # None: every account
    kind: str | None = None
    limit: int = DEFAULT_LIMIT


@dataclass(frozen=True)
class AuditListing:
    events: pd.DataFrame
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.events)


def kind_of(action: str) -> str:
    return "access" if action in ACCESS else action.split(".", 1)[0]


def list_audit(engine: Engine, query: AuditQuery) -> AuditListing:
    """Matching events, newest first, as ``DataFrame[COLUMNS]`` (``when`` naive UTC)."""
    with engine.connect() as conn:
        where = _where(conn, query)
        total = conn.execute(select(func.count()).select_from(AuditEvent).where(where)).scalar()
        rows = conn.execute(
            select(
                AuditEvent.ts_us,
                func.coalesce(Organization.slug, AuditEvent.org_slug),
                AuditEvent.actor,
                AuditEvent.action,
                AuditEvent.target,
                AuditEvent.details,
                AuditEvent.seq,
            )
            .outerjoin(Organization, Organization.id == AuditEvent.org_id)
            .where(where)
            .order_by(AuditEvent.ts_us.desc(), AuditEvent.id.desc())
            .limit(max(query.limit, 0))
        ).all()
    records = [
        (
            pd.Timestamp(from_us(int(ts)).replace(tzinfo=None)),
            org or "(dashboard)",
            who,
            kind_of(what),
            what,
            target,
            describe_details(details),
            details,
            seq,
        )
        for ts, org, who, what, target, details, seq in rows
    ]
    return AuditListing(pd.DataFrame(records, columns=COLUMNS), int(total))


def _where(conn, query: AuditQuery) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    if query.start_us is not None:
        conditions.append(AuditEvent.ts_us >= query.start_us)
    if query.end_us is not None:
        conditions.append(AuditEvent.ts_us < query.end_us)
    if query.org is not None:
        org_pk = org_id(conn, query.org)
        conditions.append(or_(AuditEvent.org_id == org_pk, AuditEvent.org_id.is_(None)))
    if query.actor is not None:
        conditions.append(AuditEvent.actor == query.actor)
    if query.kind:
        conditions.append(_kind_condition(query.kind))
    return and_(true(), *conditions)


def _kind_condition(kind: str) -> ColumnElement[bool]:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; the kinds are: {', '.join(KINDS)}")
    if kind == "access":
        return AuditEvent.action.in_(ACCESS)
    return or_(AuditEvent.action == kind, AuditEvent.action.like(f"{kind}.%"))


def actors(engine: Engine) -> list[str]:
    """Every account name that appears in the trail, for the actor filter."""
    with engine.connect() as conn:
        return list(
            conn.execute(select(AuditEvent.actor).distinct().order_by(AuditEvent.actor)).scalars()
        )


# --- before -> after in words -------------------------------------------------------


def describe_details(details: str) -> str:
    """``field: before → after; ...`` for a change, else ``key=value, ...``."""
    try:
        parsed = json.loads(details or "{}")
    except ValueError:
        return details
    if not isinstance(parsed, dict):
        return str(parsed)
    if "before" in parsed or "after" in parsed:
        text = _change_text(parsed.get("before"), parsed.get("after"))
        rest = {k: v for k, v in parsed.items() if k not in ("before", "after")}
        return "; ".join(part for part in (text, _pairs(rest)) if part)
    return _pairs(parsed)


def _change_text(before: Any, after: Any) -> str:
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    keys = [key for key in {**before, **after} if before.get(key) != after.get(key)]
    return "; ".join(f"{key}: {_value(before.get(key))} → {_value(after.get(key))}" for key in keys)


def _pairs(values: dict) -> str:
    return ", ".join(f"{key}={_value(value)}" for key, value in values.items())


def _value(value: Any) -> str:
    if value is None or value == "" or value == {} or value == []:
        return "—"  # nothing there, never "{}" or an empty cell
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + _pairs(value) + "}"
    return str(value)


def to_json(frame: pd.DataFrame) -> str:
    """The listing as a JSON array (times ISO 8601 UTC)."""
    return frame.to_json(orient="records", date_format="iso", force_ascii=False, indent=1)
