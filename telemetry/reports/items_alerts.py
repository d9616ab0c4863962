"""The "Alerts and budgets" module's report items: rule states, the period's history, budgets.

A report carries its reader's scope in ``filters.teams`` (a manager's own teams):
it lists the rules, changes and budgets within those teams, as the Alerts page
does for that manager; without a team filter, all of them.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from telemetry.accounts import ADMIN, MANAGER, Account
from telemetry.alerts.budgets import list_budgets
from telemetry.alerts.history import alert_history
from telemetry.alerts.messages import scope_text, value_text
from telemetry.alerts.overview import rules_with_states
from telemetry.alerts.windows import WINDOW_LABELS
from telemetry.reports import cells
from telemetry.reports.items import report_day
from telemetry.reports.model import EXACT, Block, Fidelity, ItemSpec, ReportRequest

MODULE = "alerts"
TITLE = "Alerts and budgets"
HISTORY_LIMIT = 200


def reader(request: ReportRequest) -> Account:
    """An account seeing what the report's filters allow: every team, or the listed ones."""
    filters = request.filters
    if filters.teams is None:
        return Account(request.generated_by, request.generated_by, ADMIN)
    return Account(
        request.generated_by, request.generated_by, MANAGER, ((filters.org, filters.teams),)
    )


def states(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    views = rules_with_states(engine, reader(request), request.filters.org)
    frame = pd.DataFrame(
        [
            {
                "name": view.rule.spec.name,
                "state": view.state,
                "condition": f"{view.rule.spec.metric} {view.rule.spec.direction} "
                f"{value_text(view.rule.spec.metric, view.rule.spec.threshold)} over "
                f"{WINDOW_LABELS[view.rule.spec.window]}",
                "scope": scope_text(view.rule.spec.describe_scope()),
                "value": ", ".join(
                    value_text(view.rule.spec.metric, g.value) for g in view.groups[:3]
                ),
            }
            for view in views
        ],
        columns=["name", "state", "condition", "scope", "value"],
    )
    columns = {
        "name": ("Rule", cells.text),
        "state": ("State", cells.text),
        "condition": ("Condition", cells.text),
        "scope": ("Scope", cells.text),
        "value": ("Last value", cells.text),
    }
    caption = "Each rule's state at its last evaluation (a grouped rule shows its worst group)."
    return cells.table(frame, columns, caption=caption), EXACT


def history(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    filters = request.filters
    entries = alert_history(
        engine,
        reader(request),
        filters.org,
        since_us=filters.start_us,
        until_us=filters.end_us,
        limit=HISTORY_LIMIT,
    )
    frame = pd.DataFrame(
        [
            {
                "at": pd.Timestamp(entry.at_us, unit="us"),
                "state": entry.state,
                "message": entry.message,
                "threshold": value_text(entry.metric, entry.threshold),
            }
            for entry in entries
        ],
        columns=["at", "state", "message", "threshold"],
    )
    columns = {
        "at": ("At (UTC)", cells.timestamp),
        "state": ("State", cells.text),
        "message": ("What happened", cells.text),
        "threshold": ("Threshold", cells.text),
    }
    caption = (
        "Changes of state and budget notices in the period, newest first "
        f"(at most {HISTORY_LIMIT})."
    )
    return cells.table(frame, columns, caption=caption), EXACT


def budgets(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    today = report_day(request)
    found = list_budgets(engine, reader(request), request.filters.org, today)
    frame = pd.DataFrame(
        [status.as_json() for status in found],
        columns=[
            "scope",
            "budget_usd",
            "spent_usd",
            "remaining_usd",
            "forecast_usd",
            "run_out_date",
        ],
    )
    columns = {
        "scope": ("Budget", cells.text),
        "budget_usd": ("Monthly", cells.dollars),
        "spent_usd": ("Spent", cells.dollars),
        "remaining_usd": ("Remaining", cells.dollars),
        "forecast_usd": ("Month-end forecast", cells.dollars),
        "run_out_date": ("Runs out", cells.text),
    }
    caption = (
        f"{today:%B %Y} through {today:%d %b} (the day the report was made). Forecast = month "
        "to date ÷ elapsed days × days in the month; runs out = the day that rate reaches the "
        "budget, when it does this month."
    )
    return cells.table(frame, columns, caption=caption), EXACT


ITEMS = (
    ItemSpec("alerts.states", MODULE, "Rule states", "table", states, "Each alert rule's state."),
    ItemSpec("alerts.history", MODULE, "Alert history", "table", history, "Changes in the period."),
    ItemSpec(
        "alerts.budgets",
        MODULE,
        "Budgets",
        "table",
        budgets,
        "Spent, remaining, forecast and run-out date of each monthly budget.",
    ),
)
