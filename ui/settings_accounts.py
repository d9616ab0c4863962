"""Settings › Accounts: list, add (role, teams, password typed or generated), edit, reset, remove.

Every button calls telemetry.account_admin with the signed-in account, which checks
on the server that it is an admin and writes the audit event.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from telemetry import account_admin, accounts
from telemetry.accounts import ADMIN, MANAGER, ROLES, Account
from telemetry.orgs import list_orgs
from telemetry.passwords import RULES_TEXT
from ui import plain
from ui.settings_common import attempt, keep_secret


def render(engine: Engine, account: Account, org: str) -> None:
    found = accounts.list_accounts()
    st.caption(
        "People who log in to this dashboard. Admins see every organization and team; "
        "managers see only their teams. Changing a role, teams or password, or removing an "
        "account, ends its open logins at their next click. Every change is in the audit log."
    )
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "account": a.username,
                    "name": a.name,
                    "role": a.role,
                    "teams": "all" if a.is_admin else _teams_text(a) or "none",
                }
                for a in found
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    slugs = [info.slug for info in list_orgs(engine)]
    _add(engine, account, slugs, org)
    _edit(engine, account, found, slugs, org)


def _teams_text(account: Account) -> str:
    return "; ".join(f"{org}: {', '.join(names)}" for org, names in account.teams if names)


def _org_and_teams(engine: Engine, slugs: list[str], org: str, key: str) -> tuple[str, list]:
    left, right = st.columns([1, 2])
    chosen = left.selectbox(
        "Organization of the teams",
        slugs,
        index=slugs.index(org) if org in slugs else 0,
        key=f"{key}_org",
    )
    teams = right.multiselect(
        "Teams (managers)", account_admin.known_teams(engine, chosen), key=f"{key}_teams"
    )
    return chosen, teams


def _add(engine: Engine, account: Account, slugs: list[str], org: str) -> None:
    with st.expander("Add an account", icon=":material/person_add:"):
        left, middle, right = st.columns(3)
        username = left.text_input("Username", key="add_username")
        name = middle.text_input("Display name (optional)", key="add_name")
        role = right.selectbox("Role", ROLES, index=ROLES.index(MANAGER), key="add_role")
        chosen_org, teams = _org_and_teams(engine, slugs, org, "add")
        generate = st.checkbox("Generate a password (shown once)", value=True, key="add_generate")
        password = st.text_input(
            "Password (when not generated)", type="password", help=RULES_TEXT, key="add_password"
        )
        if st.button("Add account", type="primary", key="add_account"):
            done = attempt(
                lambda: account_admin.add(
                    engine,
                    username.strip().lower(),
                    role=role,
                    teams={chosen_org: teams} if role == MANAGER else {},
                    name=name.strip(),
                    password=None if generate else password,
                    generate=generate,
                    account=account,
                ),
                f"Account {username.strip().lower()!r} created.",
            )
            if done is not None:
                if done.password:
                    keep_secret(f"Password of {done.account.username}", done.password)
                st.rerun()


def _edit(
    engine: Engine, account: Account, found: list[Account], slugs: list[str], org: str
) -> None:
    with st.expander("Change an account", icon=":material/manage_accounts:"):
        names = [a.username for a in found]
        username = st.selectbox("Account", names, key="edit_username")
        target = next((a for a in found if a.username == username), None)
        if target is None:
            return
        role = st.selectbox("Role", ROLES, index=ROLES.index(target.role), key="edit_role")
        chosen_org, teams = _org_and_teams(engine, slugs, org, "edit")
        now = "all" if target.is_admin else _teams_text(target) or "none"
        st.caption(
            f"Now: {target.role}, teams {plain.text(now)}. Saving replaces the manager's "
            "teams in the chosen organization."
        )
        left, middle, right = st.columns(3)
        if left.button("Save role and teams", key="edit_save"):
            keep_teams = role == MANAGER
            _run(
                lambda: account_admin.edit(
                    engine,
                    username,
                    role=role,
                    org=chosen_org if keep_teams else None,
                    teams=teams if keep_teams else None,
                    account=account,
                ),
                f"Account {username!r} changed; its open logins ended.",
            )
        if middle.button("Reset password", key="edit_reset"):
            done = attempt(
                lambda: account_admin.reset_password(
                    engine, username, generate=True, account=account
                ),
                f"New password for {username!r}; its open logins ended.",
            )
            if done is not None:
                keep_secret(f"Password of {username}", done.password)
                st.rerun()
        confirm = right.checkbox(f"Yes, remove {username}", key="edit_confirm")
        if right.button("Remove account", disabled=not confirm, key="edit_remove"):
            _run(
                lambda: account_admin.remove(engine, username, account=account),
                f"Account {username!r} removed.",
            )
        if target.role == ADMIN:
            st.caption("The last admin can be neither removed nor made a manager.")


def _run(action, done: str) -> None:
    if attempt(action, done) is not None:
        st.rerun()
