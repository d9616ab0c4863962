"""The tables of alert rules, their states and history, channels, deliveries and budgets.

Lists (teams, environments, channel ids, budget levels) are stored as JSON text:
they are read with their row and never queried into. History rows keep the rule's
or budget's name as it was, so deleting a rule leaves its past readable.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def _big(**kwargs) -> Field:
    return Field(sa_type=BigInteger, **kwargs)


class AlertChannel(SQLModel, table=True):
    """Where notifications go: an e-mail address, a Slack incoming webhook or a webhook URL."""

    __tablename__ = "alert_channel"
    __table_args__ = (UniqueConstraint("org_id", "kind", "target", name="uq_alert_channel"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    kind: str = Field(max_length=16)  # email, slack, webhook
    target: str = Field(max_length=2000)
    name: str = Field(default="", max_length=200)
    secret: str = Field(default="", max_length=500)  # a webhook's own signing secret
    failures: int = 0  # consecutive failed attempts
    last_error: str = Field(default="", sa_type=Text)
    last_attempt_us: int | None = _big(default=None)
    last_success_us: int | None = _big(default=None)
    created_us: int = _big(default=0)
    created_by: str = Field(default="", max_length=256)


class AlertRule(SQLModel, table=True):
    """A condition on a metric over a window, in a scope, and where to say when it changes."""

    __tablename__ = "alert_rule"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_alert_rule_name"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    name: str = Field(max_length=200)
    metric: str = Field(max_length=32)
    window_name: str = Field(max_length=8)
    direction: str = Field(default="above", max_length=8)  # above, below
    threshold: float
    warn_threshold: float | None = None
    teams: str | None = Field(default=None, sa_type=Text)  # JSON list; NULL = every team
    environments: str | None = Field(default=None, sa_type=Text)  # JSON list; NULL = all
    agent: str = Field(default="", max_length=200)
    model: str = Field(default="", max_length=200)
    end_user: str = Field(default="", max_length=256)  # external id
    group_by: str = Field(default="", max_length=16)  # "", team, agent, model
    min_runs: int = 0
    pending_s: int = 0
    recovery_margin: float = 0.0  # fraction of the threshold
    no_data: str = Field(default="keep", max_length=16)  # ok, keep, no_data
    channels: str = Field(default="[]", sa_type=Text)  # JSON list of alert_channel ids
    enabled: bool = True
    muted_until_us: int | None = _big(default=None)
    created_by: str = Field(default="", max_length=256)
    created_us: int = _big(default=0)
    updated_by: str = Field(default="", max_length=256)
    updated_us: int = _big(default=0)
    last_evaluated_us: int | None = _big(default=None)
    last_error: str = Field(default="", sa_type=Text)  # why the last evaluation failed


class AlertState(SQLModel, table=True):
    """A rule's current state, per group ("" for a rule without "each team/agent/model")."""

    __tablename__ = "alert_state"

    rule_id: int = Field(primary_key=True)
    group_key: str = Field(default="", primary_key=True, max_length=200)
    state: str = Field(default="OK", max_length=16)
    since_us: int = _big(default=0)
    problem_since_us: int | None = _big(default=None)  # first WARNING/ALERT of this episode
    pending_state: str = Field(default="", max_length=16)
    pending_since_us: int | None = _big(default=None)
    value: float | None = None
    runs: int | None = None
    evaluated_us: int = _big(default=0)
    recent: str = Field(default="[]", sa_type=Text)  # JSON [[at_us, value], ...]: last 24 h


class AlertEvent(SQLModel, table=True):
    """One change of state of a rule (or one budget notice): the history, and what is sent."""

    __tablename__ = "alert_event"
    __table_args__ = (
        Index("ix_alert_event_org_at", "org_id", "at_us"),
        Index("ix_alert_event_rule_at", "rule_id", "at_us"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    event_id: str = Field(unique=True, max_length=40)  # sent with every delivery: idempotency
    rule_id: int | None = None
    budget_id: int | None = None
    name: str = Field(max_length=200)
    group_key: str = Field(default="", max_length=200)
    state: str = Field(max_length=16)
    previous_state: str = Field(default="", max_length=16)
    metric: str = Field(default="", max_length=32)
    value: float | None = None
    threshold: float | None = None
    window_name: str = Field(default="", max_length=8)
    scope: str = Field(default="{}", sa_type=Text)  # JSON: org, teams, environments, ...
    at_us: int = _big()
    problem_since_us: int | None = _big(default=None)
    message: str = Field(default="", sa_type=Text)
    url: str = Field(default="", sa_type=Text)


class AlertDelivery(SQLModel, table=True):
    """One event to one channel: sent once, retried with backoff, never silently dropped."""

    __tablename__ = "alert_delivery"
    __table_args__ = (
        UniqueConstraint("event_pk", "channel_id", name="uq_alert_delivery"),
        Index("ix_alert_delivery_due", "status", "next_attempt_us"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_pk: int = Field(foreign_key="alert_event.id")
    channel_id: int
    status: str = Field(default="pending", max_length=16)  # pending, sent, failed
    attempts: int = 0
    next_attempt_us: int = _big(default=0)
    last_error: str = Field(default="", sa_type=Text)
    sent_us: int | None = _big(default=None)


class Budget(SQLModel, table=True):
    """A monthly spending limit for an organization, team, user, agent or model."""

    __tablename__ = "budget"
    __table_args__ = (UniqueConstraint("org_id", "scope_kind", "scope_value", name="uq_budget"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    scope_kind: str = Field(max_length=8)  # org, team, user, agent, model
    scope_value: str = Field(default="", max_length=256)
    monthly_usd: float
    monthly_tokens: int | None = _big(default=None)
    levels: str = Field(default="[50, 80, 100]", sa_type=Text)  # JSON list of percents
    channels: str = Field(default="[]", sa_type=Text)  # JSON list of alert_channel ids
    created_by: str = Field(default="", max_length=256)
    created_us: int = _big(default=0)
    updated_by: str = Field(default="", max_length=256)
    updated_us: int = _big(default=0)


class BudgetNotice(SQLModel, table=True):
    """A budget notice already given for a month (a level reached, the forecast over it)."""

    __tablename__ = "budget_notice"

    budget_id: int = Field(primary_key=True)
    month: int = Field(primary_key=True)
    notice: str = Field(primary_key=True, max_length=32)  # "usd:80", "usd:forecast", ...
    at_us: int = _big(default=0)


ALERT_TABLES = (
    AlertChannel.__table__,
    AlertRule.__table__,
    AlertState.__table__,
    AlertEvent.__table__,
    AlertDelivery.__table__,
    Budget.__table__,
    BudgetNotice.__table__,
)
