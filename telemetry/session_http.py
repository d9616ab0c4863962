"""The HTTP routes that set and clear the login cookie: HttpOnly, SameSite=Strict, Secure on https.

A Streamlit script talks to the browser over a WebSocket and cannot send a
``Set-Cookie`` header; these routes, served on the dashboard's port, can.
Right after the login form accepts a password, the app navigates the browser
(as Streamlit's own ``st.login`` does, no click) to
``/session/begin?code=...&next=...``: the route trades the one-time code for
the cookie (telemetry.sessions) and sends the browser back to ``next``, where
the new WebSocket carries the cookie. Logout navigates to ``/session/end``,
which revokes the login the cookie stands for and deletes the cookie.
Both refuse requests another site started (``Sec-Fetch-Site``), so a link on
another site cannot log someone in to an account of its choosing or out.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from telemetry import accounts, sessions
from telemetry.timeutil import US_PER_SECOND, now_us

BEGIN_PATH = "/session/begin"
END_PATH = "/session/end"
_served = {"routes": False}


def session_routes(
    get_engine: Callable[[], Engine],
    *,
    load_config: Callable[[], dict[str, Any]] = accounts.load_config,
) -> list[BaseRoute]:
    """The routes to mount beside the dashboard: ``GET /session/begin`` and ``/session/end``."""
    _served["routes"] = True
    handlers = _Handlers(get_engine, load_config)
    return [
        Route(BEGIN_PATH, handlers.begin, methods=["GET"]),
        Route(END_PATH, handlers.end, methods=["GET"]),
    ]


def cookie_routes_served() -> bool:
    """Whether this process built the cookie routes (else a login lasts while its tab is open)."""
    return _served["routes"]


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else ``/`` (never another site's address)."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(char) < 0x20 for char in target)
        or len(target) > 2000
    ):
        return "/"
    return target


class _Handlers:
    def __init__(self, get_engine: Callable[[], Engine], load_config) -> None:
        self.get_engine = get_engine
        self.load_config = load_config

    async def begin(self, request: Request) -> Response:
        if _started_elsewhere(request):
            return _refused()
        target = safe_next(request.query_params.get("next"))
        code = request.query_params.get("code", "")
        cookie = await run_in_threadpool(sessions.redeem_handoff, self.get_engine(), code)
        if cookie is None:
            return _expired(target)
        response = RedirectResponse(target, status_code=303)
        max_age = max(0, (cookie.expires_us - now_us()) // US_PER_SECOND)
        response.set_cookie(
            await self._cookie_name(),
            cookie.token,
            max_age=max_age,
            path="/",
            httponly=True,
            samesite="strict",
            secure=_is_https(request),
        )
        return _private(response)

    async def end(self, request: Request) -> Response:
        if _started_elsewhere(request):
            return _refused()
        name = await self._cookie_name()
        token = request.cookies.get(name, "")
        if token:
            await run_in_threadpool(sessions.revoke_token, self.get_engine(), token)
        response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
        response.delete_cookie(
            name, path="/", httponly=True, samesite="strict", secure=_is_https(request)
        )
        return _private(response)

    async def _cookie_name(self) -> str:
        try:
            config = await run_in_threadpool(self.load_config)
        except accounts.AccountsError:
            return accounts.COOKIE_NAME
        return str(config["cookie"]["name"])


def _started_elsewhere(request: Request) -> bool:
    # Browsers say who started a request; "none" is a typed address or a bookmark.
    return request.headers.get("sec-fetch-site", "same-origin") in {"cross-site", "same-site"}


def _is_https(request: Request) -> bool:
    # Behind a proxy that ends TLS, uvicorn has already taken the scheme from its
    # X-Forwarded-Proto if the proxy is trusted (FORWARDED_ALLOW_IPS, default loopback).
    return request.url.scheme == "https"


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _refused() -> Response:
    return _private(
        PlainTextResponse(
            "Refused: this login link was opened from another site. "
            "Open the dashboard's address yourself and log in there.",
            status_code=403,
        )
    )


def _expired(target: str) -> Response:
    link = html.escape(target, quote=True)
    body = (
        "<!doctype html><title>Login link expired</title>"
        "<p>This login link has expired or was already used. "
        f'<a href="{link}">Open the dashboard</a> and log in again.</p>'
    )
    return _private(HTMLResponse(body, status_code=400))
