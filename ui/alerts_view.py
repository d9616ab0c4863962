"""The Alerts page's rules tab (states, sparklines, actions) and history tab."""

from __future__ import annotations

from urllib.parse import urlsplit

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from telemetry.accounts import Account
from telemetry.alerts.access import AccessDenied
from telemetry.alerts.messages import value_text
from telemetry.alerts.overview import RuleView, rules_with_states
from telemetry.alerts.rules import delete_rule, set_rule_switches
from telemetry.blocks import alerts
from telemetry.blocks.formats import MISSING
from telemetry.blocks.model import Source
from telemetry.timeutil import US_PER_HOUR, from_us, now_us
from ui import block_view, plain
from ui.alert_form import rule_form

MUTE_CHOICES = {"1 hour": 1, "8 hours": 8, "24 hours": 24, "7 days": 24 * 7}


def _when(us: int | None) -> pd.Timestamp | None:
    return None if us is None else pd.Timestamp(us, unit="us")


def rules_tab(source: Source) -> None:
    engine, account, org = source.engine, source.account, source.filters.org
    views = rules_with_states(engine, account, org)
    if views:
        rules = alerts.STATES.build(source)
        sparkline = block_view.Extra(
            "last_24h",
            rules.rows["last_24h"].tolist(),
            st.column_config.LineChartColumn("Last 24 h"),
            after="value",
        )
        block_view.table(alerts.STATES, rules, source.filters, title=False, extras=[sparkline])
    else:
        st.info(
            "No alert rules yet. Add one below; it is evaluated every minute.",
            icon=":material/info:",
        )
    with st.expander("New rule", icon=":material/add_alert:", expanded=not views):
        rule_form(engine, account, org, key="new_rule")
    if views:
        rule_actions(engine, account, org, views)


def rule_actions(engine: Engine, account: Account, org: str, views: list[RuleView]) -> None:
    by_id = {view.rule.id: view for view in views}
    chosen = st.selectbox(
        "Rule",
        list(by_id),
        format_func=lambda i: f"{i}: {by_id[i].rule.spec.name}",
        key="alerts_rule_pick",
    )
    view = by_id[chosen]
    spec = view.rule.spec
    left, middle, right, far = st.columns(4)
    try:
        if left.button("Turn off" if spec.enabled else "Turn on", key="alerts_toggle"):
            set_rule_switches(engine, account, org, chosen, enabled=not spec.enabled)
            st.rerun()
        muted = spec.muted_until_us is not None and spec.muted_until_us > now_us()
        if muted:
            if middle.button(f"Unmute (muted until {from_us(spec.muted_until_us):%d %b %H:%M})"):
                set_rule_switches(engine, account, org, chosen, muted_until_us=None)
                st.rerun()
        else:
            hours = middle.selectbox("Mute for", list(MUTE_CHOICES), key="alerts_mute_for")
            if middle.button("Mute", key="alerts_mute"):
                until = now_us() + MUTE_CHOICES[hours] * US_PER_HOUR
                set_rule_switches(engine, account, org, chosen, muted_until_us=until)
                st.rerun()
        if far.button("Delete", type="secondary", key="alerts_delete"):
            delete_rule(engine, account, org, chosen)
            st.rerun()
    except (AccessDenied, LookupError, ValueError) as error:
        st.error(plain.text(error), icon=":material/error:")
    with right.popover("Edit", icon=":material/edit:"):
        rule_form(engine, account, org, key=f"edit_{chosen}", rule_id=chosen, current=spec)
    if view.groups:
        groups = pd.DataFrame(
            [
                {
                    "group": g.group or "(whole scope)",
                    "state": alerts.state_text(g.state),
                    "since": _when(g.since_us),
                    "value": value_text(spec.metric, g.value),
                    "runs": g.runs,
                }
                for g in view.groups
            ]
        )
        st.dataframe(groups, hide_index=True, width="stretch", placeholder=MISSING)


def relative(url: str) -> str:
    """The stored link without its host, so it opens on this dashboard whatever its address."""
    parts = urlsplit(url)
    return f"{parts.path.lstrip('/')}?{parts.query}" if parts.query else parts.path.lstrip("/")


def history_tab(source: Source) -> None:
    history = alerts.HISTORY.build(source)
    if history.rows.empty:
        st.info("No change of state in the selected period.", icon=":material/info:")
        return
    runs = block_view.Extra(
        "runs",
        [relative(url) if url else None for url in history.rows["url"]],
        st.column_config.LinkColumn("Runs", display_text="Open"),
        after="threshold",
    )
    block_view.table(
        alerts.HISTORY,
        history,
        source.filters,
        title=False,
        extras=[runs],
        csv_name="alert-history",
    )
