"""The "Alerts and budgets" blocks: rule states, the period's history, budgets.

They read the alert store, not the query layer, as the source's account: on the
page the viewer's, in a report an account limited to the report's teams (a
manager's report lists the rules, changes and budgets within their teams).
"""

from __future__ import annotations

import pandas as pd

from telemetry.alerts.budgets import BudgetStatus, list_budgets
from telemetry.alerts.history import alert_history
from telemetry.alerts.messages import scope_text, value_text
from telemetry.alerts.overview import rules_with_states
from telemetry.alerts.windows import WINDOW_LABELS
from telemetry.blocks.formats import DATETIME, RATIO, USD
from telemetry.blocks.model import BlockSpec, Column, Source

TITLE = "Alerts and budgets"
HISTORY_LIMIT = 200
# How a state reads (the store's names have underscores).
STATE_LABELS = {"NO_DATA": "NO DATA", "PENDING_FIRST_RUN": "not evaluated yet"}
RULE_COLUMNS = [
    "id",
    "state",
    "name",
    "condition",
    "scope",
    "value",
    "evaluated",
    "problem",
    "last_24h",
]
HISTORY_COLUMNS = ["at", "state", "rule", "message", "value", "threshold", "sent", "url"]
BUDGET_COLUMNS = ["scope", "spent_usd", "budget_usd", "remaining_usd", "used_share"]
BUDGET_COLUMNS += ["forecast_usd", "run_out_date", "state"]


def state_text(state: str) -> str:
    return STATE_LABELS.get(state, state)


def _when(us: int | None) -> pd.Timestamp | None:
    return None if us is None else pd.Timestamp(us, unit="us")


def _rules(source: Source) -> pd.DataFrame:
    """One row per rule the source's account may see, with its state and last values."""
    rows = []
    for view in rules_with_states(source.engine, source.account, source.filters.org):
        spec = view.rule.spec
        values = [group.value for group in view.groups if group.value is not None]
        recent = view.groups[0].recent if view.groups else []
        rows.append(
            {
                "id": view.rule.id,
                "state": state_text(view.state),
                "name": spec.name,
                "condition": f"{spec.metric} {spec.direction} "
                f"{value_text(spec.metric, spec.threshold)} over {WINDOW_LABELS[spec.window]}",
                "scope": scope_text(spec.describe_scope()),
                "value": ", ".join(value_text(spec.metric, v) for v in values[:3]) or None,
                "evaluated": _when(view.rule.last_evaluated_us),
                "problem": view.rule.last_error or None,
                "last_24h": [point[1] for point in recent if point[1] is not None],
            }
        )
    return pd.DataFrame(rows, columns=RULE_COLUMNS)


def _history(source: Source) -> pd.DataFrame:
    """The period's changes of state and budget notices, newest first."""
    filters = source.filters
    entries = alert_history(
        source.engine,
        source.account,
        filters.org,
        since_us=filters.start_us,
        until_us=filters.end_us,
        limit=HISTORY_LIMIT,
    )
    rows = [
        {
            "at": _when(entry.at_us),
            "state": state_text(entry.state),
            "rule": entry.name + (f" ({entry.group})" if entry.group else ""),
            "message": entry.message,
            "value": value_text(entry.metric, entry.value),
            "threshold": value_text(entry.metric, entry.threshold),
            "sent": "; ".join(
                f"{channel}: {status}" + (f" ({error})" if error else "")
                for channel, status, error in entry.deliveries
            )
            or "not sent (no channel)",
            "url": entry.url,
        }
        for entry in entries
    ]
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)


def budget_rows(found: list[BudgetStatus]) -> pd.DataFrame:
    """The budgets' table rows: spent, remaining, share used, forecast, run-out day, state."""
    frame = pd.DataFrame([status.as_json() for status in found], columns=BUDGET_COLUMNS)
    return frame.assign(state=frame["state"].map(state_text))


def _budgets(source: Source) -> pd.DataFrame:
    return budget_rows(
        list_budgets(source.engine, source.account, source.filters.org, source.today)
    )


def _budgets_caption(source: Source, frame) -> str:
    today = source.today
    return (
        f"{today:%B %Y} through {today:%d %b}. Forecast = month to date ÷ {today.day} elapsed "
        "day(s) × days in the month; runs out = the day that daily rate reaches the budget, "
        "when it does this month."
    )


STATES = BlockSpec(
    "alerts.states",
    "Rule states",
    "table",
    "Each alert rule's state.",
    query=_rules,
    caption=lambda source, frame: (
        "Each rule's state at its last evaluation (a grouped rule shows its worst group) and "
        "its last values."
    ),
    columns=(
        Column("state", "State", key=True),
        Column("name", "Rule", key=True),
        Column("value", "Last value", key=True),
        Column("condition", "Condition", width="medium"),
        Column("scope", "Scope"),
        Column("evaluated", "Evaluated (UTC)", DATETIME),
        Column("problem", "Evaluation error"),
        Column("id", "Id"),
    ),
)
HISTORY = BlockSpec(
    "alerts.history",
    "Alert history",
    "table",
    "Changes in the period.",
    query=_history,
    caption=lambda source, frame: (
        "Changes of state and budget notices in the period, newest first (at most "
        f"{HISTORY_LIMIT}): the value and threshold at that moment, and where it was sent."
    ),
    columns=(
        Column("at", "At (UTC)", DATETIME),
        Column("state", "State", key=True),
        Column("rule", "Rule", key=True),
        Column("message", "What happened", key=True, width="large"),
        Column("value", "Value"),
        Column("threshold", "Threshold"),
        Column("sent", "Deliveries"),
    ),
    limit=HISTORY_LIMIT,
)
BUDGETS = BlockSpec(
    "alerts.budgets",
    "Budgets",
    "table",
    "Spent, remaining, forecast and run-out date of each monthly budget.",
    query=_budgets,
    caption=_budgets_caption,
    columns=(
        Column("scope", "Budget", key=True),
        Column("spent_usd", "Spent", USD, key=True),
        Column("budget_usd", "Monthly budget", USD),
        Column("remaining_usd", "Remaining", USD),
        Column("used_share", "Used", RATIO),
        Column("forecast_usd", "Month-end forecast", USD, key=True),
        Column("run_out_date", "Runs out"),
        Column("state", "State"),
    ),
)

BLOCKS = (STATES, HISTORY, BUDGETS)
