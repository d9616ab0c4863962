"""Settings › General: the dashboard's public address (links in reports and alerts) and SMTP."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from telemetry import settings
from telemetry.accounts import Account
from ui.channels_view import settings_form


def render(engine: Engine, account: Account, org: str) -> None:
    st.caption(
        f"Links in reports and alerts start with **{settings.public_url(engine)}**. The same "
        "settings are on the Alerts page's Channels tab; channels themselves are there."
    )
    settings_form(engine, account)
