"""The query layer: pure functions ``(engine, filters) -> small DataFrame or dataclass``.

Every number of docs/metrics.md that a page, report or the CLI shows comes from one
function here. Each aggregates in SQL on the integer bucket columns and the
covering indexes of :mod:`telemetry.models`; none loads a table into pandas.
Which rows a filter selects is decided once, in :mod:`telemetry.queries.scope`.
"""

from telemetry.queries.activity import (
    NO_AGENT,
    RunTotals,
    activity_timeline,
    run_totals,
    top_agents,
)
from telemetry.queries.adoption import NO_MODULE, Adoption, adoption, module_usage
from telemetry.queries.analytics import TREND_KEYS, Trends, trends
from telemetry.queries.audit import AuditEvents, audit_accounts, audit_events
from telemetry.queries.billing import (
    BillingMonth,
    BillingPeriod,
    UserCosts,
    billing_month,
    billing_months,
    billing_period,
    cost_by_user,
    cost_per_day_by_model,
    unpriced_models,
)
from telemetry.queries.breakdown import DIMENSIONS, breakdown_timeline
from telemetry.queries.costs import UsageTotals, by_team, cost_by_model, usage_totals
from telemetry.queries.kpis import KPI_KEYS, Kpi, overview_kpis
from telemetry.queries.metrics import HEADLINE_KEYS, headline_metrics
from telemetry.queries.outcomes import code_and_outcomes
from telemetry.queries.peaks import WEEKDAYS, peak_usage
from telemetry.queries.runs import (
    RunStatistics,
    agent_runs,
    commands,
    model_runs,
    run_statistics,
    tool_runs,
)
from telemetry.queries.scope import NO_TEAM, Scope, resolve_scope
from telemetry.queries.user_history import (
    UserSessions,
    user_audit_events,
    user_sessions,
)
from telemetry.queries.users import (
    ROLLUPS,
    UsersHeader,
    UserTable,
    cost_rollup,
    user_companies,
    user_table,
    users_header,
)
from telemetry.queries.users_detail import UserDetail, user_detail

__all__ = [
    "DIMENSIONS",
    "HEADLINE_KEYS",
    "KPI_KEYS",
    "NO_AGENT",
    "NO_MODULE",
    "NO_TEAM",
    "ROLLUPS",
    "TREND_KEYS",
    "WEEKDAYS",
    "Adoption",
    "AuditEvents",
    "BillingMonth",
    "BillingPeriod",
    "Kpi",
    "RunStatistics",
    "RunTotals",
    "Scope",
    "Trends",
    "UsageTotals",
    "UserCosts",
    "UserDetail",
    "UserSessions",
    "UserTable",
    "UsersHeader",
    "activity_timeline",
    "adoption",
    "agent_runs",
    "audit_accounts",
    "audit_events",
    "billing_month",
    "billing_months",
    "billing_period",
    "breakdown_timeline",
    "by_team",
    "code_and_outcomes",
    "commands",
    "cost_by_model",
    "cost_by_user",
    "cost_per_day_by_model",
    "cost_rollup",
    "headline_metrics",
    "model_runs",
    "module_usage",
    "overview_kpis",
    "peak_usage",
    "resolve_scope",
    "run_statistics",
    "run_totals",
    "tool_runs",
    "top_agents",
    "trends",
    "unpriced_models",
    "usage_totals",
    "user_audit_events",
    "user_companies",
    "user_detail",
    "user_sessions",
    "user_table",
    "users_header",
]
