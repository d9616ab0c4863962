"""The Alerts page's budgets tab: spent, remaining, forecast, run-out date, burn-down, the form."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from telemetry.accounts import Account
from telemetry.alerts import channels as channel_store
from telemetry.alerts.access import AccessDenied, allowed_teams
from telemetry.alerts.budgets import (
    SCOPE_KINDS,
    BudgetSpec,
    burn_down,
    list_budgets,
    parse_levels,
    remove_budget,
    set_budget,
)
from telemetry.alerts.rules import number
from telemetry.blocks import alerts
from telemetry.blocks.model import Source
from telemetry.charts.alerts import burn_down_chart
from ui import block_view, plain


def budgets_tab(source: Source) -> None:
    engine, account, org, today = source.engine, source.account, source.filters.org, source.today
    found = list_budgets(engine, account, org, today)
    if found:
        block = alerts.BUDGETS.build(source, alerts.budget_rows(found))
        block_view.table(alerts.BUDGETS, block, source.filters, title=False, csv_name="budgets")
        chosen = st.selectbox(
            "Burn-down of", range(len(found)), format_func=lambda i: found[i].spec.scope
        )
        status = found[chosen]
        st.altair_chart(
            burn_down_chart(burn_down(engine, status, today), status.spec.monthly_usd),
            width="stretch",
        )
    else:
        st.info("No budgets yet.", icon=":material/info:")
    budget_form(engine, account, org, [status.spec.scope for status in found])


def budget_form(engine: Engine, account: Account, org: str, existing: list[str]) -> None:
    teams = allowed_teams(account, org)
    kinds = list(SCOPE_KINDS) if teams is None else ["team"]
    channels = {c.id: c.label for c in channel_store.list_channels(engine, org)}
    with st.expander("Set a budget", icon=":material/savings:"):
        with st.form("budget_form"):
            left, right = st.columns(2)
            kind = left.selectbox("For", kinds, help="A manager sets budgets for their teams.")
            value = right.text_input(
                "Name (team, user id, agent or model; empty for the organization)",
                help=f"Your teams: {plain.text(', '.join(teams))}" if teams is not None else None,
            )
            left, middle, right = st.columns(3)
            amount = left.text_input("Monthly budget (USD)", "100")
            tokens = middle.text_input("Monthly tokens (optional)", "")
            levels = right.text_input("Notice levels (%)", "50,80,100")
            picked = st.multiselect("Channels", list(channels), format_func=channels.get)
            submitted = st.form_submit_button("Save budget", type="primary")
        if submitted:
            try:
                spec = BudgetSpec(
                    org=org,
                    kind=kind,
                    value=value.strip() if kind != "org" else "",
                    monthly_usd=number(amount, "monthly budget"),
                    monthly_tokens=int(tokens) if tokens.strip() else None,
                    levels=parse_levels(levels),
                    channels=tuple(picked),
                )
                if kind != "org" and not spec.value:
                    raise ValueError(f"give the {kind}'s name")
                set_budget(engine, account, spec)
                st.rerun()
            except (ValueError, AccessDenied, LookupError) as error:
                st.error(plain.text(error), icon=":material/error:")
    if existing:
        with st.expander("Remove a budget", icon=":material/delete:"):
            scope = st.selectbox("Budget", existing, key="budget_remove_pick")
            if st.button("Remove budget", key="budget_remove"):
                try:
                    remove_budget(engine, account, org, scope)
                    st.rerun()
                except (AccessDenied, LookupError) as error:
                    st.error(plain.text(error), icon=":material/error:")
