"""Resolving the sessions that spans name into ids (telemetry.ingest.identities)."""

from __future__ import annotations

from sqlalchemy import insert, select

from telemetry.ingest.identities import Identities, one_of, rows_in
from telemetry.models import Session
from tests.factories import Dataset


def _record(session_key: str, user_id: int | None = None) -> dict:
    return {"session_key": session_key, "user_id": user_id}


def _stored(conn, org_id: int) -> dict[str, tuple[int, int | None]]:
    query = select(Session.session_key, Session.id, Session.user_id).where(Session.org_id == org_id)
    return {key: (sid, owner) for key, sid, owner in conn.execute(query)}


def test_missing_sessions_are_created_once_with_their_first_named_owner(engine):
    data = Dataset(engine, org="acme")
    data.user("ana", team="Avalon")
    ana = data.user_id("ana")
    other = Dataset(engine, org="other")  # the same key in another organization
    with engine.begin() as conn:
        rows = [
            {"org_id": data.org_id, "session_key": "kept", "user_id": None, "created_us": 1},
            {"org_id": other.org_id, "session_key": "fresh", "user_id": None, "created_us": 1},
        ]
        conn.execute(insert(Session), rows)
        kept_id = _stored(conn, data.org_id)["kept"][0]

    identities = Identities(data.org_id)
    records = [
        _record("kept"),
        _record("fresh"),  # no owner named yet ...
        _record("fresh", ana),  # ... this span names one: the session's owner
        _record(""),  # no session
        _record("solo"),
    ]
    with engine.begin() as conn:
        created = identities.ensure_sessions(conn, records)
        stored = _stored(conn, data.org_id)
    assert created == 2
    assert set(stored) == {"kept", "fresh", "solo"}
    assert stored["kept"] == (kept_id, None)
    assert stored["fresh"][1] == ana
    assert stored["solo"][1] is None
    assert identities.sessions == {key: sid for key, (sid, _owner) in stored.items()}

    # Known now: a later batch creates nothing, and a forgetful cache finds them again.
    with engine.begin() as conn:
        assert identities.ensure_sessions(conn, records) == 0
        identities.clear()
        assert identities.ensure_sessions(conn, [*records, _record("late")]) == 1
        after = _stored(conn, data.org_id)
    assert {key: after[key] for key in stored} == stored
    assert identities.sessions == {key: sid for key, (sid, _owner) in after.items()}
    with engine.connect() as conn:
        assert set(_stored(conn, other.org_id)) == {"fresh"}


def test_known_sessions_take_no_ids_on_postgresql(postgresql_engine):
    """An INSERT takes a sequence number for every row it tries, conflict or not: keys
    that exist must not be tried, or the 32-bit ids run out over the months."""
    engine = postgresql_engine
    data = Dataset(engine, org="acme")
    identities = Identities(data.org_id)
    records = [_record(f"s{i}") for i in range(50)]
    with engine.begin() as conn:
        assert identities.ensure_sessions(conn, records) == 50
    sequence = "SELECT last_value FROM session_id_seq"
    with engine.connect() as conn:
        before = conn.exec_driver_sql(sequence).scalar()
    for attempt in range(3):  # as after another process wrote: the cache is emptied
        identities.clear()
        with engine.begin() as conn:
            assert identities.ensure_sessions(conn, [*records, _record("new")]) == int(attempt == 0)
    with engine.connect() as conn:
        assert conn.exec_driver_sql(sequence).scalar() == before + 1


def test_lookups_match_whole_values_only(engine):
    """A key longer than the column is not cut to the column's length and matched to a
    stored key that happens to be its beginning."""
    data = Dataset(engine, org="acme")
    stored = "k" * 256  # the longest session key the column holds
    with engine.begin() as conn:
        conn.execute(
            insert(Session),
            [{"org_id": data.org_id, "session_key": stored, "user_id": None, "created_us": 1}],
        )
        query = select(Session.session_key).where(
            Session.org_id == data.org_id, one_of(Session.session_key)
        )
        assert [row[0] for row in rows_in(conn, query, [stored + "x", "k"])] == []
        assert [row[0] for row in rows_in(conn, query, [stored])] == [stored]
