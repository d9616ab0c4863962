"""The started server (streamlit run app.py): no internal metrics for anyone, private files."""

from __future__ import annotations

import stat

import pytest

from tests.browser_support import running_server
from tests.http_support import request


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("server")
    data = home / "data"  # created by the server, as data/ is on a fresh install
    env = {
        "TELEMETRY_DATABASE_URL": f"sqlite:///{data / 'telemetry.db'}",
        "TELEMETRY_AUTH_FILE": str(data / "auth.yaml"),
    }
    with running_server(home, demo=False, env=env) as started:
        started.wait_for(r"password: (\S+)", 60)  # the first start is done
        yield started


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_internal_metrics_are_refused_to_anonymous_requests(server):
    for method in ("GET", "OPTIONS"):
        status, _, body = request(f"{server.url}/_stcore/metrics", method=method)
        assert status == 404, (method, body[:200])
    status, _, body = request(f"{server.url}/_stcore/metrics?families=session_events_total")
    assert status == 404 and b"session" not in body
    # The rest of Streamlit still answers.
    assert request(f"{server.url}/_stcore/health")[0] == 200


def test_the_cookie_route_is_mounted(server):
    status, _, body = request(f"{server.url}/session/begin?code=made-up&next=/")
    assert status == 400 and b"expired or was already used" in body


def test_store_accounts_file_and_their_folder_are_private(server):
    data = server.home / "data"
    assert mode(data) == 0o700
    for name in ("telemetry.db", "telemetry.db-wal", "telemetry.db-shm", "auth.yaml"):
        path = data / name
        if name.endswith(("-wal", "-shm")) and not path.exists():
            continue  # only while a connection is open
        assert mode(path) == 0o600, name
    assert (data / "telemetry.db").exists()
