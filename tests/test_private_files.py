"""The store and its folder are readable by the owner only, whatever the umask."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import text

from telemetry import private_files
from telemetry.db import make_engine


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    previous = os.umask(0o022)  # the usual default: files 0644, folders 0755
    yield
    os.umask(previous)


def test_a_new_sqlite_store_its_wal_and_shm_and_its_folder_are_private(tmp_path, open_umask):
    store = tmp_path / "fresh" / "data" / "telemetry.db"
    engine = make_engine(f"sqlite:///{store}")
    with engine.begin() as conn:  # a write in WAL mode creates -wal and -shm
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
        assert mode(store) == 0o600
        assert mode(tmp_path / "fresh" / "data" / "telemetry.db-wal") == 0o600
        assert mode(tmp_path / "fresh" / "data" / "telemetry.db-shm") == 0o600
    engine.dispose()
    assert mode(store.parent) == 0o700 and mode(store.parent.parent) == 0o700


def test_an_existing_readable_store_is_tightened(tmp_path, open_umask):
    store = tmp_path / "telemetry.db"
    store.write_bytes(b"")
    os.chmod(store, 0o644)
    before = mode(tmp_path)
    make_engine(f"sqlite:///{store}").dispose()
    assert mode(store) == 0o600
    assert mode(tmp_path) == before  # someone else's folder keeps its mode


def test_the_projects_data_folder_is_made_private(tmp_path, monkeypatch, open_umask):
    data = tmp_path / "data"
    data.mkdir()
    os.chmod(data, 0o755)
    monkeypatch.setattr(private_files, "PROJECT_DATA_DIR", data.resolve())
    make_engine(f"sqlite:///{data / 'telemetry.db'}").dispose()
    assert mode(data) == 0o700 and mode(data / "telemetry.db") == 0o600
