"""Store lookups behind the sidebar: does an organization have traces, which environments."""

from __future__ import annotations

from datetime import datetime

from telemetry.store import environment_names, org_has_traces
from tests.factories import Dataset


def test_org_has_traces_only_once_a_trace_is_stored(engine):
    data = Dataset(engine, org="acme")
    data.user("ana", team="Avalon")
    with engine.connect() as conn:
        assert not org_has_traces(conn, "acme")
        assert not org_has_traces(conn, "nowhere")
    data.trace("t1", user="ana", start=datetime(2026, 1, 1, 12))
    with engine.connect() as conn:
        assert org_has_traces(conn, "acme")
        assert not org_has_traces(conn, "default")


def test_environments_are_listed_per_organization_and_team(engine):
    data = Dataset(engine, org="acme")
    data.user("ana", team="Avalon")
    data.user("bo", team="Borealis")
    start = datetime(2026, 1, 1, 12)
    data.trace("t1", user="ana", start=start, environment="production")
    data.trace("t2", user="ana", start=start, environment="staging")
    data.trace("t3", user="bo", start=start, environment="borealis-lab")
    data.trace("t4", start=start, team=None, environment="no-team-env")
    Dataset(engine, org="other").trace("t5", start=start, environment="elsewhere")
    with engine.connect() as conn:
        assert environment_names(conn, "acme") == [
            "borealis-lab",
            "no-team-env",
            "production",
            "staging",
        ]
        assert environment_names(conn, "acme", ["Avalon"]) == ["production", "staging"]
        assert environment_names(conn, "acme", []) == []
