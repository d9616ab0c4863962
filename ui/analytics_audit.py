"""The Analytics page's last sections: generated code and task outcomes, and the audit trail.

Audit events carry no team, so who sees which is decided here, once: an admin
sees every account's events of the organization, a manager only their own
(never other teams' people or actions).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from telemetry import format as fmt
from telemetry import queries
from telemetry.filters import Filters
from telemetry.queries.audit import DEFAULT_EVENT_LIMIT
from ui import analytics_blocks as blocks
from ui import plain

Load = Callable[..., object]
_NO_REPORTS = (
    "Hidden: no agent reported generated code (`code.lines_added` / `code.lines_removed`) "
    "or task outcomes (`task.outcome`) for runs in this period."
)


def code_and_outcomes(load: Load, filters: Filters) -> None:
    st.subheader("Generated code and task outcomes")
    by_agent = load(queries.code_and_outcomes, by="agent")
    if by_agent.empty:
        st.caption(_NO_REPORTS)
        return
    st.caption(
        "Only runs whose agents report them. Lines changed = lines added + removed; outcomes "
        "count runs whose `task.outcome` is clean, revised or regression (other values apart)."
    )
    by_team = load(queries.code_and_outcomes, by="team")
    for frame, name in ((by_agent, "agent"), (by_team, "team")):
        st.markdown(f"**By {name}**")
        blocks.table_with_download(
            frame,
            filters,
            name=f"code-and-outcomes-by-{name}",
            column_config={
                name: st.column_config.TextColumn(name.title()),
                "traces_with_code": blocks.count_column("Runs reporting code"),
                "lines_added": blocks.count_column("Lines added"),
                "lines_removed": blocks.count_column("Lines removed"),
                "lines_changed": blocks.count_column("Lines changed"),
                "traces_with_outcome": blocks.count_column("Runs with an outcome"),
                "clean": blocks.count_column("Clean"),
                "revised": blocks.count_column("Revised"),
                "regression": blocks.count_column("Regression"),
                "other_outcome": blocks.count_column("Other outcome"),
            },
        )


def audit_actor(allowed_teams: tuple[str, ...] | None, username: str | None) -> str | None:
    """Whose audit events the session may read: ``None`` = everyone's (admin), else its own.

    A manager session without a username gets an actor that matches nobody.
    """
    if allowed_teams is None:
        return None
    return username or "\x00no-account"


def audit(load: Load, filters: Filters, actor: str | None) -> None:
    st.subheader("Audit")
    whose = "every dashboard account" if actor is None else "your own account"
    st.caption(
        f"Logins and other recorded actions of {whose} in {fmt.day_span(filters)} (UTC). Audit "
        "events have no team or environment, so those filters do not apply; managers see only "
        "their own events. Days active = distinct UTC days with at least one event."
    )
    accounts = load(queries.audit_accounts, actor=actor)
    if accounts.empty:
        st.info(
            f"No audit events of {whose} in {fmt.day_span(filters)} in "
            f"**{plain.text(filters.org)}**. "
            "Logins and account changes are the dashboard's own events and show in every "
            "organization; the Audit log page lists every event.",
            icon=":material/info:",
        )
        return
    cards = (
        ("Logins", int(accounts["logins"].sum())),
        ("Failed logins", int(accounts["failed_logins"].sum())),
        ("Accounts with activity", len(accounts)),
        ("Events", int(accounts["events"].sum())),
    )
    for column, (label, value) in zip(st.columns(len(cards)), cards, strict=True):
        column.metric(label, fmt.count(value), border=True)
    blocks.table_with_download(
        accounts,
        filters,
        name="audit-accounts",
        column_config={
            "account": st.column_config.TextColumn("Account"),
            "logins": blocks.count_column("Logins"),
            "failed_logins": blocks.count_column("Failed logins"),
            "days_active": blocks.count_column("Days active"),
            "events": blocks.count_column("Events"),
            "last_seen": st.column_config.DatetimeColumn("Last seen (UTC)"),
        },
    )
    _events(load, filters, actor)


def _events(load: Load, filters: Filters, actor: str | None) -> None:
    search = st.text_input(
        "Search audit events",
        key="audit_search",
        placeholder="account, action, target or details",
        help="Case-insensitive text match.",
    )
    found = load(queries.audit_events, actor=actor, search=search, limit=DEFAULT_EVENT_LIMIT)
    shown = len(found.events)
    more = f" (the newest {shown} of {fmt.count(found.total)})" if found.truncated else ""
    st.caption(f"Audit events, newest first{more}: who, what, on what, when (UTC), details.")
    if found.events.empty:
        st.info(f"No audit event matches “{plain.text(search)}”.", icon=":material/info:")
        return
    blocks.table_with_download(
        found.events,
        filters,
        name="audit-events",
        column_config={
            "when": st.column_config.DatetimeColumn("When (UTC)"),
            "who": st.column_config.TextColumn("Who"),
            "what": st.column_config.TextColumn("What"),
            "target": st.column_config.TextColumn("Target"),
            "details": st.column_config.TextColumn("Details"),
        },
    )
