"""Drawing helpers of the Billing page: month selector, cost cards, tabs, unpriced models."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from telemetry import format as fmt
from telemetry import kpi_text
from telemetry.accounts import Account
from telemetry.filters import Filters
from telemetry.price_admin import PriceChangeRefused, set_price_as
from telemetry.pricing import Price
from telemetry.queries import BillingMonth, BillingPeriod, UserCosts
from telemetry.timeutil import month_number
from ui import plain
from ui.downloads import csv_download

PRICE_NOTICE = "billing_price_notice"
_COUNT = {"format": "localized"}
_MONEY = st.column_config.NumberColumn("Cost (USD)", format="dollar")


def month_selector(
    months: list[int],
    today,
    *,
    key: str = "billing_month",
    help: str = "Calendar months (UTC) with LLM calls in your teams, and the current month.",
    default: int | None = None,
) -> int:
    """The billing month, chosen among months with data; ``default`` or the current month."""
    current = month_number(today)
    preferred = default if default in months else current
    return st.selectbox(
        "Billing month",
        months,
        index=months.index(preferred) if preferred in months else 0,
        format_func=lambda month: fmt.month_label(month, current),
        key=key,
        help=help,
    )


def unpriced_warning(calls: int, priced_calls: int, what: str) -> None:
    if calls and priced_calls < calls:
        st.warning(
            f"{what} leaves out {calls - priced_calls:,} of {calls:,} LLM calls that have no "
            "known price, so it is understated. See *Unpriced models* below.",
            icon=":material/warning:",
        )


def period_cards(period: BillingPeriod, filters: Filters) -> None:
    """Total cost, average monthly cost, traces, active models, priced share of the period."""
    priced = fmt.priced_text(period.priced_share)
    cards = (
        (f"Total cost · {priced}", fmt.dollars(period.cost_usd), "Sum of the period's LLM calls."),
        (
            f"Average monthly cost · {priced}",
            fmt.dollars(period.average_monthly_cost_usd),
            kpi_text.average_monthly_help(
                period.cost_usd, period.days, period.average_monthly_cost_usd
            ),
        ),
        ("Total traces", fmt.count(period.traces), "Traces started in the period."),
        ("Active models", fmt.count(period.active_models), "Provider + model pairs called."),
        (
            "Priced share",
            fmt.percent(period.priced_share),
            f"{period.priced_calls:,} of {period.calls:,} LLM calls have a price.",
        ),
    )
    st.markdown(f"**Period** · {fmt.day_span(filters)}")
    for column, (label, value, meaning) in zip(st.columns(len(cards)), cards, strict=True):
        column.metric(label, value, help=meaning, border=True)
    unpriced_warning(period.calls, period.priced_calls, "The period's cost")


def month_cards(month: BillingMonth, current: int) -> None:
    """The billing month's cost; for the month in progress, month-to-date and the forecast."""
    name = fmt.month_label(month.month, current)
    priced = fmt.priced_text(month.priced_share)
    st.markdown(f"**Billing month** · {name}")
    left, middle, right = st.columns(3)
    if month.in_progress:
        left.metric(
            f"Month to date · {priced}",
            fmt.dollars(month.cost_usd),
            help=f"LLM calls from {month.first_day:%d %b} through today, "
            f"{month.first_day.replace(day=month.elapsed_days):%d %b} (UTC), included.",
            border=True,
        )
        middle.metric(
            f"Month-end forecast · {priced}",
            fmt.dollars(month.forecast_usd),
            help="Month to date ÷ elapsed days × days in the month: "
            f"{fmt.dollars(month.cost_usd)} ÷ {month.elapsed_days} × {month.days_in_month}.",
            border=True,
        )
        right.metric("Elapsed days", f"{month.elapsed_days} of {month.days_in_month}", border=True)
        st.caption(
            f"Forecast = month to date ÷ {month.elapsed_days} elapsed day(s) (today included) × "
            f"{month.days_in_month} days: the daily average so far, over the whole month."
        )
    else:
        left.metric(
            f"Month cost · {priced}",
            fmt.dollars(month.cost_usd),
            help=f"LLM calls of {month.first_day:%d %b} – {month.last_day:%d %b %Y} (UTC).",
            border=True,
        )
        middle.metric("LLM calls", fmt.count(month.calls), border=True)
    unpriced_warning(month.calls, month.priced_calls, "The month's cost")


MODEL_COLUMNS = {
    "provider": "Provider",
    "model": "Model",
    "calls": st.column_config.NumberColumn("Calls", **_COUNT),
    "input_tokens": st.column_config.NumberColumn("Input tokens", **_COUNT),
    "output_tokens": st.column_config.NumberColumn("Output tokens", **_COUNT),
    "cache_read_tokens": st.column_config.NumberColumn("Cache read tokens", **_COUNT),
    "cache_write_tokens": st.column_config.NumberColumn("Cache write tokens", **_COUNT),
    "cost_usd": _MONEY,
    "unpriced_calls": st.column_config.NumberColumn("Unpriced calls", **_COUNT),
}
USER_COLUMNS = {
    "user": "User id",
    "name": "Name",
    "email": "Email",
    "team": "Team",
    "calls": st.column_config.NumberColumn("Calls", **_COUNT),
    "unpriced_calls": st.column_config.NumberColumn("Unpriced calls", **_COUNT),
    "priced_share": st.column_config.NumberColumn("Priced share", format="percent"),
    "input_tokens": st.column_config.NumberColumn("Input tokens", **_COUNT),
    "output_tokens": st.column_config.NumberColumn("Output tokens", **_COUNT),
    "cost_usd": _MONEY,
}


def by_model_tab(models: pd.DataFrame, filters: Filters) -> None:
    st.dataframe(models, hide_index=True, width="stretch", column_config=MODEL_COLUMNS)
    _download(models, "billing-by-model", filters)


def by_user_tab(users: UserCosts, filters: Filters) -> None:
    st.caption(
        "Cost of each user's LLM calls in the period, costliest first; *(no user)* holds the "
        "calls that carry no user id, so the rows add up to the total."
    )
    if not users.complete:
        st.caption(
            f"Showing the {len(users.rows):,} costliest of {users.matched:,} users; "
            "the CSV holds the same rows."
        )
    st.dataframe(users.rows, hide_index=True, width="stretch", column_config=USER_COLUMNS)
    _download(users.rows, "billing-by-user", filters)


def _download(frame: pd.DataFrame, name: str, filters: Filters) -> None:
    csv_download(frame, filters, name, key=f"{name}_csv")


def unpriced_table(unpriced: pd.DataFrame) -> None:
    st.dataframe(
        unpriced,
        hide_index=True,
        width="stretch",
        column_config={
            "provider": "Provider",
            "model": "Model",
            "unpriced_calls": st.column_config.NumberColumn("Unpriced calls", **_COUNT),
            "calls": st.column_config.NumberColumn("All calls", **_COUNT),
        },
    )


def price_form(unpriced: pd.DataFrame, engine: Engine, account: Account, org: str) -> None:
    """An admin's form to price one unpriced model (USD per million tokens of each kind).

    Submitting sets the organization's price, re-prices the model's stored calls
    and writes an audit event (server-side role check in :func:`set_price_as`).
    """
    choices = list(zip(unpriced["provider"], unpriced["model"], strict=True))
    with st.form("set_price", enter_to_submit=True, border=True):
        st.markdown("**Set a price** (USD per million tokens)")
        index = st.selectbox(
            "Model",
            range(len(choices)),
            format_func=lambda i: f"{choices[i][0] or '?'} / {choices[i][1]}",
            key="price_model",
        )
        columns = st.columns(4)
        prices = {}
        for column, (key, label, hint) in zip(columns, _PRICE_FIELDS, strict=True):
            prices[key] = column.number_input(
                label,
                min_value=0.0,
                value=None,
                step=0.01,
                format="%.4f",
                placeholder=hint,
                key=f"price_{key}",
            )
        submitted = st.form_submit_button(
            "Set price and re-price stored calls", type="primary", icon=":material/sell:"
        )
    if submitted:
        _submit(engine, account, org, choices[index], prices)


_PRICE_FIELDS = (
    ("input", "Input", "required"),
    ("output", "Output", "required"),
    ("cache_read", "Cache read", "same as input"),
    ("cache_write", "Cache write", "same as input"),
)


def _submit(engine: Engine, account: Account, org: str, choice, prices: dict) -> None:
    provider, model = choice
    if prices["input"] is None or prices["output"] is None:
        st.error("Enter both the input and the output price (USD per million tokens).")
        return
    price = Price(
        input=prices["input"],
        output=prices["output"],
        cache_read=prices["cache_read"],
        cache_write=prices["cache_write"],
    )
    try:
        repriced = set_price_as(engine, account, org, model, price, provider=provider)
    except (PriceChangeRefused, ValueError) as error:
        st.error(plain.text(error), icon=":material/error:")
        return
    st.session_state[PRICE_NOTICE] = (
        f"Price set for {plain.text(model)}: {repriced:,} stored call(s) re-priced. The change "
        "is in the audit log."
    )
    st.rerun()


def price_notice() -> None:
    """The confirmation of a price just set (shown once, after the rerun that shows new costs)."""
    notice = st.session_state.pop(PRICE_NOTICE, None)
    if notice:
        st.success(notice, icon=":material/check_circle:")
