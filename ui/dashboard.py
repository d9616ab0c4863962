"""The dashboard script that app.py mounts: login, role-aware navigation, sidebar filters.

``streamlit run app.py`` serves it (with the ingest endpoint and the background
jobs). Every run registers pages with ``st.navigation``: only the login page for
a visitor who is not logged in (so every URL shows the login form), and only the
pages of the account's role otherwise.

It lives in ui/, not beside pages/, on purpose: Streamlit switches to its legacy
multipage mode (every pages/*.py served at its own URL, without this script)
when a folder named ``pages`` sits next to the main script, and a first request
for /overview after a restart would then skip the login.
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy import make_url
from sqlalchemy.exc import OperationalError

from telemetry import accounts
from telemetry.db import database_url
from telemetry.store import UnknownOrganization
from ui import auth, cache, login_form, navigation, plain
from ui.filters import forget_view, how_to_use, sidebar_filters

st.set_page_config(
    page_title="Agent telemetry",
    # An emoji: Streamlit draws it as a data: URL, where a ":material/...:" favicon is
    # fetched from fonts.gstatic.com (and nothing may leave the viewer's browser).
    page_icon="📈",
    layout="wide",
    initial_sidebar_state="expanded",
)

# Streamlit leaves ~6rem above the first element for its header bar; the header here
# holds only the menu at the far right, so the page title can sit near the top.
LAYOUT_CSS = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 1rem; }
</style>"""


def show_login_only(authenticator, config, problem: str) -> None:
    forget_view()
    engine = cache.get_engine()
    shown = {}

    def login() -> None:
        # The URL asked for (e.g. /billing): the browser comes back to it after logging in.
        url_path = shown["page"].url_path
        login_form.login_page(authenticator, config, engine, problem, url_path=url_path)

    shown["page"] = st.navigation(navigation.login_pages(login), position="hidden")
    shown["page"].run()


def run_page(page) -> None:
    try:
        page.run()
    except UnknownOrganization as error:
        st.error(plain.text(error), icon=":material/error:")


def store_problem(error: OperationalError) -> str:
    where = make_url(database_url()).render_as_string(hide_password=True)
    # The address is the operator's own setting; the driver's message may quote anything.
    return (
        f"The store at {where} cannot be read ({plain.text(error.orig)}). Check that it is "
        "reachable and that TELEMETRY_DATABASE_URL points at it, then reload this page."
    )


def main() -> None:
    engine = cache.get_engine()
    try:
        config = accounts.load_config()
    except accounts.AccountsError as error:
        show_login_only(None, None, str(error))
        return
    authenticator = auth.make_authenticator(config)
    account = auth.signed_in_account(authenticator, config, engine)
    if account is None:
        show_login_only(authenticator, config, "")
        return
    menu = navigation.pages_for(account)
    page = st.navigation(menu.sections)
    if page is menu.alias:  # /overview: open the page the menu lists (and highlights) instead
        kept = {key: st.query_params.get_all(key) for key in st.query_params}
        st.switch_page(menu.default, query_params=kept)
    st.html(LAYOUT_CSS)
    sidebar_filters(account)
    how_to_use()
    auth.account_box(account)
    run_page(page)


try:
    main()
except OperationalError as error:  # the database is down or unreachable: say so, no traceback
    st.error(store_problem(error), icon=":material/error:")
