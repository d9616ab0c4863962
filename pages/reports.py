"""Reports: choose modules and items, generate a PDF or HTML report, preview, download, keep."""

from __future__ import annotations

import streamlit as st

from ui import report_view
from ui.account import current_account
from ui.header import page_header

view = page_header("Reports")
account = current_account()
if account is None:
    st.info("Log in again to make reports: [go to the login page](/).", icon=":material/lock:")
    st.stop()
report_view.draw(view, account)
