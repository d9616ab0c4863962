"""The login-cookie routes over a real socket: cookie flags, one-time codes, logout, refusals."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from starlette.applications import Starlette

from telemetry import accounts, session_http, sessions
from telemetry.accounts import ADMIN
from telemetry.http_guard import guard_middleware
from telemetry.timeutil import US_PER_SECOND
from tests.http_support import request, serving

DAY = 86_400 * US_PER_SECOND


@pytest.fixture
def site(sqlite_engine, tmp_path, monkeypatch):
    monkeypatch.setenv(accounts.AUTH_FILE_ENV, str(tmp_path / "auth.yaml"))
    accounts.add_account("root", role=ADMIN, password="correct-horse-battery")
    # Building the routes marks them served in this process: undone after the test.
    monkeypatch.setitem(session_http._served, "routes", True)
    app = Starlette(
        routes=session_http.session_routes(lambda: sqlite_engine), middleware=guard_middleware()
    )
    with serving(app) as url:
        yield url, sqlite_engine


def new_code(engine, days: int = 7) -> str:
    root = accounts.find_account(accounts.load_config(), "root")
    started = sessions.start_session(engine, root, lifetime_us=days * DAY)
    return started.handoff_code


def begin(url: str, code: str, next_path: str = "/billing?org=demo", **headers):
    query = urlencode({"code": code, "next": next_path})
    return request(f"{url}{session_http.BEGIN_PATH}?{query}", headers=headers)


def cookie_parts(headers) -> tuple[str, dict[str, str]]:
    (set_cookie,) = headers.get_all("set-cookie")
    first, *attributes = [part.strip() for part in set_cookie.split(";")]
    name, value = first.split("=", 1)
    flags = {}
    for attribute in attributes:
        key, _, flag_value = attribute.partition("=")
        flags[key.lower()] = flag_value
    assert name == accounts.COOKIE_NAME
    return value, flags


def test_the_code_is_traded_for_an_httponly_strict_cookie_and_the_browser_sent_back(site):
    url, engine = site
    status, headers, _ = begin(url, new_code(engine))
    assert status == 303 and headers["location"] == "/billing?org=demo"
    token, flags = cookie_parts(headers)
    assert set(flags) == {"httponly", "samesite", "path", "max-age"}
    assert flags["samesite"] == "strict" and flags["path"] == "/"
    assert 7 * 86_400 - 5 <= int(flags["max-age"]) <= 7 * 86_400
    assert sessions.session_by_token(engine, token) is not None
    assert headers["cache-control"] == "no-store"


def test_the_cookie_is_secure_when_the_browser_talks_https(site):
    url, engine = site
    _, headers, _ = begin(url, new_code(engine))
    assert "secure" not in cookie_parts(headers)[1]
    # A TLS-ending proxy on a trusted address (uvicorn's FORWARDED_ALLOW_IPS, loopback
    # by default) says the browser used https.
    _, headers, _ = begin(url, new_code(engine), **{"X-Forwarded-Proto": "https"})
    assert "secure" in cookie_parts(headers)[1]


def test_a_code_opens_once(site):
    url, engine = site
    code = new_code(engine)
    assert begin(url, code)[0] == 303
    status, headers, body = begin(url, code)
    assert status == 400 and "set-cookie" not in headers
    assert b"expired or was already used" in body


def test_a_link_started_by_another_site_is_refused(site):
    url, engine = site
    code = new_code(engine)
    for origin in ("cross-site", "same-site"):
        status, headers, _ = begin(url, code, **{"Sec-Fetch-Site": origin})
        assert status == 403 and "set-cookie" not in headers
    assert begin(url, code, **{"Sec-Fetch-Site": "same-origin"})[0] == 303


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "", "billing"]
)
def test_the_way_back_never_leads_to_another_site(site, target):
    url, engine = site
    status, headers, _ = begin(url, new_code(engine), next_path=target)
    assert status == 303 and headers["location"] == "/"


def test_session_end_revokes_the_login_and_deletes_the_cookie(site):
    url, engine = site
    _, headers, _ = begin(url, new_code(engine))
    token, _ = cookie_parts(headers)
    status, headers, _ = request(
        f"{url}{session_http.END_PATH}?next=%2F%3Flogged_out%3D1",
        headers={"Cookie": f"{accounts.COOKIE_NAME}={token}"},
    )
    assert status == 303 and headers["location"] == "/?logged_out=1"
    value, flags = cookie_parts(headers)
    assert value in ("", '""') and flags["max-age"] == "0" and "httponly" in flags
    assert sessions.session_by_token(engine, token) is None


def test_internal_metrics_are_not_served(site):
    url, _ = site
    for method in ("GET", "OPTIONS", "POST"):
        assert request(f"{url}/_stcore/metrics", method=method)[0] == 404
    assert request(f"{url}/_stcore/metrics/")[0] == 404
