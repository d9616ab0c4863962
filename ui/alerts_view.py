"""The Alerts page's rules tab (states, sparklines, actions) and history tab."""

from __future__ import annotations

from urllib.parse import urlsplit

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from telemetry.accounts import Account
from telemetry.alerts.access import AccessDenied
from telemetry.alerts.history import alert_history
from telemetry.alerts.messages import scope_text, value_text
from telemetry.alerts.overview import RuleView, rules_with_states
from telemetry.alerts.rules import delete_rule, set_rule_switches
from telemetry.alerts.windows import WINDOW_LABELS
from telemetry.filters import Filters
from telemetry.timeutil import US_PER_HOUR, from_us, now_us
from ui import plain
from ui.alert_form import rule_form

STATE_ICONS = {
    "ALERT": "🔴 ALERT",
    "WARNING": "🟠 WARNING",
    "OK": "🟢 OK",
    "NO_DATA": "⚪ NO DATA",
    "MUTED": "🔕 MUTED",
    "OFF": "⏸ OFF",
    "PENDING_FIRST_RUN": "… not evaluated yet",
}
MUTE_CHOICES = {"1 hour": 1, "8 hours": 8, "24 hours": 24, "7 days": 24 * 7}


def _when(us: int | None) -> pd.Timestamp | None:
    return None if us is None else pd.Timestamp(us, unit="us")


def rules_table(views: list[RuleView]) -> None:
    rows = []
    for view in views:
        spec = view.rule.spec
        values = [g.value for g in view.groups if g.value is not None]
        spark = [p[1] for p in view.groups[0].recent if p[1] is not None] if view.groups else []
        rows.append(
            {
                "id": view.rule.id,
                "state": STATE_ICONS.get(view.state, view.state),
                "name": spec.name,
                "condition": f"{spec.metric} {spec.direction} "
                f"{value_text(spec.metric, spec.threshold)} over "
                f"{WINDOW_LABELS[spec.window]}",
                "scope": scope_text(spec.describe_scope()),
                "value": ", ".join(value_text(spec.metric, v) for v in values[:3]) or "–",
                "last_24h": spark,
                "evaluated": _when(view.rule.last_evaluated_us),
                "problem": view.rule.last_error,
            }
        )
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_config={
            "id": st.column_config.NumberColumn("Id", width="small"),
            "state": st.column_config.TextColumn("State"),
            "name": st.column_config.TextColumn("Rule"),
            "condition": st.column_config.TextColumn("Condition", width="medium"),
            "scope": st.column_config.TextColumn("Scope"),
            "value": st.column_config.TextColumn("Last value"),
            "last_24h": st.column_config.LineChartColumn("Last 24 h"),
            "evaluated": st.column_config.DatetimeColumn("Evaluated (UTC)", format="D MMM, HH:mm"),
            "problem": st.column_config.TextColumn("Evaluation error"),
        },
    )


def rules_tab(engine: Engine, account: Account, org: str) -> None:
    views = rules_with_states(engine, account, org)
    if views:
        rules_table(views)
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
                    "state": STATE_ICONS.get(g.state, g.state),
                    "since": _when(g.since_us),
                    "value": value_text(spec.metric, g.value),
                    "runs": g.runs,
                }
                for g in view.groups
            ]
        )
        st.dataframe(groups, hide_index=True, width="stretch")


def relative(url: str) -> str:
    """The stored link without its host, so it opens on this dashboard whatever its address."""
    parts = urlsplit(url)
    return f"{parts.path.lstrip('/')}?{parts.query}" if parts.query else parts.path.lstrip("/")


def history_tab(engine: Engine, account: Account, filters: Filters) -> None:
    entries = alert_history(
        engine, account, filters.org, since_us=filters.start_us, until_us=filters.end_us
    )
    if not entries:
        st.info("No change of state in the selected period.", icon=":material/info:")
        return
    frame = pd.DataFrame(
        [
            {
                "at": _when(entry.at_us),
                "state": STATE_ICONS.get(entry.state, entry.state),
                "rule": entry.name + (f" ({entry.group})" if entry.group else ""),
                "value": value_text(entry.metric, entry.value),
                "threshold": value_text(entry.metric, entry.threshold),
                "message": entry.message,
                "runs": relative(entry.url) if entry.url else None,
                "sent": "; ".join(
                    f"{c}: {s}" + (f" ({e})" if e else "") for c, s, e in entry.deliveries
                )
                or "not sent (no channel)",
            }
            for entry in entries
        ]
    )
    st.caption(
        "Every change of state in the period, newest first: the value and threshold at that "
        "moment, a link to the runs behind it, and where it was sent."
    )
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "at": st.column_config.DatetimeColumn("At (UTC)", format="D MMM YYYY, HH:mm"),
            "runs": st.column_config.LinkColumn("Runs", display_text="Open"),
            "message": st.column_config.TextColumn("What happened", width="large"),
            "sent": st.column_config.TextColumn("Deliveries"),
        },
    )
