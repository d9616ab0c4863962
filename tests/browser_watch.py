"""Shared by the hostile-data browser tests: a watched Chromium context, login, "page has settled".

A :class:`Watch` lets through only requests to the dashboard itself (and data:,
blob:, about: URLs); every other request is aborted and recorded, with every
dialog, console error and page error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from tests.browser_support import UI_TIMEOUT

VIEWPORT = {"width": 1440, "height": 900}
LOCAL_SCHEMES = ("data:", "blob:", "about:")
# Console noise of Streamlit itself when a page is opened at a sub-path (/traces?...):
# its frontend first probes <path>/_stcore/host-config and /health (404), and the
# first run, before the login cookie is read, only knows the login page.
BENIGN_CONSOLE = (
    "Failed to load resource: the server responded with a status of 404 (Not Found)",
    "The page that you have requested does not seem to exist. Running the app's main page.",
)
BENIGN_404_ENDINGS = ("/_stcore/host-config", "/_stcore/health")


@dataclass
class Watch:
    """What a context did that it must not: outside requests, dialogs, errors."""

    origin: str
    outside: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)

    def attach(self, context) -> None:
        context.route("**/*", self._route)
        context.on("page", self._watch_page)
        for page in context.pages:
            self._watch_page(page)

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(self.origin) or url.startswith(LOCAL_SCHEMES):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def _watch_page(self, page) -> None:
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on("console", self._console)
        page.on("response", self._response)

    def _console(self, message) -> None:
        if message.type == "error" and message.text not in BENIGN_CONSOLE:
            self.errors.append(message.text)

    def _response(self, response) -> None:
        if response.status == 404 and not response.url.endswith(BENIGN_404_ENDINGS):
            self.not_found.append(response.url)

    def reset(self) -> None:
        self.outside.clear()
        self.dialogs.clear()
        self.errors.clear()
        self.not_found.clear()

    def problems(self) -> dict[str, list[str]]:
        found = {
            "requests to other origins": self.outside,
            "dialogs": self.dialogs,
            "console or page errors": self.errors,
            "404 responses": self.not_found,
        }
        return {name: list(items) for name, items in found.items() if items}


def log_in(page, origin: str, username: str, password: str) -> None:
    page.goto(origin)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("stSidebarNav").wait_for(timeout=UI_TIMEOUT)
    settle(page)


def settle(page, timeout: float = 90) -> None:
    """Wait until the script run has finished and the page stopped changing."""
    page.get_by_test_id("stMain").wait_for(timeout=UI_TIMEOUT)
    deadline = time.monotonic() + timeout
    previous, calm = None, 0
    while time.monotonic() < deadline:
        page.wait_for_timeout(400)
        busy = (
            page.get_by_test_id("stStatusWidget").count()
            + page.locator("[data-stale='true']").count()
            + page.get_by_test_id("stSkeleton").count()
        )
        text = page.inner_text("body")
        calm = calm + 1 if not busy and text == previous else 0
        if calm >= 3:
            return
        previous = text
    raise AssertionError(f"{page.url} never settled")


def go(page, origin: str, path: str) -> None:
    page.goto(origin + path)
    settle(page)


def choose(page, widget_label: str, option_text: str) -> None:
    """Pick the option of a select box (its label) whose text contains ``option_text``."""
    open_options(page, widget_label)
    page.get_by_role("option").filter(has_text=option_text).first.click()
    settle(page)


def open_options(page, widget_label: str):
    """Open a select box's list (some only open from the keyboard once focused)."""
    page.get_by_test_id("stSelectbox").filter(has_text=widget_label).first.click()
    options = page.get_by_role("option")
    page.wait_for_timeout(300)
    if not options.count():
        page.keyboard.press("ArrowDown")
    options.first.wait_for()
    return options
