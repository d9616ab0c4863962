"""The dashboard account of this session, for pages that draw or refuse role-specific actions."""

from __future__ import annotations

import streamlit as st

from telemetry import accounts
from telemetry.accounts import Account


def current_account() -> Account | None:
    """The signed-in account, read again from the accounts file (as app.py does every run).

    ``None`` when nobody is signed in or the account no longer exists: callers
    then treat the session as having no rights at all.
    """
    try:
        config = accounts.load_config()
    except accounts.AccountsError:
        return None
    if not st.session_state.get("authentication_status"):
        return None
    return accounts.find_account(config, st.session_state.get("username"))


def is_admin() -> bool:
    account = current_account()
    return account is not None and account.is_admin
