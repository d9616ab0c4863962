"""Settings (admins only): accounts, API keys, organizations, model prices, general, data.

Tabs are (label, render) pairs: adding one is one line in TABS. The page checks the
role itself (a manager never gets it in the menu, but hiding is not access control)
and every action checks it again on the server (telemetry.admin_access).
"""

from __future__ import annotations

import streamlit as st

from telemetry.admin_access import AdminOnly, require_admin
from ui import settings_accounts, settings_general, settings_keys, settings_orgs, settings_prices
from ui.account import current_account
from ui.cache import get_engine
from ui.data_settings import render_data_settings
from ui.header import page_header
from ui.settings_common import notices

TABS = [
    ("Accounts", settings_accounts.render),
    ("API keys", settings_keys.render),
    ("Organizations", settings_orgs.render),
    ("Model prices", settings_prices.render),
    ("General", settings_general.render),
    # Retention and forget-a-user choose their organization in the tab itself.
    ("Data", lambda engine, account, _org: render_data_settings(engine, account)),
]

view = page_header("Settings")
account = current_account()
engine = get_engine()
try:
    require_admin(engine, account, "settings.open")
except AdminOnly:
    st.error("Settings are for admins only; this attempt was recorded.", icon=":material/lock:")
    st.stop()
notices()
for tab, (_, render) in zip(st.tabs([label for label, _ in TABS]), TABS, strict=True):
    with tab:
        render(engine, account, view.filters.org)
