"""Shared by the Settings tabs: one notice after a rerun, a secret shown once, refusals said."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import streamlit as st
from sqlalchemy.exc import DBAPIError

from telemetry.accounts import AccountsError
from telemetry.admin_access import AdminOnly
from ui import plain

logger = logging.getLogger(__name__)
_NOTICE = "settings_notice"
_SECRET = "settings_secret"
# What an action may raise for a person to read: bad input, unknown names, refusals.
EXPECTED = (AccountsError, AdminOnly, ValueError, LookupError, PermissionError)


def attempt(action: Callable[[], Any], done: str) -> Any:
    """Run ``action``; on success keep ``done`` for the next run and rerun, else show why."""
    try:
        result = action()
    except EXPECTED as error:
        st.error(plain.text(error), icon=":material/error:")
        return None
    except DBAPIError as error:  # each change is one transaction: undone with it
        reason = plain.text(error.orig if error.orig is not None else error)
        st.error(
            f"The database could not store this change, so nothing was changed: {reason}. "
            "Try again once it is back; the server log has the details.",
            icon=":material/error:",
        )
        logger.warning("a settings change failed in the database: %s", error)
        return None
    st.session_state[_NOTICE] = done
    return result


def keep_secret(title: str, body: str) -> None:
    """Show ``body`` (a new password or key) once, until dismissed: nothing stores it."""
    st.session_state[_SECRET] = (title, body)


def notices() -> None:
    """The last action's outcome, and a secret to copy now (then it is gone)."""
    done = st.session_state.pop(_NOTICE, None)
    if done:
        st.success(done, icon=":material/check:")
    secret = st.session_state.get(_SECRET)
    if secret:
        title, body = secret
        with st.container(border=True):
            st.markdown(f"**{title}** · shown once: copy it now, it is not stored anywhere.")
            st.code(body, language=None)
            if st.button("I have copied it", key="settings_secret_done"):
                st.session_state.pop(_SECRET, None)
                st.rerun()
