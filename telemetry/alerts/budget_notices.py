"""Budget notices: a level of a monthly budget reached, or its forecast over it, once a month.

Given by the evaluation pass (:mod:`telemetry.alerts.evaluate`) after the rules;
each notice is an event in the alerts history, sent to the budget's channels.
"""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import Engine, select

from telemetry.alerts.budgets import BudgetSpec, BudgetStatus, spec_of, status_of
from telemetry.alerts.delivery import record_event
from telemetry.alerts.links import view_url
from telemetry.alerts.state import ALERT, WARNING
from telemetry.alerts.tables import Budget, BudgetNotice
from telemetry.models import Organization
from telemetry.timeutil import day_of_number, day_of_us, day_start_us

logger = logging.getLogger(__name__)


def check_budgets(engine: Engine, at_us: int, base: str) -> int:
    """Give each budget's due notices (levels reached, forecast over) once a month; count them."""
    today = day_of_number(day_of_us(at_us - 1))
    with engine.connect() as conn:
        rows = conn.execute(
            select(Budget, Organization.slug)
            .join(Organization, Organization.id == Budget.org_id)
            .order_by(Budget.id)
        ).all()
    given = 0
    for row in rows:
        budget = Budget.model_validate(row._mapping)
        try:
            status = status_of(engine, budget.id, spec_of(budget, row.slug), today)
            given += _give_notices(engine, budget, status, today, at_us, base)
        except Exception as error:  # one broken budget must not stop the others or the rules
            logger.warning(
                "budget %s cannot be checked: %s: %s", budget.id, type(error).__name__, error
            )
    return given


def _due_notices(
    status: BudgetStatus, today: date
) -> list[tuple[str, str, str, float, float, str]]:
    """(key, state, metric, value, threshold, message) of each notice the month calls for."""
    spec = status.spec
    month_name = today.strftime("%B %Y")
    due = []
    for level in spec.levels:
        if status.spent_usd * 100 >= level * spec.monthly_usd:
            due.append(
                (
                    f"usd:{level}",
                    ALERT if level >= 100 else WARNING,
                    "cost_usd",
                    status.spent_usd,
                    spec.monthly_usd * level / 100,
                    f"Budget {spec.scope}: {level}% of ${spec.monthly_usd:,.2f} reached "
                    f"(${status.spent_usd:,.2f} spent in {month_name})",
                )
            )
        if spec.monthly_tokens and (status.spent_tokens or 0) * 100 >= level * spec.monthly_tokens:
            due.append(
                (
                    f"tokens:{level}",
                    ALERT if level >= 100 else WARNING,
                    "tokens",
                    float(status.spent_tokens or 0),
                    spec.monthly_tokens * level / 100,
                    f"Budget {spec.scope}: {level}% of {spec.monthly_tokens:,} tokens reached "
                    f"in {month_name}",
                )
            )
    forecast = status.forecast_usd
    if forecast is not None and forecast > spec.monthly_usd and status.spent_usd < spec.monthly_usd:
        when = f" on {status.run_out_date:%d %b}" if status.run_out_date else ""
        due.append(
            (
                "usd:forecast",
                WARNING,
                "forecast_cost_usd",
                forecast,
                spec.monthly_usd,
                f"Budget {spec.scope}: projected to exceed ${spec.monthly_usd:,.2f}{when} at the "
                f"current rate (month-end forecast ${forecast:,.2f})",
            )
        )
    return due


def _give_notices(
    engine, budget: Budget, status: BudgetStatus, today: date, at_us: int, base: str
) -> int:
    due = _due_notices(status, today)
    if not due:
        return 0
    spec = status.spec
    with engine.begin() as conn:
        done = set(
            conn.execute(
                select(BudgetNotice.notice).where(
                    BudgetNotice.budget_id == budget.id, BudgetNotice.month == status.month
                )
            ).scalars()
        )
        fresh = [notice for notice in due if notice[0] not in done]
        for key, state, metric, value, threshold, message in fresh:
            conn.execute(
                BudgetNotice.__table__.insert().values(
                    budget_id=budget.id, month=status.month, notice=key, at_us=at_us
                )
            )
            record_event(
                conn,
                {
                    "org_id": budget.org_id,
                    "budget_id": budget.id,
                    "name": f"Budget {spec.scope}",
                    "state": state,
                    "metric": metric,
                    "value": value,
                    "threshold": threshold,
                    "window_name": "month",
                    "scope": {"org": spec.org, spec.kind: spec.value or spec.org},
                    "at_us": at_us,
                    "message": message,
                    "url": _billing_url(base, spec, today),
                },
                list(spec.channels),
            )
    return len(fresh)


def _billing_url(base: str, spec: BudgetSpec, today: date) -> str:
    return view_url(
        base,
        "billing",
        org=spec.org,
        start_us=day_start_us(today.replace(day=1)),
        end_us=day_start_us(today) + 1,
        teams=spec.teams,
    )
