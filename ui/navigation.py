"""Which pages each role may open; only pages whose file exists are registered.

A page a role may not see is never handed to ``st.navigation`` for that
session, so its URL falls back to the default page instead of rendering.
Later pages (Analytics, Users, Billing, ...) register themselves simply by
their file appearing under ``pages/``; no placeholder screens in between.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from telemetry.accounts import ADMIN, MANAGER, Account

APP_ROOT = Path(__file__).resolve().parent.parent
EVERYONE = frozenset({ADMIN, MANAGER})
ADMINS = frozenset({ADMIN})
# The default page's own url_path (it is served at "/"): its stem stays free for the alias.
DEFAULT_PREFIX = "home-"


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    icon: str
    roles: frozenset[str]
    section: str = "Dashboards"

    @property
    def url_path(self) -> str:
        return Path(self.path).stem


PAGES = (
    PageSpec("pages/overview.py", "Overview", ":material/dashboard:", EVERYONE),
    PageSpec("pages/analytics.py", "Analytics", ":material/query_stats:", EVERYONE),
    PageSpec("pages/users.py", "Users", ":material/group:", EVERYONE),
    PageSpec("pages/billing.py", "Billing", ":material/payments:", EVERYONE),
    PageSpec("pages/live.py", "Live runs", ":material/play_circle:", EVERYONE, "Drill down"),
    PageSpec("pages/sessions.py", "Sessions", ":material/forum:", EVERYONE, "Drill down"),
    PageSpec("pages/traces.py", "Traces", ":material/account_tree:", EVERYONE, "Drill down"),
    PageSpec("pages/review.py", "Review", ":material/rate_review:", EVERYONE, "Drill down"),
    PageSpec("pages/alerts.py", "Alerts", ":material/notifications:", EVERYONE, "Alerts"),
    PageSpec("pages/reports.py", "Reports", ":material/description:", EVERYONE, "Reports"),
    PageSpec("pages/export.py", "Export", ":material/file_export:", EVERYONE, "Reports"),
    PageSpec("pages/settings.py", "Settings", ":material/settings:", ADMINS, "Admin"),
    # Managers too: they see their own events only (ui/audit_view.py).
    PageSpec("pages/audit.py", "Audit log", ":material/history:", EVERYONE, "Admin"),
)


def page_specs_for(role: str, root: Path = APP_ROOT) -> list[PageSpec]:
    """The pages ``role`` may open that exist on disk, in menu order."""
    return [spec for spec in PAGES if role in spec.roles and (root / spec.path).is_file()]


@dataclass
class Menu:
    """``st.navigation`` input for one account: sections of ``st.Page``, the first page the
    default (served at "/"), and ``alias`` serving it at its own stem too (/overview)."""

    sections: dict[str, list[st.Page]]
    default: st.Page | None = None
    alias: st.Page | None = None


def pages_for(account: Account) -> Menu:
    """The pages ``account`` may open, in menu order (see :class:`Menu`)."""
    menu = Menu({})
    specs = page_specs_for(account.role)
    for index, spec in enumerate(specs):
        # The default page is served at "/" and named after a path nobody types, so that
        # its own stem (/overview, a bookmark or a shared link) can be a hidden alias.
        url_path = f"{DEFAULT_PREFIX}{spec.url_path}" if index == 0 else None
        page = st.Page(
            str(APP_ROOT / spec.path),
            title=spec.title,
            icon=spec.icon,
            default=index == 0,
            url_path=url_path,
        )
        menu.sections.setdefault(spec.section, []).append(page)
        menu.default = menu.default or page
    if specs:
        first = specs[0]
        menu.alias = st.Page(
            str(APP_ROOT / first.path),
            title=first.title,
            icon=first.icon,
            url_path=first.url_path,
            visibility="hidden",
        )
        menu.sections[first.section].append(menu.alias)
    return menu


def login_pages(show_login: Callable[[], None]) -> list[st.Page]:
    """What a visitor who is not logged in may open: the login form, at every page's URL.

    The form is also registered (hidden) under each page's URL path, so a
    bookmarked /overview shows the login form instead of "page not found",
    and after logging in the same URL opens the page itself.
    """
    pages = [st.Page(show_login, title="Log in", icon=":material/login:", default=True)]
    for spec in page_specs_for(ADMIN):
        pages.append(
            st.Page(show_login, title="Log in", url_path=spec.url_path, visibility="hidden")
        )
    return pages
