"""Settings › Model prices: the organization's own prices; set one for any model, remove one.

Setting or removing a price re-prices the model's stored calls (telemetry.reprice);
the Billing page's form does the same for models that have no price at all.
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from telemetry.accounts import Account
from telemetry.price_admin import org_prices, remove_price_as, set_price_as
from telemetry.pricing import Price
from ui import plain
from ui.settings_common import attempt

_RATES = (
    ("input", "Input"),
    ("output", "Output"),
    ("cache_read", "Cache read"),
    ("cache_write", "Cache write"),
)


def render(engine: Engine, account: Account, org: str) -> None:
    own = org_prices(engine, org)
    st.caption(
        f"Prices of **{plain.text(org)}** in USD per million tokens, used instead of the "
        "genai-prices catalog. Empty cache rates cost as input. Saving re-prices stored calls."
    )
    if own.empty:
        st.info("No own prices: the catalog applies.", icon=":material/info:")
    else:
        st.dataframe(own, hide_index=True, width="stretch")
    with st.form("settings_price", border=True):
        left, right = st.columns(2)
        model = left.text_input("Model", placeholder="e.g. claude-opus-4-1")
        provider = right.text_input("Provider (optional)")
        rates = {
            key: column.number_input(label, min_value=0.0, value=None, format="%.4f")
            for column, (key, label) in zip(st.columns(4), _RATES, strict=True)
        }
        if st.form_submit_button("Set price", type="primary"):
            if rates["input"] is None or rates["output"] is None:
                st.error("Enter both the input and the output price.", icon=":material/error:")
            else:
                price = Price(**rates)
                done = attempt(
                    lambda: set_price_as(
                        engine, account, org, model, price, provider=provider.strip()
                    ),
                    f"Price of {plain.text(model.strip())} set; stored calls re-priced.",
                )
                if done is not None:
                    st.rerun()
    if not own.empty:
        left, right = st.columns([3, 1])
        chosen = left.selectbox("Own price to remove", list(own["model"]))
        if right.button("Remove price", key="settings_price_remove"):
            done = attempt(
                lambda: remove_price_as(engine, account, org, chosen),
                f"Own price of {plain.text(chosen)} removed; the catalog applies again.",
            )
            if done is not None:
                st.rerun()
