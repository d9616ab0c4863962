"""The Billing module's report items: the billing month, the period's cost, charts and tables.

The billing month is the request's ``billing_month``; without one, the month
the report was generated in (the Billing page's default). "Today", for the
month in progress and its forecast, is the day the report was generated.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from telemetry import format as fmt
from telemetry import kpi_text, queries
from telemetry.charts.billing import (
    cost_bucket_text,
    daily_cost_chart,
    model_cost_chart,
    tokens_chart,
    top_users_chart,
)
from telemetry.queries.billing import NO_USER, unpriced_of
from telemetry.reports import cells, shared
from telemetry.reports.items_common import capped_table, table_item
from telemetry.reports.model import (
    EXACT,
    Block,
    ChartBlock,
    Fidelity,
    ItemSpec,
    KpiBlock,
    ReportRequest,
)
from telemetry.timeutil import from_us, month_number

MODULE = "billing"
TITLE = "Billing"
TOP_USERS = 10
# The "By user" table lists at most this many users (costliest first) and says "N of M".
USERS_LISTED = 200


def report_day(request: ReportRequest) -> date:
    """The UTC day the report was generated: "today" for the billing month in progress."""
    return from_us(request.generated_at_us).date()


def chosen_month(request: ReportRequest) -> int:
    if request.billing_month is not None:
        return request.billing_month
    return month_number(report_day(request))


def month_figures(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    """The billing month's cost; for the month in progress, month to date and the forecast."""
    today = report_day(request)
    found = shared.query(
        queries.billing_month, engine, request.filters, month=chosen_month(request), today=today
    )
    name = fmt.month_label(found.month, month_number(today))
    priced = fmt.priced_text(found.priced_share)
    if found.in_progress:
        lines = (
            cells.line(
                f"Month to date · {priced}",
                fmt.dollars(found.cost_usd),
                f"{name}: LLM calls from the 1st through {today:%d %b} (UTC), included.",
            ),
            cells.line(
                f"Month-end forecast · {priced}",
                fmt.dollars(found.forecast_usd),
                f"Month to date ÷ {found.elapsed_days} elapsed day(s) × "
                f"{found.days_in_month} days.",
            ),
            cells.line("Elapsed days", f"{found.elapsed_days} of {found.days_in_month}", name),
        )
    else:
        lines = (
            cells.line(
                f"Month cost · {priced}",
                fmt.dollars(found.cost_usd),
                f"{name}: LLM calls of {found.first_day:%d %b} – {found.last_day:%d %b %Y} (UTC).",
            ),
            cells.line("LLM calls", fmt.count(found.calls), name),
        )
    return KpiBlock(lines), EXACT


def period_figures(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    period = shared.query(queries.billing_period, engine, request.filters)
    priced = fmt.priced_text(period.priced_share)
    lines = (
        cells.line(
            f"Total cost · {priced}", fmt.dollars(period.cost_usd), "Sum of the period's LLM calls."
        ),
        cells.line(
            f"Average monthly cost · {priced}",
            fmt.dollars(period.average_monthly_cost_usd),
            kpi_text.average_monthly_help(
                period.cost_usd, period.days, period.average_monthly_cost_usd
            ),
        ),
        cells.line("Total traces", fmt.count(period.traces), "Traces started in the period."),
        cells.line(
            "Active models", fmt.count(period.active_models), "Provider + model pairs called."
        ),
        cells.line(
            "Priced share",
            fmt.percent(period.priced_share),
            f"{period.priced_calls:,} of {period.calls:,} LLM calls have a price.",
        ),
    )
    return KpiBlock(lines), EXACT


def _priced(engine: Engine, request: ReportRequest) -> str:
    return fmt.priced_text(
        shared.query(queries.billing_period, engine, request.filters).priced_share
    )


def model_costs_chart(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    models = shared.query(queries.cost_by_model, engine, request.filters)
    caption = f"The period's cost per provider and model · {_priced(engine, request)}."
    return ChartBlock(model_cost_chart(models).to_dict(), caption), EXACT


def top_users(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    users = shared.query(queries.cost_by_user, engine, request.filters, limit=TOP_USERS + 1)
    named = users.rows[users.rows["user"] != NO_USER].head(TOP_USERS)
    caption = f"The {TOP_USERS} costliest users of the period · {_priced(engine, request)}."
    return ChartBlock(top_users_chart(named).to_dict(), caption), EXACT


def tokens(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    models = shared.query(queries.cost_by_model, engine, request.filters)
    caption = "Input tokens include cached ones; cache read and write are shown apart."
    return ChartBlock(tokens_chart(models).to_dict(), caption), EXACT


def daily_cost(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    grouping = request.filters.grouping
    daily = shared.query(queries.cost_per_day_by_model, engine, request.filters)
    caption = (
        f"Cost per {cost_bucket_text(grouping)}, stacked by model (the 8 costliest; the rest "
        f"together) · {_priced(engine, request)}."
    )
    return ChartBlock(daily_cost_chart(daily, grouping).to_dict(), caption), EXACT


MODEL_COLUMNS = {
    "provider": ("Provider", cells.text),
    "model": ("Model", cells.text),
    "calls": ("Calls", cells.count),
    "input_tokens": ("Input tokens", cells.count),
    "output_tokens": ("Output tokens", cells.count),
    "cache_read_tokens": ("Cache read tokens", cells.count),
    "cache_write_tokens": ("Cache write tokens", cells.count),
    "cost_usd": ("Cost (USD)", cells.dollars),
    "unpriced_calls": ("Unpriced calls", cells.count),
}
USER_COLUMNS = {
    "user": ("User id", cells.text),
    "name": ("Name", cells.text),
    "email": ("Email", cells.text),
    "team": ("Team", cells.text),
    "calls": ("Calls", cells.count),
    "unpriced_calls": ("Unpriced calls", cells.count),
    "priced_share": ("Priced share", cells.percent),
    "input_tokens": ("Input tokens", cells.count),
    "output_tokens": ("Output tokens", cells.count),
    "cost_usd": ("Cost (USD)", cells.dollars),
}


by_model = table_item(
    "cost_by_model",
    MODEL_COLUMNS,
    "Calls, tokens and cost per provider and model, costliest first.",
)


def by_user(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    users = shared.query(queries.cost_by_user, engine, request.filters, limit=USERS_LISTED)
    caption = (
        "Cost of each user's LLM calls in the period, costliest first; (no user) holds the "
        "calls that carry no user id."
    )
    return capped_table(users, USER_COLUMNS, caption, "rows"), EXACT


def unpriced(engine: Engine, request: ReportRequest) -> tuple[Block, Fidelity]:
    found = unpriced_of(shared.query(queries.cost_by_model, engine, request.filters))
    caption = (
        "Calls of these models have no price (none sent with the span, none of your own, none "
        "in the genai-prices catalog), so their cost counts as $0."
        if len(found)
        else "Every LLM call of the period has a price."
    )
    columns = {
        "provider": ("Provider", cells.text),
        "model": ("Model", cells.text),
        "unpriced_calls": ("Unpriced calls", cells.count),
        "calls": ("All calls", cells.count),
    }
    return cells.table(found, columns, caption=caption), EXACT


def _spec(key: str, title: str, kind: str, build, description: str, **extra) -> ItemSpec:
    return ItemSpec(f"{MODULE}.{key}", MODULE, title, kind, build, description, **extra)


ITEMS = (
    _spec(
        "month",
        "Billing month",
        "kpis",
        month_figures,
        "The billing month's cost, and the month-end forecast for the month in progress.",
    ),
    _spec(
        "period",
        "Period cost",
        "kpis",
        period_figures,
        "Total and average monthly cost, traces, active models, priced share.",
    ),
    _spec("model_costs", "Cost by model", "chart", model_costs_chart, "Cost per model."),
    _spec("top_users", "Top users by cost", "chart", top_users, "The 10 costliest users."),
    _spec("tokens", "Tokens per model", "chart", tokens, "Input, output and cache tokens."),
    _spec(
        "daily_cost",
        "Cost per day",
        "chart",
        daily_cost,
        "Cost per UTC day by model (per 5 minutes or hour for sub-day periods).",
    ),
    _spec("by_model", "Cost by model (table)", "table", by_model, "Calls, tokens, cost per model."),
    _spec(
        "by_user",
        "Cost by user (table)",
        "table",
        by_user,
        f"Calls, tokens and cost per user (at most {USERS_LISTED}).",
        lists_users=True,
    ),
    _spec("unpriced", "Unpriced models", "table", unpriced, "Models whose calls have no price."),
)
