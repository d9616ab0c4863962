"""Middleware that keeps Streamlit's internal endpoints from anonymous callers.

Streamlit 1.67 serves ``/_stcore/metrics`` (session counts, cache sizes,
per-page usage) to anyone, and has no setting to turn it off; the dashboard
needs none of it, so every request for it is answered 404 before Streamlit
sees it.
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

HIDDEN_SUFFIXES = ("/_stcore/metrics",)


class HideInternalEndpoints:
    """Answer 404 for Streamlit endpoints that would expose internals (any method)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].rstrip("/").endswith(HIDDEN_SUFFIXES):
            response = PlainTextResponse("Not found", status_code=404)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def guard_middleware() -> list[Middleware]:
    """The middleware to hand to ``st.App(..., middleware=...)``."""
    return [Middleware(HideInternalEndpoints)]
