"""Alerts: rules and their states, history of changes, budgets, and (admins) channels."""

from __future__ import annotations

import streamlit as st

from ui import block_view
from ui.account import current_account
from ui.alerts_view import history_tab, rules_tab
from ui.budgets_view import budgets_tab
from ui.cache import get_engine
from ui.channels_view import channels_tab
from ui.header import page_header

view = page_header("Alerts")
account = current_account()
if account is None:
    st.stop()
engine = get_engine()
org = view.filters.org
source = block_view.page_source(view.filters, view.data_version, engine=engine, account=account)
names = ["Rules", "History", "Budgets"] + (["Channels"] if account.is_admin else [])
tabs = dict(zip(names, st.tabs(names), strict=True))
with tabs["Rules"]:
    st.caption(
        "Each rule is evaluated every minute over its window ending then; every change of state "
        "(OK, WARNING, ALERT, NO DATA, MUTED) is kept in the history and sent to its channels "
        "once, recovery included. Managers see and edit the rules of their own teams."
    )
    rules_tab(source)
with tabs["History"]:
    history_tab(source)
with tabs["Budgets"]:
    budgets_tab(source)
if "Channels" in tabs:
    with tabs["Channels"]:
        channels_tab(engine, account, org)
