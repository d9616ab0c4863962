"""The Analytics page's last sections: generated code and task outcomes, and the audit trail.

Audit events carry no team, so who sees which is decided here, once: an admin
sees every account's events of the organization, a manager only their own
(never other teams' people or actions).
"""

from __future__ import annotations

import streamlit as st

from telemetry import format as fmt
from telemetry.blocks import analytics
from telemetry.blocks import audit as audit_blocks
from telemetry.blocks.model import Source
from telemetry.queries.audit import DEFAULT_EVENT_LIMIT
from ui import block_view, plain

_NO_REPORTS = (
    "Hidden: no agent reported generated code (`code.lines_added` / `code.lines_removed`) "
    "or task outcomes (`task.outcome`) for runs in this period."
)


def code_and_outcomes(source: Source) -> None:
    st.subheader("Generated code and task outcomes")
    by_agent = analytics.CODE_BY_AGENT.load(source)
    if by_agent.empty:
        st.caption(_NO_REPORTS)
        return
    for spec, data, name in (
        (analytics.CODE_BY_AGENT, by_agent, "agent"),
        (analytics.CODE_BY_TEAM, None, "team"),
    ):
        block_view.table(
            spec,
            spec.build(source, data),
            source.filters,
            title=f"By {name}",
            csv_name=f"code-and-outcomes-by-{name}",
        )


def audit_actor(allowed_teams: tuple[str, ...] | None, username: str | None) -> str | None:
    """Whose audit events the session may read: ``None`` = everyone's (admin), else its own.

    A manager session without a username gets an actor that matches nobody.
    """
    if allowed_teams is None:
        return None
    return username or "\x00no-account"


def audit(source: Source, actor: str | None) -> None:
    filters = source.filters
    st.subheader("Audit")
    whose = "every dashboard account" if actor is None else "your own account"
    st.caption(
        f"Logins and other recorded actions of {whose}. Audit events have no team or "
        "environment, so those filters do not apply; managers see only their own events."
    )
    accounts = audit_blocks.ACCOUNTS.load(source, actor=actor)
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
    block = audit_blocks.ACCOUNTS.build(source, accounts)
    block_view.table(audit_blocks.ACCOUNTS, block, filters, title=False, csv_name="audit-accounts")
    _events(source, actor)


def _events(source: Source, actor: str | None) -> None:
    search = st.text_input(
        "Search audit events",
        key="audit_search",
        placeholder="account, action, target or details",
        help="Case-insensitive text match.",
    )
    found = audit_blocks.EVENTS.load(source, actor=actor, search=search, limit=DEFAULT_EVENT_LIMIT)
    if found.events.empty:
        st.info(f"No audit event matches “{plain.text(search)}”.", icon=":material/info:")
        return
    block = audit_blocks.EVENTS.build(source, found)
    block_view.table(
        audit_blocks.EVENTS, block, source.filters, title=False, csv_name="audit-events"
    )
