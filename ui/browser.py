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
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from telemetry import client_address as addresses


def cookie(name: str) -> str:
    """The value of cookie ``name`` the browser sent when this session began ("" if none)."""
    try:
        return str(st.context.cookies.get(name) or "")
    except (AttributeError, RuntimeError):  # no browser behind this session (tests)
        return ""


def client_address() -> str:
    """The client's address (telemetry.client_address), trusted proxies resolved."""
    try:
        peer = st.context.ip_address  # None for a loopback peer
        forwarded = st.context.headers.get_all("X-Forwarded-For")
    except (AttributeError, RuntimeError):
        peer, forwarded = None, []
    return addresses.client_address(peer, forwarded)


def navigate(url: str) -> None:
    """Send the browser to ``url`` (a path on this server) as soon as this message arrives."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return
    message = ForwardMsg()
    message.auth_redirect.url = url
    ctx.enqueue(message)


def app_path(page_and_query: str = "") -> str:
    """The app's path as the browser sees it (a proxy may add a prefix) plus ``page_and_query``."""
    try:
        base = urlsplit(st.context.url or "").path.rstrip("/")
    except (AttributeError, RuntimeError):
        base = ""
    return f"{base}/{page_and_query.lstrip('/')}"


def page_path(url_path: str) -> str:
    """Where this page is, query included: where to come back to after a navigation."""
    pairs = [(key, value) for key in st.query_params for value in st.query_params.get_all(key)]
    query = f"?{urlencode(pairs)}" if pairs else ""
    return app_path(f"/{url_path}{query}")


def route_url(path: str, **params: str) -> str:
    """A route of ours (served at the server's root) with query parameters."""
    return f"{path}?{urlencode(params)}" if params else path
