"""Forgetting an end user: nothing of theirs left in any table, rollups recomputed."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import String, Text, func, inspect, select, text

from telemetry.cli import main as cli_main
from telemetry.forget import forget_user
from telemetry.models import AuditEvent, IngestError, Score, Trace, TraceDaily, TraceQuality
from telemetry.retention import run_retention, set_policy
from telemetry.rollups import rollup_drift
from telemetry.timeutil import day_number
from tests.factories import Dataset, generation, root, tool

ANA, ANA_MAIL = "ana-4711", "ana.secret@example.com"
# Every span carries the content keys: the factory inserts the first span's keys only.
NO_CONTENT = {"input_content": "", "output_content": ""}


def _store(engine) -> Dataset:
    ds = Dataset(engine)
    ds.user(ANA, team="alpha", email=ANA_MAIL, name="Ana Secret")
    ds.user("bob", team="alpha", email="bob@example.com")
    for day, user, session in (
        (2, ANA, "s-ana"),
        (3, ANA, "s-ana"),
        (3, "bob", "s-bob"),
        (20, ANA, None),
        (20, "bob", "s-ana"),
    ):
        ds.trace(
            f"t-{user}-{day}-{session}",
            user=user,
            session=session,
            start=datetime(2026, 3, day, 10),
            spans=[
                root("/ask", seconds=30, context=NO_CONTENT),
                generation(
                    at=1,
                    input_tokens=100,
                    output_tokens=10,
                    cost_usd=0.5,
                    context={**NO_CONTENT, "input_content": f"hello from {user}"},
                ),
                tool("search", at=5, context=NO_CONTENT),
            ],
        )
    with engine.begin() as conn:
        # A thumbs with a comment on every run (comments are the person's words too).
        for number, (pk, trace_id, user, day) in enumerate(
            conn.execute(select(Trace.id, Trace.trace_id, Trace.user_id, Trace.start_day))
        ):
            words = "Ana Secret said thanks" if user == ds.user_id(ANA) else "fine"
            conn.execute(
                Score.__table__.insert().values(
                    org_id=ds.org_id,
                    score_key=f"k{number}",
                    trace_id=trace_id,
                    name="review",
                    label="up",
                    comment=words,
                    source="human",
                    time_us=1,
                    trace_pk=pk,
                    trace_day=day,
                )
            )
            conn.execute(
                TraceQuality.__table__.insert().values(
                    org_id=ds.org_id, trace_id=trace_id, positive=1, reviewed=1, scores=1
                )
            )
        conn.execute(
            IngestError.__table__.insert().values(
                org_id=ds.org_id, created_us=1, reason="bad span", raw=f'{{"user.id": "{ANA}"}}'
            )
        )
    return ds


def _text_columns_mentioning(engine, needles: list[str]) -> list[str]:
    """Every text column of every table, searched for any of ``needles``."""
    found = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for column in inspect(conn).get_columns(table):
                if not isinstance(column["type"], (String, Text)):
                    continue
                name = column["name"]
                for needle in needles:
                    hits = conn.execute(
                        text(f'SELECT count(*) FROM "{table}" WHERE "{name}" LIKE :n'),
                        {"n": f"%{needle}%"},
                    ).scalar()
                    if hits:
                        found.append(f"{table}.{name} holds {needle}")
    return found


def _bob_totals(engine, bob: int) -> tuple:
    with engine.connect() as conn:
        return conn.execute(
            select(func.sum(TraceDaily.traces), func.sum(TraceDaily.cost_usd)).where(
                TraceDaily.user_id == bob
            )
        ).one()


def test_nothing_of_theirs_is_left_in_any_table(engine):
    ds = _store(engine)
    ana, bob = ds.user_id(ANA), ds.user_id("bob")
    # Records before 2026-03-10 purged first: there the rollups are all that is left.
    set_policy(engine, "default", content_days=10, record_days=10)
    (purge,) = run_retention(engine, "default", today=day_number(datetime(2026, 3, 20).date()))
    assert purge.counts["scores"] == 3  # the runs of 2 and 3 March went, their scores with them
    assert len(_text_columns_mentioning(engine, [ANA, ANA_MAIL, "hello from ana"])) >= 3
    assert _text_columns_mentioning(engine, ["Ana Secret said"]) == [
        "score.comment holds Ana Secret said"
    ]
    bob_before = _bob_totals(engine, bob)

    receipt = forget_user(engine, "default", ANA_MAIL.upper(), actor="root")

    assert receipt.counts["traces"] == 1 and receipt.counts["directory_entries"] == 1
    assert receipt.counts["scores"] == 1
    assert receipt.counts["rollup_rows_before_horizon"] > 0
    assert _text_columns_mentioning(engine, [ANA, ANA_MAIL, "Ana Secret", "hello from ana"]) == []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            if "user_id" in [c["name"] for c in inspect(conn).get_columns(table)]:
                left = conn.execute(
                    text(f'SELECT count(*) FROM "{table}" WHERE user_id = :u'), {"u": ana}
                )
                assert left.scalar() == 0, table
        assert rollup_drift(conn, ds.org_id) == []
        details = conn.execute(
            select(AuditEvent.details).where(AuditEvent.action == "user.erased")
        ).scalar_one()
    assert json.loads(details)["counts"] == receipt.counts
    assert _bob_totals(engine, bob) == bob_before
    with engine.connect() as conn:  # bob's run of 20 March keeps its score and verdict
        assert conn.execute(select(Score.comment)).scalars().all() == ["fine"]
        assert conn.execute(select(func.count()).select_from(TraceQuality)).scalar() == 1


def test_unknown_user_is_refused_and_nothing_deleted(sqlite_engine, monkeypatch, capsys):
    ds = _store(sqlite_engine)
    monkeypatch.setenv("TELEMETRY_DATABASE_URL", str(sqlite_engine.url))
    assert cli_main(["users", "forget", "--org", "default", "nobody@example.com"]) == 2
    assert "no user 'nobody@example.com'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="give the user's id"):
        forget_user(sqlite_engine, "default", "  ")
    assert len(_text_columns_mentioning(sqlite_engine, [ANA])) > 0
    assert cli_main(["users", "forget", "--org", "default", ANA, "--json"]) == 0
    receipt = json.loads(capsys.readouterr().out)
    assert receipt["counts"]["traces"] == 3
    assert ANA not in json.dumps(receipt)
    assert ds.user_id("bob")
