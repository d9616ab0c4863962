"""The server's first start: demo data only into a brand-new store, and only once."""

from __future__ import annotations

import io
from datetime import datetime

import pytest

import telemetry.demo
from telemetry import startup
from tests.factories import Dataset


@pytest.fixture
def demo_calls(monkeypatch, tmp_path) -> list[object]:
    """Replace the (slow) demo generator by a recorder; point accounts at a temp file."""
    monkeypatch.setenv("TELEMETRY_AUTH_FILE", str(tmp_path / "auth.yaml"))
    monkeypatch.delenv(startup.DEMO_ENV, raising=False)
    calls: list[object] = []
    monkeypatch.setattr(telemetry.demo, "generate_demo", lambda engine, **_: calls.append(engine))
    return calls


def test_new_store_gets_demo_data_once(engine, demo_calls):
    startup.prepare_server(engine, out=io.StringIO())
    assert demo_calls == [engine]
    # Removing the demo later must not bring it back on the next start.
    startup.prepare_server(engine, out=io.StringIO())
    assert demo_calls == [engine]


def test_store_with_telemetry_gets_no_demo_data(engine, demo_calls):
    Dataset(engine).trace("t1", start=datetime(2026, 1, 1, 12))
    startup.prepare_server(engine, out=io.StringIO())
    assert demo_calls == []


def test_demo_can_be_turned_off(engine, demo_calls, monkeypatch):
    monkeypatch.setenv(startup.DEMO_ENV, "0")
    startup.prepare_server(engine, out=io.StringIO())
    assert demo_calls == []


def test_server_lifespan_tunes_the_garbage_collector(engine, demo_calls, monkeypatch):
    """Once the store is prepared, what exists is frozen and young collections are rarer."""
    import asyncio
    import gc
    import sys

    from telemetry import server

    monkeypatch.setenv(startup.DEMO_ENV, "0")
    before = gc.get_threshold()
    switch = sys.getswitchinterval()
    gc.unfreeze()
    lifespan = server.server_lifespan(lambda: engine, jobs=list)

    async def during() -> tuple[tuple[int, int, int], int]:
        async with lifespan(None):
            return gc.get_threshold(), gc.get_freeze_count()

    try:
        thresholds, frozen = asyncio.run(during())
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
        sys.setswitchinterval(switch)
    assert thresholds == server.GC_THRESHOLDS
    assert thresholds[0] > before[0]
    assert frozen > 1000  # the modules and objects of the prepared process
