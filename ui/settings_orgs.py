"""Settings › Organizations: list, create, rename, delete (typing the slug to confirm)."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from telemetry import orgs
from telemetry.accounts import Account
from ui.settings_common import attempt


def render(engine: Engine, account: Account, org: str) -> None:
    found = orgs.list_orgs(engine)
    st.caption(
        "Organizations are tenants: every trace, user, team, key and price belongs to one. "
        "The slug is permanent; renaming changes the name shown."
    )
    st.dataframe(
        pd.DataFrame([vars(info) for info in found]),
        hide_index=True,
        width="stretch",
        column_config={"active_keys": st.column_config.NumberColumn("Active keys")},
    )
    slugs = [info.slug for info in found]
    create, rename, delete = st.columns(3)
    with create.form("org_create", border=True):
        slug = st.text_input("New organization's slug", placeholder="acme")
        name = st.text_input("Name (optional)")
        if st.form_submit_button("Create organization", type="primary"):
            _rerun_on(
                attempt(
                    lambda: orgs.create_org(engine, slug, name, account=account) or True,
                    f"Organization {slug.strip()!r} created; create its API key next.",
                )
            )
    with rename.form("org_rename", border=True):
        chosen = st.selectbox("Organization", slugs, index=_index(slugs, org))
        new_name = st.text_input("New name")
        if st.form_submit_button("Rename"):
            _rerun_on(
                attempt(
                    lambda: orgs.rename_org(engine, chosen, new_name, account=account) or True,
                    f"Organization {chosen!r} renamed.",
                )
            )
    with delete.form("org_delete", border=True):
        doomed = st.selectbox("Organization to delete", slugs, index=_index(slugs, org))
        typed = st.text_input("Type its slug to confirm")
        st.caption("Deletes ALL its data: traces, users, teams, keys, prices, rules, budgets.")
        if st.form_submit_button("Delete organization", icon=":material/delete_forever:"):
            _rerun_on(
                attempt(
                    lambda: orgs.delete_org(engine, doomed, confirm=typed, account=account),
                    f"Organization {doomed!r} deleted.",
                )
            )


def _index(slugs: list[str], org: str) -> int:
    return slugs.index(org) if org in slugs else 0


def _rerun_on(result) -> None:
    if result is not None:
        st.rerun()
