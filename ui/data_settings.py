"""The "Data" tab of Settings: retention per organization (with a dry run) and forgetting a user.

``render_data_settings(engine, account)`` is what the Settings page mounts; every
action checks the account's role again here, whatever the page did.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from telemetry import store
from telemetry.accounts import Account
from telemetry.forget import forget_user
from telemetry.retention import get_policy, run_retention, set_policy
from telemetry.timeutil import day_of_number
from ui import plain

RETENTION_HELP = (
    "Content (prompts, responses, tool arguments) is kept **N** days and the records "
    "(traces, spans, sessions, quarantined records) **M** days, M ≥ N; empty keeps forever. "
    "Daily totals are kept, so billing and trends of purged months stay; pages say when "
    "a period's detail is gone. The server applies the policy once a day; "
    "`python -m telemetry retention run` does it from cron."
)
FORGET_HELP = (
    "Deletes one end user's traces, spans, sessions, quarantined records and directory "
    "entry, and takes their share out of the daily totals. The audit trail keeps a receipt "
    "with counts only. This cannot be undone."
)


def render_data_settings(engine: Engine, account: Account) -> None:
    """Retention form, dry run and run, and the forget-a-user form (admins only)."""
    if not account.is_admin:
        st.error("Only admins may change data settings.", icon=":material/lock:")
        return
    with engine.connect() as conn:
        orgs = store.organization_slugs(conn)
    org = st.selectbox("Organization", orgs, key="data_org")
    st.subheader("Retention")
    st.caption(RETENTION_HELP)
    _retention_form(engine, account, org)
    _dry_run(engine, account, org)
    st.subheader("Forget a user")
    st.caption(FORGET_HELP)
    _forget_form(engine, account, org)


def _retention_form(engine: Engine, account: Account, org: str) -> None:
    with engine.connect() as conn:
        policy = get_policy(conn, store.org_id(conn, org))
    reached = [
        f"{what} before {day_of_number(day):%d %b %Y} purged"
        for what, day in (
            ("records", policy.records_purged_before_day),
            ("content", policy.content_purged_before_day),
        )
        if day is not None
    ]
    st.caption(f"Now: {policy.describe()}" + (f" ({'; '.join(reached)})" if reached else ""))
    with st.form(f"retention_{org}"):
        left, right = st.columns(2)
        content = left.number_input(
            "Keep content (days)", value=policy.content_days, step=1, placeholder="forever"
        )
        records = right.number_input(
            "Keep records (days)", value=policy.record_days, step=1, placeholder="forever"
        )
        saved = st.form_submit_button("Save retention")
    if saved:
        try:
            after = set_policy(
                engine,
                org,
                content_days=_whole(content),
                record_days=_whole(records),
                actor=account.username,
            )
        except ValueError as error:
            st.error(f"Not saved: {plain.text(error)}", icon=":material/error:")
        else:
            st.success(f"Saved: {after.describe()}.", icon=":material/check:")


def _whole(value: float | None) -> int | None:
    return None if value is None else (int(value) if float(value).is_integer() else value)


def _dry_run(engine: Engine, account: Account, org: str) -> None:
    left, right = st.columns(2)
    if left.button("Dry run: what would go today", key=f"retention_dry_{org}"):
        _show(run_retention(engine, org, dry_run=True, actor=account.username)[0])
    if right.button("Run retention now", key=f"retention_run_{org}"):
        _show(run_retention(engine, org, actor=account.username)[0])


def _show(result) -> None:
    verb = "Would delete" if result.dry_run else "Deleted"
    horizons = (
        f"records before {result.records_horizon or '(kept forever)'}, "
        f"content before {result.content_horizon or '(kept forever)'}"
    )
    st.write(f"{verb} ({horizons}):")
    counts = pd.DataFrame(
        [{"what": k.replace("_", " "), "rows": n} for k, n in result.counts.items()]
    )
    st.dataframe(counts, hide_index=True)


def _forget_form(engine: Engine, account: Account, org: str) -> None:
    with st.form(f"forget_{org}", clear_on_submit=True):
        who = st.text_input("User id or e-mail", help="user.id as the agents send it, or e-mail")
        typed = st.text_input("Type it again to confirm")
        asked = st.form_submit_button("Forget this user", type="primary")
    if not asked:
        return
    if not who.strip() or typed.strip() != who.strip():
        st.error(
            "Nothing deleted: type the user id or e-mail twice, the same both times.",
            icon=":material/error:",
        )
        return
    try:
        receipt = forget_user(engine, org, who, actor=account.username)
    except (LookupError, ValueError) as error:
        st.error(f"Nothing deleted: {plain.text(error)}", icon=":material/error:")
        return
    counts = ", ".join(f"{n:,} {k.replace('_', ' ')}" for k, n in receipt.counts.items())
    st.success(f"Erased: {counts}.", icon=":material/check:")
