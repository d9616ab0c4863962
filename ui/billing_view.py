"""Drawing helpers of the Billing page: month selector, unpriced warnings, the price form.

The cards, charts and tables are blocks (telemetry/blocks/billing.py, ui/block_view.py)."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from telemetry import format as fmt
from telemetry.accounts import Account
from telemetry.price_admin import PriceChangeRefused, set_price_as
from telemetry.pricing import Price
from telemetry.timeutil import month_number
from ui import plain

PRICE_NOTICE = "billing_price_notice"


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


def price_form(unpriced, engine: Engine, account: Account, org: str) -> None:
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
