"""The Audit log page: filters (the sidebar's period, account, kind, scope), the table with
before -> after in words, CSV and JSON downloads, and whether the chain is intact (admins)."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from telemetry import audit_log
from telemetry.accounts import Account
from telemetry.audit import verify_chain
from telemetry.blocks import audit_log as audit_blocks
from telemetry.blocks.model import Source
from telemetry.csvsafe import to_safe_csv
from telemetry.filters import Filters
from telemetry.timeutil import from_us, now_us
from ui import block_view, plain

EVERYONE = "(every account)"
ANY_KIND = "(every kind)"


def query_for(account: Account, filters: Filters, actors: list[str]) -> audit_log.AuditQuery:
    """The listing the account may see, with the filters chosen on the page."""
    left, middle, right = st.columns(3)
    kinds = [ANY_KIND, *audit_log.KINDS]
    kind = middle.selectbox(
        "Kind",
        kinds,
        format_func=lambda k: k if k == ANY_KIND else f"{k}: {audit_log.KINDS[k]}",
        key="audit_kind",
    )
    if account.is_admin:
        actor = left.selectbox("Account", [EVERYONE, *actors], key="audit_actor")
        every_org = right.toggle(
            "Every organization",
            key="audit_every_org",
            help="Off: the sidebar's organization and the dashboard's own events (logins, "
            "accounts, organizations, settings). On: all organizations.",
        )
    else:
        actor = account.username
        every_org = True  # a manager's own events, wherever they happened
        left.caption("Managers see their own events only.")
    return audit_log.AuditQuery(
        start_us=filters.start_us,
        end_us=filters.end_us,
        org=None if every_org else filters.org,
        actor=None if actor == EVERYONE else actor,
        kind=None if kind == ANY_KIND else kind,
    )


def draw(engine: Engine, account: Account, filters: Filters) -> None:
    query = query_for(account, filters, audit_log.actors(engine) if account.is_admin else [])
    found = audit_log.list_audit(engine, query)
    spec = audit_blocks.EVENTS
    block = spec.build(Source(filters, None, from_us(now_us()).date()), found)
    if found.events.empty:
        block_view.empty(spec, block, title=False)
        st.info("No audit event matches.", icon=":material/info:")
    else:
        block_view.table(spec, block, filters, title=False, csv_name="")
        name = f"audit_{filters.org}_{filters.start}_{filters.end}"
        left, right = st.columns(2)
        left.download_button(
            "Download CSV",
            to_safe_csv(block.csv_frame()),
            file_name=f"{name}.csv",
            mime="text/csv",
            icon=":material/download:",
            on_click="ignore",
        )
        right.download_button(
            "Download JSON",
            audit_log.to_json(found.events),
            file_name=f"{name}.json",
            mime="application/json",
            icon=":material/download:",
            on_click="ignore",
        )
    if account.is_admin:
        _chain(engine)


def _chain(engine: Engine) -> None:
    if not st.button("Verify the chain", icon=":material/verified:", key="audit_verify"):
        st.caption(
            "Each event the dashboard recorded carries a hash over its content and the previous "
            "event's hash; `python -m telemetry audit verify` checks the same."
        )
        return
    check = verify_chain(engine)
    if check.intact:
        st.success(f"The chain is intact: {check.checked:,} events verified.")
    else:
        st.error(
            f"The chain is broken at event #{check.broken_seq}: {plain.text(check.problem)}",
            icon=":material/gpp_bad:",
        )
