"""Billing: what the agents cost in the period and the billing month, by model and by user."""

from __future__ import annotations

import streamlit as st

from telemetry import format as fmt
from telemetry import queries
from telemetry.charts.billing import (
    cost_bucket_text,
    daily_cost_chart,
    model_cost_chart,
    tokens_chart,
    top_users_chart,
)
from telemetry.queries.billing import NO_USER, unpriced_of
from telemetry.timeutil import month_number
from ui import billing_view, plain, quality_view
from ui.account import current_account
from ui.cache import cached_query, get_engine
from ui.filters import current_view
from ui.header import filter_summary
from ui.periods import utc_today

TOP_USERS = 10

view = current_view()
filters = view.filters
today = utc_today()


def load(function, **options):
    return cached_query(function, filters, view.data_version, **options)


st.title("Billing")
st.caption(filter_summary(filters))
billing_view.price_notice()

months = load(queries.billing_months, today=today)
month = billing_view.month_selector(months, today)
billing_view.month_cards(load(queries.billing_month, month=month, today=today), month_number(today))
period = load(queries.billing_period)
billing_view.period_cards(period, filters)

models = load(queries.cost_by_model)
users = load(queries.cost_by_user)
if models.empty:
    st.info(
        f"No LLM calls in {fmt.day_span(filters)} for {plain.text(fmt.team_text(filters.teams))}: "
        "nothing to bill in this period. Try a longer period or fewer filters.",
        icon=":material/info:",
    )
else:
    priced = fmt.priced_text(period.priced_share)
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("Cost by model")
        st.caption(f"The period's cost per provider and model · {priced}.")
        st.altair_chart(model_cost_chart(models), width="stretch")
    with right:
        st.subheader("Top users by cost")
        st.caption(f"The {TOP_USERS} costliest users of the period · {priced}.")
        named = users.rows[users.rows["user"] != NO_USER].head(TOP_USERS)
        st.altair_chart(top_users_chart(named), width="stretch")
    st.subheader("Tokens per model")
    st.caption("Input tokens include cached ones; cache read and write are shown apart.")
    st.altair_chart(tokens_chart(models), width="stretch")
    per = cost_bucket_text(filters.grouping)
    st.subheader(f"Cost per {per.removeprefix('UTC ')}")
    st.caption(f"Stacked by model (the 8 costliest; the rest together), per {per} · {priced}.")
    st.altair_chart(
        daily_cost_chart(load(queries.cost_per_day_by_model), filters.grouping), width="stretch"
    )

    by_model, by_user = st.tabs(["By Model", "By User"])
    with by_model:
        billing_view.by_model_tab(models, filters)
    with by_user:
        billing_view.by_user_tab(users, filters)
    # Read only when asked for: rated runs per model join their LLM calls.
    if st.toggle("Cost per good run by model", key="billing-good-runs"):
        quality_view.quality_table(load, filters, "model")

st.subheader("Unpriced models")
unpriced = unpriced_of(models)
if unpriced.empty:
    st.caption("Every LLM call of the period has a price." if period.calls else "No LLM calls.")
else:
    st.caption(
        "Calls of these models have no price (none sent with the span, none of your own, none "
        "in the genai-prices catalog), so their cost counts as $0."
    )
    billing_view.unpriced_table(unpriced)
    account = current_account()
    if account is not None and account.is_admin:
        billing_view.price_form(unpriced, get_engine(), account, filters.org)
    else:
        st.caption("An admin can set a price for these models here.")
