"""Ingest keeps every rollup exact batch by batch, whatever order and batching the spans arrive in.

The writer adds the shares of the rows it writes and takes back those of the rows
they replace (telemetry.rollup_deltas). After every batch the stored rollups must
equal a fresh SQL aggregate of the base rows (``rollups check``), and at the end a
plain-Python aggregate of them (tests/test_rollups.py's oracle).
"""

from __future__ import annotations

import random

import pytest
from sqlalchemy import func, select

from telemetry.ingest.directory import DirectoryUser
from telemetry.ingest.limits import Limits
from telemetry.ingest.mapping import map_spans, mapping_context
from telemetry.ingest.otlp_json import decode_json
from telemetry.ingest.writer import SpanWriter
from telemetry.models import Observation, Trace
from telemetry.pricing import Pricer
from telemetry.rollup_tables import ROLLUPS
from telemetry.rollups import rollup_drift
from telemetry.store import org_id
from tests.ingest_support import otlp_request, otlp_span
from tests.test_rollups import assert_stored_rollups_are, base_rows, expected_rollups

HOUR = 3_600  # T0 is 2025-06-01 12:00 UTC: midnight is 12 hours later


def _chat(trace, span, start_s, output, *, end_s=None, status=1, **attrs):
    values = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": attrs.pop("model", "gpt-4o"),
        "gen_ai.provider.name": "openai",
        "gen_ai.usage.input_tokens": 10 * output,
        "gen_ai.usage.cache_read.input_tokens": output,
        "gen_ai.usage.output_tokens": output,
        "gen_ai.usage.reasoning.output_tokens": output // 2,
        **attrs,
    }
    end = start_s + 2 if end_s is None else end_s
    return otlp_span(trace, span, parent=1, start_s=start_s, end_s=end, status=status, attrs=values)


def _tool(trace, span, start_s, name, *, status=1, end_s=None, **attrs):
    values = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name, **attrs}
    end = start_s + 1 if end_s is None else end_s
    return otlp_span(trace, span, parent=1, start_s=start_s, end_s=end, status=status, attrs=values)


def _root(trace, start_s, end_s, *, status=1, message="", **attrs):
    name = f"run-{trace}"
    return otlp_span(
        trace,
        1,
        name=name,
        start_s=start_s,
        end_s=end_s,
        status=status,
        message=message,
        attrs=attrs,
    )


def scenario() -> list[tuple[dict, dict]]:
    """(span, resource) pairs whose arrival order changes traces in every way that matters.

    - 1: children name no one; the late root names the user, session s1, agent and
      team: the trace's user, team, session and agent change when the root arrives.
    - 2: root after midnight, a child 20 minutes before it: its start (and session
      day) moves to the previous day when the child arrives, or stays when it came first.
    - 3: running until its root arrives with an error; 4: a timeout.
    - 5: children say user ana in team alpha, production; the root says bob in beta,
      staging: observations move to the root's user, team and environment.
    - 6: no user and no team (NULL keys), an embedding and a failing tool.
    - 7: never gets a root (stays running); 8: a root that has not ended.
    - 9: code lines and a task outcome; its session s1 also has trace 1 and 2.
    - 10: a child with session s3 and no agent, the root with s1 and an agent: its
      session_daily key changes.
    - 11: an ended root, and a second parentless span that started earlier and has
      not ended: it becomes the root, and the trace (and session s4's last end)
      goes back to running.
    """
    prod = {}
    staging = {"deployment.environment.name": "staging"}
    who = {"enduser.id": "ana", "gen_ai.conversation.id": "s1", "gen_ai.agent.name": "coder"}
    spans = [
        (_chat(1, 2, 10, 7), prod),
        (_tool(1, 3, 20, "search"), prod),
        (_chat(1, 4, 30, 3, model="gpt-4o-mini"), prod),
        (_root(1, 0, 60, **who, **{"team.name": "alpha"}), prod),
        (_root(2, 12 * HOUR + 600, 12 * HOUR + 900, **{**who, "enduser.id": "bob"}), prod),
        (_chat(2, 2, 12 * HOUR - 600, 5, end_s=12 * HOUR + 60), prod),
        (_tool(2, 3, 12 * HOUR + 700, "grep", status=2), prod),
        (_chat(3, 2, 2 * HOUR + 5, 11), prod),
        (_root(3, 2 * HOUR, 2 * HOUR + 50, status=2, message="bad", **who), prod),
        (_chat(4, 2, 3 * HOUR + 5, 13), prod),
        (_root(4, 3 * HOUR, 3 * HOUR + 90, status=2, **{"error.type": "timeout", **who}), prod),
        (_chat(5, 2, 4 * HOUR + 5, 17, **{"enduser.id": "ana", "team.name": "alpha"}), prod),
        (_tool(5, 3, 4 * HOUR + 9, "search", **{"enduser.id": "ana"}), prod),
        (_root(5, 4 * HOUR, 4 * HOUR + 30, **{"enduser.id": "bob", "team.name": "beta"}), staging),
        (
            _chat(
                6,
                2,
                5 * HOUR + 1,
                19,
                model="text-embedding-3-small",
                **{"gen_ai.operation.name": "embeddings"},
            ),
            prod,
        ),
        (_tool(6, 3, 5 * HOUR + 2, "fetch", status=2, end_s=None), prod),
        (_root(6, 5 * HOUR, 5 * HOUR + 10), prod),
        (_chat(7, 2, 6 * HOUR + 1, 23, **{"enduser.id": "cyd"}), prod),
        (_tool(7, 3, 6 * HOUR + 3, "search", **{"enduser.id": "cyd"}), prod),
        (_root(8, 7 * HOUR, None, **{"enduser.id": "cyd", "gen_ai.conversation.id": "s2"}), prod),
        (_chat(8, 2, 7 * HOUR + 4, 29), prod),
        (_root(9, 8 * HOUR, 8 * HOUR + 70, **who, **{"task.outcome": "revised"}), prod),
        (
            _tool(9, 2, 8 * HOUR + 5, "edit", **{"code.lines_added": 12, "code.lines_removed": 3}),
            prod,
        ),
        (_chat(9, 3, 8 * HOUR + 9, 31), prod),
        (_chat(10, 2, 9 * HOUR + 5, 37, **{"gen_ai.conversation.id": "s3"}), prod),
        (_root(10, 9 * HOUR, 9 * HOUR + 40, **who), prod),
        (_root(11, 10 * HOUR, 10 * HOUR + 50, **{**who, "gen_ai.conversation.id": "s4"}), prod),
        (otlp_span(11, 2, name="restart", start_s=10 * HOUR - 5, end_s=None), prod),
    ]
    return spans


def arrival(order: str) -> list[tuple[dict, dict]]:
    spans = scenario()
    if order == "sdk":  # children end first: the SDK exports them before their root
        return sorted(spans, key=lambda pair: pair[0]["spanId"].endswith("1"))
    if order == "roots-first":
        return sorted(spans, key=lambda pair: not pair[0]["spanId"].endswith("1"))
    if order == "reverse":
        return list(reversed(spans))
    random.Random(int(order.removeprefix("shuffled-"))).shuffle(spans)
    return spans


def resend_some(spans: list, seed: int) -> list:
    """The same arrival with a few spans sent again later (exporters retry)."""
    rng = random.Random(seed)
    out = list(spans)
    for _ in range(5):
        again = rng.choice(spans)
        out.insert(rng.randrange(out.index(again) + 1, len(out) + 1), again)
    return out


def batches(spans: list, size: int) -> list[list[tuple[dict, dict]]]:
    return [spans[at : at + size] for at in range(0, len(spans), size)]


def records_of(batch: list[tuple[dict, dict]], context) -> list[dict]:
    records = []
    for span, resource in batch:
        raws, rejected = decode_json(otlp_request([span], resource))
        assert not rejected
        mapped, unmapped = map_spans(raws, context)
        assert not unmapped
        records.extend(mapped)
    return records


def drift(engine, org: int) -> list[str]:
    with engine.connect() as conn:
        return rollup_drift(conn, org)


@pytest.mark.parametrize("order", ["sdk", "roots-first", "reverse", "shuffled-1", "shuffled-2"])
@pytest.mark.parametrize("batch_size", [1, 2, 5])
def test_rollups_equal_their_base_rows_after_every_batch_in_any_order(engine, order, batch_size):
    with engine.connect() as conn:
        org = org_id(conn, "default")
    context = mapping_context(engine, org, Limits())
    writer = SpanWriter(engine, org, source="test", pricer=context.pricer)
    arrived = resend_some(arrival(order), seed=batch_size)
    # The directory moves ana to team beta a third of the way in (a bulk refresh).
    move_at = len(arrived) // 3
    for number, batch in enumerate(batches(arrived, batch_size)):
        if number == move_at // batch_size:
            writer.write(directory=[DirectoryUser("ana", team="beta")])
        writer.write(records_of(batch, context))
        assert drift(engine, org) == [], f"after batch {number}: {[s for s, _ in batch]}"
    traces, observations = base_rows(engine, org)
    assert len(traces) == 11 and len(observations) == len(scenario())
    assert_stored_rollups_are(engine, org, expected_rollups(traces, observations))


def test_each_measures_share_of_a_row_is_its_sql_aggregate_alone(engine):
    """The Python share of every measure equals the SQL aggregate over that one row."""
    with engine.connect() as conn:
        org = org_id(conn, "default")
    context = mapping_context(engine, org, Limits())
    SpanWriter(engine, org, source="test", pricer=context.pricer).write(
        records_of(scenario(), context)
    )
    traces, observations = base_rows(engine, org)
    rows = {
        "trace": {t["id"]: t for t in traces},
        "observation": {o["id"]: o for o in observations},
    }
    compared = 0
    with engine.connect() as conn:
        for rollup in ROLLUPS:
            base = Trace if rollup.base_table == "trace" else Observation
            alone = (
                select(base.id, *(m.sql.label(m.name) for m in rollup.measures))
                .where(base.org_id == org, *rollup.only)
                .group_by(base.id)
            )
            for pk, *sql_values in conn.execute(alone):
                row = rows[rollup.base_table][pk]
                assert rollup.accepts(row)
                for measure, expected, share in zip(
                    rollup.measures, sql_values, rollup.shares(row), strict=True
                ):
                    if isinstance(expected, float):
                        assert share == pytest.approx(expected), (rollup.table.name, measure.name)
                    else:
                        assert share == expected, (rollup.table.name, measure.name, pk)
                    compared += 1
            counted = sum(rollup.accepts(row) for row in rows[rollup.base_table].values())
            total = conn.execute(select(func.count()).select_from(alone.subquery())).scalar()
            assert counted == total, rollup.table.name
    assert compared > 300


def test_a_batch_that_empties_a_rollup_key_deletes_its_row(engine):
    """A trace whose only key changes leaves no zero row behind under its old key."""
    with engine.connect() as conn:
        org = org_id(conn, "default")
    context = mapping_context(engine, org, Limits())
    writer = SpanWriter(engine, org, source="test", pricer=Pricer())
    writer.write(records_of([(_chat(1, 2, 10, 7), {})], context))  # running, no user
    writer.write(records_of([(_root(1, 0, 60, **{"enduser.id": "ana"}), {})], context))
    with engine.connect() as conn:
        statuses = conn.execute(select(ROLLUPS[0].table.c.status, ROLLUPS[0].table.c.traces)).all()
    assert statuses == [("ok", 1)]
    assert drift(engine, org) == []
