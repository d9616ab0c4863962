"""Audit log: who changed what and when (before -> after), logins, reports, exports.

Admins see every account's events; a manager only their own (telemetry.audit_log).
"""

from __future__ import annotations

import streamlit as st

from ui import audit_view
from ui.account import current_account
from ui.cache import get_engine
from ui.header import page_header

view = page_header("Audit log")
account = current_account()
if account is None:
    st.info("Log in again to read the audit log: [go to the login page](/).")
    st.stop()
audit_view.draw(get_engine(), account, view.filters)
