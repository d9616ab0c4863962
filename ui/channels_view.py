"""The Alerts page's channels tab (admins): channels with their health, "Send test", settings."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from telemetry import settings
from telemetry.accounts import Account
from telemetry.alerts import channels as channel_store
from telemetry.alerts.delivery import send_test
from telemetry.alerts.senders import DeliveryError
from ui import plain

SETTINGS = {
    # In backticks: a bare URL in a label would become a link (GFM autolink).
    settings.PUBLIC_URL: "Dashboard address for links (e.g. `https://telemetry.example.com`)",
    "smtp_host": "SMTP host",
    "smtp_port": "SMTP port",
    "smtp_user": "SMTP login",
    "smtp_from": "Sender address",
    "smtp_starttls": "STARTTLS (true/false)",
}


def _when(us: int | None):
    return None if us is None else pd.Timestamp(us, unit="us")


def channels_tab(engine: Engine, account: Account, org: str) -> None:
    found = channel_store.list_channels(engine, org)
    if found:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "id": c.id,
                        "channel": c.label,
                        "health": f"FAILING ({c.failures} in a row)" if c.failing else "ok",
                        "last_error": c.last_error,
                        "last_success": _when(c.last_success_us),
                        "signed": c.kind != "webhook" or c.has_secret or None,
                    }
                    for c in found
                ]
            ),
            hide_index=True,
            width="stretch",
            column_config={
                "last_error": st.column_config.TextColumn("Last error", width="large"),
                "last_success": st.column_config.DatetimeColumn("Last delivered (UTC)"),
                "signed": st.column_config.CheckboxColumn("Own secret or not a webhook"),
            },
        )
        left, right = st.columns([3, 1])
        labels = {c.id: f"{c.id}: {c.label}" for c in found}
        chosen = left.selectbox("Channel", list(labels), format_func=labels.get)
        if right.button("Send test", icon=":material/send:", key="channel_test"):
            try:
                event_id = send_test(engine, account, org, chosen)
                st.success(f"Sent (event {event_id}).", icon=":material/check:")
            except DeliveryError as error:
                # The error may quote what the channel's server answered: plain text.
                st.error(f"The test failed: {plain.text(error)}", icon=":material/error:")
        if right.button("Remove", key="channel_remove"):
            try:
                channel_store.delete_channel(engine, account, org, chosen)
                st.rerun()
            except (ValueError, LookupError) as error:
                st.error(plain.text(error), icon=":material/error:")
    else:
        st.info("No channels yet.", icon=":material/info:")
    add_channel_form(engine, account, org)
    settings_form(engine, account)


def add_channel_form(engine: Engine, account: Account, org: str) -> None:
    with st.form("channel_form"):
        st.markdown("**Add a channel**")
        left, middle, right = st.columns([1, 3, 2])
        kind = left.selectbox("Kind", channel_store.KINDS)
        target = middle.text_input("Address or URL", placeholder="ops@example.com or https://...")
        name = right.text_input("Name (optional)")
        secret = st.text_input(
            "Webhook signing secret (optional; else TELEMETRY_WEBHOOK_SECRET)", type="password"
        )
        if st.form_submit_button("Add channel"):
            try:
                spec = channel_store.ChannelSpec(kind, target.strip(), name.strip(), secret)
                channel_store.add_channel(engine, account, org, spec)
                st.rerun()
            except (ValueError, PermissionError) as error:
                st.error(plain.text(error), icon=":material/error:")


def settings_form(engine: Engine, account: Account) -> None:
    stored = settings.stored_settings(engine)
    with st.expander("Mail server and links", icon=":material/settings:"):
        st.caption(
            "A value saved here wins over its TELEMETRY_* environment variable; leave it empty "
            "to use the variable. The SMTP password is only read from TELEMETRY_SMTP_PASSWORD "
            "or set with its own field below, and never shown."
        )
        with st.form("alert_settings"):
            values = {
                key: st.text_input(
                    label, stored.get(key, ""), placeholder=settings.get_setting(engine, key)
                )
                for key, label in SETTINGS.items()
            }
            password = st.text_input("SMTP password (leave empty to keep)", type="password")
            if st.form_submit_button("Save settings"):
                for key, value in values.items():
                    if value != stored.get(key, ""):
                        settings.set_setting(engine, key, value, account=account)
                if password:
                    settings.set_setting(engine, "smtp_password", password, account=account)
                st.rerun()
