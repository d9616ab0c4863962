"""Billing: what the agents cost in the period and the billing month, by model and by user."""

from __future__ import annotations

import streamlit as st

from telemetry import format as fmt
from telemetry.blocks import billing
from telemetry.charts.billing import cost_bucket_text
from ui import billing_view, block_view, plain, quality_view
from ui.account import current_account
from ui.cache import get_engine
from ui.filters import current_view
from ui.header import filter_summary
from ui.periods import utc_today

view = current_view()
filters = view.filters
today = utc_today()
st.title("Billing")
st.caption(filter_summary(filters))
billing_view.price_notice()

base = block_view.page_source(filters, view.data_version, today=today)
months = base.query("billing_months", today=today)
month = billing_view.month_selector(months, today)
source = block_view.page_source(filters, view.data_version, today=today, billing_month=month)


found_month = billing.MONTH.load(source)
block_view.figures(billing.MONTH, billing.MONTH.build(source, found_month))
billing_view.unpriced_warning(found_month.calls, found_month.priced_calls, "The month's cost")
period = billing.PERIOD.load(source)
block_view.figures(billing.PERIOD, billing.PERIOD.build(source, period))
billing_view.unpriced_warning(period.calls, period.priced_calls, "The period's cost")

models = source.query("cost_by_model")
if models.empty:
    st.info(
        f"No LLM calls in {fmt.day_span(filters)} for {plain.text(fmt.team_text(filters.teams))}: "
        "nothing to bill in this period. Try a longer period or fewer filters.",
        icon=":material/info:",
    )
else:
    left, right = st.columns(2, gap="large")
    with left:
        block_view.chart(billing.MODEL_COSTS, billing.MODEL_COSTS.build(source, models))
    with right:
        block_view.chart(billing.TOP_USERS_CHART, billing.TOP_USERS_CHART.build(source))
    block_view.chart(billing.TOKENS, billing.TOKENS.build(source, models))
    per = cost_bucket_text(filters.grouping).removeprefix("UTC ")
    block_view.chart(billing.DAILY_COST, billing.DAILY_COST.build(source), title=f"Cost per {per}")
    by_model, by_user = st.tabs(["By Model", "By User"])
    with by_model:
        block_view.table(
            billing.BY_MODEL, billing.BY_MODEL.build(source, models), filters, title=False
        )
    with by_user:
        block_view.table(billing.BY_USER, billing.BY_USER.build(source), filters, title=False)
    # Read only when asked for: rated runs per model join their LLM calls.
    if st.toggle("Cost per good run by model", key="billing-good-runs"):
        quality_view.quality_table(source, "model")

unpriced = billing.UNPRICED.build(source, models)
if unpriced.rows.empty:
    block_view.empty(billing.UNPRICED, unpriced)
else:
    block_view.table(billing.UNPRICED, unpriced, filters, csv_name="")
    account = current_account()
    if account is not None and account.is_admin:
        billing_view.price_form(unpriced.rows, get_engine(), account, filters.org)
    else:
        st.caption("An admin can set a price for these models here.")
