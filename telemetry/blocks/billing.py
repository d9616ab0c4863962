"""The Billing blocks: the billing month, the period's cost, cost charts and the cost tables.

The billing month is the source's ``billing_month``; without one, the month that
holds ``source.today`` (the page's default, and a report's month of generation).
"""

from __future__ import annotations

from telemetry import format as fmt
from telemetry import kpi_text
from telemetry.blocks.common import capped_note, display_names, priced
from telemetry.blocks.formats import COUNT, RATIO, USD
from telemetry.blocks.model import BlockSpec, Column, Figure, Source
from telemetry.charts.billing import (
    cost_bucket_text,
    daily_cost_chart,
    model_cost_chart,
    tokens_chart,
    top_users_chart,
)
from telemetry.queries import BillingMonth, BillingPeriod, UserCosts
from telemetry.queries.billing import NO_USER, USER_COST_LIMIT, unpriced_of
from telemetry.timeutil import month_number

TITLE = "Billing"
TOP_USERS = 10
# A report lists at most this many users (the costliest first) and says "N of M".
USERS_LISTED = 200


def chosen_month(source: Source) -> int:
    if source.billing_month is not None:
        return source.billing_month
    return month_number(source.today)


def _month_options(source: Source) -> dict:
    return {"month": chosen_month(source), "today": source.today}


def _month_name(source: Source, month: BillingMonth) -> str:
    return fmt.month_label(month.month, month_number(source.today))


def _month_figures(source: Source, month: BillingMonth) -> tuple[Figure, ...]:
    note = fmt.priced_text(month.priced_share)
    if not month.in_progress:
        return (
            Figure(
                "month_cost",
                "Month cost",
                fmt.dollars(month.cost_usd),
                f"LLM calls of {month.first_day:%d %b} – {month.last_day:%d %b %Y} (UTC).",
                note=note,
            ),
            Figure("calls", "LLM calls", fmt.count(month.calls), "LLM calls of the month."),
        )
    through = month.first_day.replace(day=max(month.elapsed_days, 1))
    return (
        Figure(
            "month_to_date",
            "Month to date",
            fmt.dollars(month.cost_usd),
            f"Month to date = LLM calls from {month.first_day:%d %b} through today, "
            f"{through:%d %b} (UTC), included.",
            note=note,
        ),
        Figure(
            "forecast",
            "Month-end forecast",
            fmt.dollars(month.forecast_usd),
            "Month-end forecast = month to date ÷ elapsed days × days in the month = "
            f"{fmt.dollars(month.cost_usd)} ÷ {month.elapsed_days} × {month.days_in_month}.",
            note=note,
        ),
        Figure(
            "elapsed_days",
            "Elapsed days",
            f"{month.elapsed_days} of {month.days_in_month}",
            "Days of the month so far, today included.",
        ),
    )


def _month_caption(source: Source, month: BillingMonth) -> str:
    name = _month_name(source, month)
    if not month.in_progress:
        return f"{name}."
    return (
        f"{name}. Forecast = month to date ÷ {month.elapsed_days} elapsed day(s) (today "
        f"included) × {month.days_in_month} days: the daily average so far, over the whole month."
    )


def _period_figures(source: Source, period: BillingPeriod) -> tuple[Figure, ...]:
    note = fmt.priced_text(period.priced_share)
    return (
        Figure(
            "cost_usd",
            "Total cost",
            fmt.dollars(period.cost_usd),
            "Total cost = sum of the period's LLM calls.",
            note=note,
        ),
        Figure(
            "average_monthly_cost_usd",
            "Average monthly cost",
            fmt.dollars(period.average_monthly_cost_usd),
            kpi_text.average_monthly_help(
                period.cost_usd, period.days, period.average_monthly_cost_usd
            ),
            note=note,
            short="Monthly average",
        ),
        Figure("traces", "Total traces", fmt.count(period.traces), "Traces started in the period."),
        Figure(
            "active_models",
            "Active models",
            fmt.count(period.active_models),
            "Provider + model pairs called.",
        ),
        Figure(
            "priced_share",
            "Priced share",
            fmt.percent(period.priced_share),
            f"Priced share = LLM calls with a price ({period.priced_calls:,}) ÷ LLM calls "
            f"({period.calls:,}).",
        ),
    )


def _users_options(source: Source) -> dict:
    return {"limit": USERS_LISTED if source.report else USER_COST_LIMIT}


def _named(found: UserCosts):
    rows = found.rows
    return rows.assign(label=display_names(rows["name"], rows["user"]))


def _top_users(found: UserCosts):
    return _named(found).loc[lambda rows: rows["user"] != NO_USER].head(TOP_USERS)


def _daily_caption(source: Source, daily) -> str:
    return (
        f"Cost per {cost_bucket_text(source.filters.grouping)}, stacked by model (the 8 "
        f"costliest; the rest together) · {priced(source)}."
    )


def _unpriced_caption(source: Source, models) -> str:
    if len(unpriced_of(models)):
        return (
            "Calls of these models have no price (none sent with the span, none of your own, "
            "none in the genai-prices catalog), so their cost counts as $0."
        )
    if source.query("billing_period").calls:
        return "Every LLM call of the period has a price."
    return "No LLM calls in the period."


MODEL_COLUMNS = (
    Column("provider", "Provider"),
    Column("model", "Model", key=True),
    Column("cost_usd", "Cost (USD)", USD, key=True),
    Column("calls", "Calls", COUNT),
    Column("unpriced_calls", "Unpriced calls", COUNT),
    Column("input_tokens", "Input tokens", COUNT),
    Column("output_tokens", "Output tokens", COUNT),
    Column("cache_read_tokens", "Cache read tokens", COUNT),
    Column("cache_write_tokens", "Cache write tokens", COUNT),
)
USER_COLUMNS = (
    Column("label", "User", key=True, help="The user's name (their id where none is known)."),
    Column("team", "Team"),
    Column("cost_usd", "Cost (USD)", USD, key=True),
    Column("calls", "Calls", COUNT),
    Column("unpriced_calls", "Unpriced calls", COUNT),
    Column("priced_share", "Priced share", RATIO),
    Column("input_tokens", "Input tokens", COUNT),
    Column("output_tokens", "Output tokens", COUNT),
    Column("email", "Email"),
    Column("user", "User id"),
)
UNPRICED_COLUMNS = (
    Column("provider", "Provider"),
    Column("model", "Model", key=True),
    Column("unpriced_calls", "Unpriced calls", COUNT, key=True),
    Column("calls", "All calls", COUNT),
)

MONTH = BlockSpec(
    "billing.month",
    "Billing month",
    "kpis",
    "The billing month's cost, and the month-end forecast for the month in progress.",
    query="billing_month",
    options=_month_options,
    caption=_month_caption,
    figures=_month_figures,
    card_rows=(3,),
)
PERIOD = BlockSpec(
    "billing.period",
    "Period cost",
    "kpis",
    "Total and average monthly cost, traces, active models, priced share.",
    query="billing_period",
    caption=lambda source, period: f"Period: {fmt.day_span(source.filters)}.",
    figures=_period_figures,
)
MODEL_COSTS = BlockSpec(
    "billing.model_costs",
    "Cost by model",
    "chart",
    "Cost per model.",
    query="cost_by_model",
    caption=lambda source, models: f"The period's cost per provider and model · {priced(source)}.",
    chart=lambda source, models: model_cost_chart(models),
)
TOP_USERS_CHART = BlockSpec(
    "billing.top_users",
    "Top users by cost",
    "chart",
    f"The {TOP_USERS} costliest users.",
    query="cost_by_user",
    options=_users_options,  # the same query as the "By user" table: one read on the page
    caption=lambda source, users: (
        f"The {TOP_USERS} costliest users of the period · {priced(source)}."
    ),
    chart=lambda source, users: top_users_chart(_top_users(users)),
    limit=TOP_USERS,
)
TOKENS = BlockSpec(
    "billing.tokens",
    "Tokens per model",
    "chart",
    "Input, output and cache tokens.",
    query="cost_by_model",
    caption=lambda source, models: (
        "Input tokens include cached ones; cache read and write are shown apart."
    ),
    chart=lambda source, models: tokens_chart(models),
)
DAILY_COST = BlockSpec(
    "billing.daily_cost",
    "Cost per day",
    "chart",
    "Cost per UTC day by model (per 5 minutes or hour for sub-day periods).",
    query="cost_per_day_by_model",
    caption=_daily_caption,
    chart=lambda source, daily: daily_cost_chart(daily, source.filters.grouping),
)
BY_MODEL = BlockSpec(
    "billing.by_model",
    "Cost by model (table)",
    "table",
    "Calls, tokens, cost per model.",
    query="cost_by_model",
    caption=lambda source, models: (
        "Calls, tokens and cost per provider and model, costliest first."
    ),
    columns=MODEL_COLUMNS,
)
BY_USER = BlockSpec(
    "billing.by_user",
    "Cost by user (table)",
    "table",
    f"Calls, tokens and cost per user (at most {USERS_LISTED} in a report).",
    query="cost_by_user",
    options=_users_options,
    caption=lambda source, users: (
        "Cost of each user's LLM calls in the period, costliest first; (no user) holds the "
        "calls that carry no user id, so the rows add up to the total." + capped_note(users, "rows")
    ),
    columns=USER_COLUMNS,
    rows=_named,
    limit=USERS_LISTED,
    lists_users=True,
)
UNPRICED = BlockSpec(
    "billing.unpriced",
    "Unpriced models",
    "table",
    "Models whose calls have no price.",
    query="cost_by_model",
    caption=_unpriced_caption,
    columns=UNPRICED_COLUMNS,
    rows=unpriced_of,
)

BLOCKS = (MONTH, PERIOD, MODEL_COSTS, TOP_USERS_CHART, TOKENS, DAILY_COST, BY_MODEL, BY_USER)
BLOCKS += (UNPRICED,)
