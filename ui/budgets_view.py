"""The Alerts page's budgets tab: spent, remaining, forecast, run-out date, burn-down, the form."""

from __future__ import annotations

import pandas as pd
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
from telemetry.charts.alerts import burn_down_chart
from ui import plain
from ui.periods import utc_today

COLUMNS = ["scope", "budget_usd", "spent_usd", "remaining_usd", "used_share"]
COLUMNS += ["forecast_usd", "run_out_date", "state"]


def budgets_tab(engine: Engine, account: Account, org: str) -> None:
    today = utc_today()
    found = list_budgets(engine, account, org, today)
    st.caption(
        f"This month ({today:%B %Y}) so far. Forecast = month to date ÷ {today.day} elapsed "
        "day(s) × days in the month; the run-out date is when that daily rate reaches the "
        "budget (none when it does not this month)."
    )
    if found:
        frame = pd.DataFrame([status.as_json() for status in found])
        st.dataframe(
            frame[COLUMNS].assign(used_share=frame["used_share"].clip(upper=1.0)),
            hide_index=True,
            width="stretch",
            column_config={
                "scope": "Scope",
                "budget_usd": st.column_config.NumberColumn("Budget", format="dollar"),
                "spent_usd": st.column_config.NumberColumn("Spent", format="dollar"),
                "remaining_usd": st.column_config.NumberColumn("Remaining", format="dollar"),
                "used_share": st.column_config.ProgressColumn("Used", min_value=0, max_value=1),
                "forecast_usd": st.column_config.NumberColumn(
                    "Month-end forecast", format="dollar"
                ),
                "run_out_date": st.column_config.TextColumn("Runs out"),
                "state": "State",
            },
        )
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
