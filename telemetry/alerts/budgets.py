"""Monthly budgets: spent, remaining, the month-end forecast and run-out date, and their notices.

A budget is a monthly limit in USD (and optionally tokens) for the organization,
a team, a user, an agent or a model. Its figures are the Billing page's
(:func:`~telemetry.queries.billing.billing_month`, narrowed to the budget's scope):
spent = month-to-date cost, forecast = month to date ÷ elapsed days × days in
the month, run-out date = the day that daily rate reaches the budget (docs/metrics.md, "Cost").
Each notice (a level reached, the forecast over the budget) is given once a month.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Engine, delete, select, update

from telemetry.accounts import Account
from telemetry.alerts import lookups
from telemetry.alerts.access import AccessDenied, check_admin, may_see_teams
from telemetry.alerts.channels import ensure_channel
from telemetry.alerts.state import ALERT, OK, WARNING
from telemetry.alerts.tables import AlertChannel, Budget, BudgetNotice
from telemetry.filters import Filters
from telemetry.ingest.audit import record_audit
from telemetry.queries.billing import billing_month, daily_cost, run_out_day
from telemetry.queries.costs import usage_totals
from telemetry.queries.scope import Subject
from telemetry.store import org_id
from telemetry.timeutil import (
    month_number,
    month_start,
    now_us,
)

SCOPE_KINDS = ("org", "team", "user", "agent", "model")
DEFAULT_LEVELS = (50, 80, 100)


class BudgetError(ValueError):
    """A budget that cannot be saved as given; the message says why."""


@dataclass(frozen=True)
class BudgetSpec:
    org: str
    kind: str
    value: str
    monthly_usd: float
    monthly_tokens: int | None = None
    levels: tuple[int, ...] = DEFAULT_LEVELS
    channels: tuple[int, ...] = field(default_factory=tuple)

    @property
    def scope(self) -> str:
        """``org``, ``team:NAME``, ``user:ID``, ``agent:NAME`` or ``model:NAME``."""
        return "org" if self.kind == "org" else f"{self.kind}:{self.value}"

    @property
    def teams(self) -> tuple[str, ...] | None:
        return (self.value,) if self.kind == "team" else None

    @property
    def subject(self) -> Subject:
        return (
            Subject(**{self.kind: self.value})
            if self.kind in ("user", "agent", "model")
            else Subject()
        )

    def filters(self, start: date, end: date) -> Filters:
        return Filters(start=start, end=end, org=self.org, teams=self.teams)


def parse_scope(text: str) -> tuple[str, str]:
    """``org`` or ``KIND:NAME`` as (kind, value)."""
    kind, _, value = str(text).strip().partition(":")
    kind = kind.strip().lower()
    if kind not in SCOPE_KINDS or (kind == "org") != (not value.strip()):
        raise BudgetError(
            f"scope {text!r}: write org, team:NAME, user:ID, agent:NAME or model:NAME"
        )
    return kind, value.strip()


def parse_levels(text: str) -> tuple[int, ...]:
    """``"50,80,100"`` as sorted whole percents from 1 to 1000."""
    try:
        levels = sorted({int(part) for part in str(text).split(",") if part.strip()})
    except ValueError:
        raise BudgetError(
            f"levels {text!r}: write whole percents separated by commas, e.g. 50,80,100"
        ) from None
    if not levels or any(not 1 <= level <= 1000 for level in levels):
        raise BudgetError(f"levels {text!r}: each level is a percent from 1 to 1000")
    return tuple(levels)


def _check(conn, account: Account, spec: BudgetSpec) -> int:
    if not spec.monthly_usd > 0:
        raise BudgetError(f"monthly budget {spec.monthly_usd!r}: give an amount in USD above 0")
    if spec.monthly_tokens is not None and spec.monthly_tokens <= 0:
        raise BudgetError("monthly tokens: give a number of tokens above 0, or none")
    if not account.is_admin and not (
        spec.kind == "team" and may_see_teams(account, spec.org, spec.teams)
    ):
        raise AccessDenied("a manager can only set budgets for their own teams (scope team:NAME)")
    org = org_id(conn, spec.org)
    if spec.kind != "org":
        lookups.check_names(conn, org, spec.kind, [spec.value])
    if spec.channels:
        found = set(
            conn.execute(
                select(AlertChannel.id).where(
                    AlertChannel.org_id == org, AlertChannel.id.in_(list(spec.channels))
                )
            ).scalars()
        )
        if set(spec.channels) - found:
            raise BudgetError(f"channel(s) {sorted(set(spec.channels) - found)} do not exist")
    return org


def _values(spec: BudgetSpec) -> dict[str, Any]:
    return {
        "monthly_usd": spec.monthly_usd,
        "monthly_tokens": spec.monthly_tokens,
        "levels": json.dumps(list(spec.levels)),
        "channels": json.dumps(sorted(spec.channels)),
    }


def set_budget(
    engine: Engine, account: Account, spec: BudgetSpec, *, new_channels: Sequence = ()
) -> int:
    """Create or replace the budget of ``spec``'s scope; return its id. All or nothing.

    ``new_channels`` (:class:`~telemetry.alerts.channels.ChannelSpec`) are created or
    found in the same transaction and attached.
    """
    with engine.begin() as conn:
        if new_channels:
            org = org_id(conn, spec.org)
            added = tuple(ensure_channel(conn, account, org, channel) for channel in new_channels)
            spec = replace(spec, channels=tuple(dict.fromkeys(spec.channels + added)))
        org = _check(conn, account, spec)
        row = conn.execute(
            select(Budget).where(
                Budget.org_id == org,
                Budget.scope_kind == spec.kind,
                Budget.scope_value == spec.value,
            )
        ).first()
        at = now_us()
        if row is None:
            before = None
            budget_id = conn.execute(
                Budget.__table__.insert().values(
                    org_id=org,
                    scope_kind=spec.kind,
                    scope_value=spec.value,
                    created_by=account.username,
                    created_us=at,
                    updated_by=account.username,
                    updated_us=at,
                    **_values(spec),
                )
            ).inserted_primary_key[0]
        else:
            budget_id = row.id
            before = asdict(spec_of(Budget.model_validate(row._mapping), spec.org))
            conn.execute(
                update(Budget)
                .where(Budget.id == budget_id)
                .values(updated_by=account.username, updated_us=at, **_values(spec))
            )
        record_audit(
            conn,
            org,
            "budget.set",
            actor=account.username,
            target=f"budget {spec.scope}",
            details={"before": before, "after": asdict(spec)},
        )
    return int(budget_id)


def remove_budget(engine: Engine, account: Account, org_slug: str, scope: str) -> None:
    kind, value = parse_scope(scope)
    with engine.begin() as conn:
        org = org_id(conn, org_slug)
        row = conn.execute(
            select(Budget).where(
                Budget.org_id == org, Budget.scope_kind == kind, Budget.scope_value == value
            )
        ).first()
        spec = None if row is None else spec_of(Budget.model_validate(row._mapping), org_slug)
        if spec is None or not _may_see(account, spec):
            raise LookupError(f"no budget for {scope} in {org_slug} (see `budgets list`)")
        if not account.is_admin and spec.kind != "team":
            check_admin(account, "remove this budget")
        conn.execute(delete(BudgetNotice).where(BudgetNotice.budget_id == row.id))
        conn.execute(delete(Budget).where(Budget.id == row.id))
        record_audit(
            conn,
            org,
            "budget.remove",
            actor=account.username,
            target=f"budget {spec.scope}",
            details={"before": asdict(spec), "after": None},
        )


def spec_of(row: Budget, org_slug: str) -> BudgetSpec:
    return BudgetSpec(
        org=org_slug,
        kind=row.scope_kind,
        value=row.scope_value,
        monthly_usd=row.monthly_usd,
        monthly_tokens=row.monthly_tokens,
        levels=tuple(json.loads(row.levels or "[]")),
        channels=tuple(json.loads(row.channels or "[]")),
    )


def _may_see(account: Account, spec: BudgetSpec) -> bool:
    return account.is_admin or (
        spec.kind == "team" and may_see_teams(account, spec.org, spec.teams)
    )


@dataclass(frozen=True)
class BudgetStatus:
    """A budget's month so far (see the module doc); ``run_out_date`` None = not this month."""

    id: int
    spec: BudgetSpec
    month: int
    spent_usd: float
    remaining_usd: float
    forecast_usd: float | None
    run_out_date: date | None
    used_share: float
    state: str
    spent_tokens: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scope": self.spec.scope,
            "budget_usd": self.spec.monthly_usd,
            "spent_usd": round(self.spent_usd, 6),
            "remaining_usd": round(self.remaining_usd, 6),
            "forecast_usd": None if self.forecast_usd is None else round(self.forecast_usd, 6),
            "run_out_date": None if self.run_out_date is None else self.run_out_date.isoformat(),
            "used_share": round(self.used_share, 6),
            "state": self.state,
            "levels": list(self.spec.levels),
            "budget_tokens": self.spec.monthly_tokens,
            "spent_tokens": self.spent_tokens,
            "month": month_start(self.month).strftime("%Y-%m"),
        }


def status_of(engine: Engine, budget_id: int, spec: BudgetSpec, today: date) -> BudgetStatus:
    month = billing_month(
        engine,
        spec.filters(today, today),
        month=month_number(today),
        today=today,
        subject=spec.subject,
    )
    spent_tokens = None
    if spec.monthly_tokens:
        spent_tokens = usage_totals(
            engine, spec.filters(month.first_day, today), spec.subject
        ).tokens
    used = month.cost_usd / spec.monthly_usd
    if spent_tokens is not None:
        used = max(used, spent_tokens / spec.monthly_tokens)
    state = ALERT if used >= 1 else WARNING if spec.levels and used * 100 >= spec.levels[0] else OK
    return BudgetStatus(
        id=budget_id,
        spec=spec,
        month=month.month,
        spent_usd=month.cost_usd,
        remaining_usd=spec.monthly_usd - month.cost_usd,
        forecast_usd=month.forecast_usd,
        run_out_date=run_out_day(month, spec.monthly_usd),
        used_share=used,
        state=state,
        spent_tokens=spent_tokens,
    )


def list_budgets(
    engine: Engine, account: Account, org_slug: str, today: date
) -> list[BudgetStatus]:
    """The budgets the account may see, with this month's figures as of ``today``."""
    with engine.connect() as conn:
        org = org_id(conn, org_slug)
        rows = conn.execute(
            select(Budget)
            .where(Budget.org_id == org)
            .order_by(Budget.scope_kind, Budget.scope_value)
        ).all()
    found = []
    for row in rows:
        budget = Budget.model_validate(row._mapping)
        spec = spec_of(budget, org_slug)
        if _may_see(account, spec):
            found.append(status_of(engine, budget.id, spec, today))
    return found


def burn_down(engine: Engine, status: BudgetStatus, today: date) -> pd.DataFrame:
    """Per day of the month: ``DataFrame[day, spent_usd, remaining_usd]`` through ``today``."""
    first = today.replace(day=1)
    days = daily_cost(engine, status.spec.filters(first, today), status.spec.subject)
    spent = days["cost_usd"].cumsum()
    return pd.DataFrame(
        {"day": days["day"], "spent_usd": spent, "remaining_usd": status.spec.monthly_usd - spent}
    )
