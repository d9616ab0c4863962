"""The very first request to a freshly started server shows the app's own login page.

Streamlit serves each pages/*.py file at its own URL, without the app's script
(its legacy multipage mode), when a folder named ``pages`` sits beside the main
script; ui/dashboard.py lives in ui/ so that never happens. A fresh server per
URL, since only the first request of a process could slip through.
"""

from __future__ import annotations

import pytest

from tests.browser_support import UI_TIMEOUT, chromium_browser, need_chromium, running_server

pytestmark = pytest.mark.browser

FIRST_URLS = ["/", "/billing", "/traces?trace=0af7651916cd43dd8448eb211c80319c", "/overview"]
# What Streamlit's legacy mode would list in the sidebar: the pages/ file names.
LEGACY_ENTRIES = ("analytics", "billing", "live", "sessions", "traces", "users")


@pytest.mark.parametrize("path", FIRST_URLS)
def test_first_request_after_start_gets_the_login_page(tmp_path, path):
    need_chromium()
    with running_server(tmp_path, demo=False) as server, chromium_browser() as browser:
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.set_default_timeout(UI_TIMEOUT)
        page = context.new_page()
        page.goto(server.url + path)
        page.get_by_role("button", name="Log in").wait_for()
        page.get_by_role("textbox", name="Password").wait_for()
        assert page.get_by_text("Agent telemetry").count() >= 1
        navigation = page.get_by_test_id("stSidebarNav")
        listed = navigation.inner_text().lower() if navigation.count() else ""
        assert not [name for name in LEGACY_ENTRIES if name in listed], listed
        assert page.get_by_test_id("stMetric").count() == 0
        context.close()
