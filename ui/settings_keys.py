"""Settings › API keys: the organization's ingest keys with their last use; create (shown
once, with the environment variables to paste), revoke."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from telemetry import apikeys, settings
from telemetry.accounts import Account
from ui import plain
from ui.settings_common import attempt, keep_secret


def _when(us: int | None):
    return None if us is None else pd.Timestamp(us, unit="us")


def exporter_settings(engine: Engine, key: str) -> str:
    """The two OpenTelemetry exporter variables an agent needs to send here with ``key``."""
    endpoint = f"{settings.public_url(engine)}/v1/traces"
    return (
        f"export OTEL_EXPORTER_OTLP_TRACES_ENDPOINT={endpoint}\n"
        # %20: the OpenTelemetry spec URL-encodes header values.
        f'export OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer%20{key}"'
    )


def render(engine: Engine, account: Account, org: str) -> None:
    st.caption(
        f"Keys of organization **{plain.text(org)}** (choose another in the sidebar) for "
        "`POST /v1/traces`. A key is shown once, when created; only its hash is stored. "
        "Revoking takes effect at the key's next request."
    )
    keys = apikeys.list_keys(engine, org)
    if keys:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "id": k.id,
                        "prefix": k.prefix,
                        "name": k.name,
                        "state": "active" if k.active else "revoked",
                        "created": _when(k.created_us),
                        "last_used": _when(k.last_used_us),
                    }
                    for k in keys
                ]
            ),
            hide_index=True,
            width="stretch",
            column_config={
                "created": st.column_config.DatetimeColumn("Created (UTC)"),
                "last_used": st.column_config.DatetimeColumn("Last used (UTC)"),
            },
        )
    else:
        st.info("No keys yet.", icon=":material/info:")
    left, right = st.columns(2)
    with left.form("key_create", border=True):
        name = st.text_input("What the key is for", placeholder="e.g. the agent's name")
        if st.form_submit_button("Create key", type="primary", icon=":material/key:"):
            made = attempt(
                lambda: apikeys.create_key(engine, org, name.strip(), account=account),
                "Key created.",
            )
            if made is not None:
                key, info = made
                keep_secret(f"Key {info.prefix} for {org}", exporter_settings(engine, key))
                st.rerun()
    active = [k for k in keys if k.active]
    with right.form("key_revoke", border=True):
        labels = {k.prefix: f"{k.prefix} {k.name}".strip() for k in active}
        chosen = st.selectbox("Key to revoke", list(labels), format_func=labels.get)
        if st.form_submit_button("Revoke key", icon=":material/key_off:", disabled=not active):
            done = attempt(
                lambda: apikeys.revoke_key(engine, chosen or "", account=account),
                f"Key {chosen} revoked: requests with it now get 401.",
            )
            if done is not None:
                st.rerun()
