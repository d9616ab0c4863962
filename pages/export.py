"""Export: the period's sessions, traces, generations and tool runs as files in one zip."""

from __future__ import annotations

import streamlit as st

from ui import export_view
from ui.account import current_account
from ui.header import page_header

view = page_header("Export")
account = current_account()
if account is None:
    st.info("Log in again to export: [go to the login page](/).", icon=":material/lock:")
    st.stop()
export_view.draw(view, account)
