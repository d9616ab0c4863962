"""What the server may know about and do to the browser of a session.

Reads come from the WebSocket handshake that started the session
(``st.context``: cookies, including HttpOnly ones, headers, peer address).
The one action is a navigation, which is how Streamlit's own ``st.login`` and
``st.logout`` reach their HTTP routes: the same ``auth_redirect`` message,
upon which the page sets ``window.location``.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import streamlit as st
from streamlit import runtime
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from telemetry.session_http import cookie_routes_served

LOOPBACK = "127.0.0.1"


def cookie(name: str) -> str:
    """The value of cookie ``name`` the browser sent when this session began ("" if none)."""
    try:
        value = st.context.cookies.get(name)
    except (AttributeError, RuntimeError):
        return ""
    return value if isinstance(value, str) else ""  # not a str: no browser (AppTest)


def client_address() -> str:
    """The client's IP address, for the login throttle and the audit log.

    Behind a reverse proxy, uvicorn (Streamlit's server) has already replaced the
    proxy's address with the client's from X-Forwarded-For when the proxy is
    trusted: ``FORWARDED_ALLOW_IPS``, by default only the loopback addresses.
    """
    try:
        address = st.context.ip_address  # None for a loopback peer
    except (AttributeError, RuntimeError):
        address = None
    return address if isinstance(address, str) and address else LOOPBACK


def cookie_routes_reachable() -> bool:
    """Whether the browser can be sent to our cookie routes: a real server built them.

    Not so under AppTest (no Streamlit runtime) or a bare ``streamlit run
    ui/dashboard.py``: a login then lasts as long as its browser tab.
    """
    return runtime.exists() and cookie_routes_served()


def navigate(url: str) -> None:
    """Send the browser to ``url`` (a path on this server) as soon as this message arrives."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return
    message = ForwardMsg()
    message.auth_redirect.url = url
    ctx.enqueue(message)


def _browser_path() -> str:
    """The address bar's path (a proxy may have added a prefix), without a final "/"."""
    try:
        url = st.context.url
    except (AttributeError, RuntimeError):
        url = None
    return urlsplit(url).path.rstrip("/") if isinstance(url, str) else ""


def app_path(page_and_query: str = "") -> str:
    """The app's root as the browser sees it, plus ``page_and_query``."""
    return f"{_browser_path()}/{page_and_query.lstrip('/')}"


def page_path(url_path: str) -> str:
    """Where this page is, query included: where to come back to after a navigation."""
    path = _browser_path()
    # st.context.url sometimes ends with the page's own path, sometimes not.
    if url_path and not path.endswith(f"/{url_path}"):
        path = f"{path}/{url_path}"
    pairs = [(key, value) for key in st.query_params for value in st.query_params.get_all(key)]
    query = f"?{urlencode(pairs)}" if pairs else ""
    return f"{path or ''}{query}" if path else f"/{query}"


def route_url(path: str, **params: str) -> str:
    """A route of ours (served at the server's root) with query parameters."""
    return f"{path}?{urlencode(params)}" if params else path
