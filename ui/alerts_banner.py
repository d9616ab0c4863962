"""The Overview's banner: rules in ALERT that the viewer may see, with a link to the Alerts page."""

from __future__ import annotations

import streamlit as st

from telemetry.alerts.overview import firing_rules
from ui import plain
from ui.account import current_account
from ui.cache import get_engine


def alert_banner(org: str) -> None:
    account = current_account()
    if account is None:
        return
    firing = firing_rules(get_engine(), account, org)
    if not firing:
        return
    # Rule names are typed by people, groups are team, agent or model names: plain text.
    names = ", ".join(
        plain.text(view.rule.spec.name)
        + (
            f" ({', '.join(plain.text(g.group) for g in view.firing if g.group)})"
            if any(g.group for g in view.firing)
            else ""
        )
        for view in firing[:5]
    )
    more = f" and {len(firing) - 5} more" if len(firing) > 5 else ""
    st.error(
        f"{len(firing)} alert rule(s) firing: {names}{more}. [Open Alerts](alerts)",
        icon=":material/notifications_active:",
    )
