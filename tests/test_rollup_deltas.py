"""Ingest keeps every rollup exact batch by batch, whatever order and batching the spans arrive in.

The writer adds the shares of the rows it writes and takes back those of the rows
they replace (telemetry.rollup_deltas). After every batch the stored rollups must
equal a fresh SQL aggregate of the base rows (``rollups check``), and at the end a
plain-Python aggregate of them (tests/test_rollups.py's oracle).
"""

from __future__ import annotations

import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError

from telemetry.apikeys import create_key
from telemetry.cli import main
from telemetry.db import DATABASE_URL_ENV, init_store
from telemetry.filters import Filters
from telemetry.ingest.directory import DirectoryUser
from telemetry.ingest.identities import Identities
from telemetry.ingest.limits import Limits
from telemetry.ingest.mapping import map_spans, mapping_context
from telemetry.ingest.otlp import Rejection
from telemetry.ingest.otlp_json import decode_json
from telemetry.ingest.spans import SpanStore
from telemetry.ingest.writer import SpanWriter
from telemetry.models import IngestError, Observation, Trace
from telemetry.pricing import Price, Pricer, TokenUsage
from telemetry.reprice import set_model_price
from telemetry.rollup_tables import ROLLUPS
from telemetry.rollups import rollup_drift
from telemetry.store import org_id
from telemetry.timeutil import now_us
from tests.ingest_support import (
    T0_NS,
    otlp_request,
    otlp_span,
    post,
    rollup_drift_of,
    running_server,
    trace_hex,
)
from tests.metrics_oracle import Oracle
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


# --- over HTTP: the dashboard's numbers are exact the moment the last export returns ------

DAY_ONE, DAY_TWO = date(2025, 6, 1), date(2025, 6, 2)
OWN_PRICES = {"acme-a": Price(input=2.0, output=8.0), "acme-b": Price(input=0.5, output=1.5)}


def random_runs(seed: int, count: int) -> list[dict]:
    """Agent runs over two days as plain Python values: the sender's own record.

    A run is a root span (user, session and agent on it, or not), 0-3 LLM calls
    and 0-2 tool calls; in one run of five the children start before the root.
    Times are seconds after T0 (noon): some runs start the next day.
    """
    rng = random.Random(seed)
    runs = []
    for number in range(1, count + 1):
        root_start = rng.randrange(0, 30 * HOUR)
        first_child = root_start - 25 if rng.random() < 0.2 else root_start + 1
        ending = rng.choice(["ok", "ok", "error", "timeout", "running"])
        runs.append(
            {
                "trace": number,
                "root_start": root_start,
                "end": None if ending == "running" else root_start + 60,
                "ending": ending,
                "user": rng.choice([None, "u1", "u2", "u3", "u4"]),
                "session": rng.choice([None, "s1", "s2", f"s-{number}"]),
                "agent": rng.choice(["", "coder", "helper"]),
                "module": rng.choice(["ide", "cli"]),
                "environment": rng.choice(["production", "staging"]),
                "calls": [
                    {
                        "start": first_child + 3 * n,
                        "model": rng.choice(["acme-a", "acme-b", "mystery"]),
                        "input": rng.randrange(1, 5_000),
                        "output": rng.randrange(1, 900),
                    }
                    for n in range(rng.randrange(0, 4))
                ],
                "tools": [first_child + 20 + n for n in range(rng.randrange(0, 3))],
            }
        )
    return runs


def run_spans(run: dict) -> list[tuple[dict, dict]]:
    """The run's OTLP/JSON spans, each with its resource."""
    resource = {"service.name": run["module"], "deployment.environment.name": run["environment"]}
    attrs = {"gen_ai.operation.name": "invoke_agent"}
    for key, name in (
        ("user", "enduser.id"),
        ("session", "gen_ai.conversation.id"),
        ("agent", "gen_ai.agent.name"),
    ):
        if run[key]:
            attrs[name] = run[key]
    if run["ending"] == "timeout":
        attrs["error.type"] = "timeout"
    status = 2 if run["ending"] in ("error", "timeout") else 1
    trace, start = run["trace"], run["root_start"]
    spans = [otlp_span(trace, 1, start_s=start, end_s=run["end"], status=status, attrs=attrs)]
    for n, call in enumerate(run["calls"]):
        chat = {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": call["model"],
            "gen_ai.provider.name": "acme",
            "gen_ai.usage.input_tokens": call["input"],
            "gen_ai.usage.output_tokens": call["output"],
        }
        at = call["start"]
        spans.append(otlp_span(trace, 2 + n, parent=1, start_s=at, end_s=at + 2, attrs=chat))
    for n, at in enumerate(run["tools"]):
        used = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"}
        spans.append(otlp_span(trace, 10 + n, parent=1, start_s=at, end_s=at + 1, attrs=used))
    return [(span, resource) for span in spans]


def request_of(batch: list[tuple[dict, dict]]) -> dict:
    """One ExportTraceServiceRequest with a resourceSpans entry per resource."""
    by_resource: dict[tuple, list[dict]] = {}
    for span, resource in batch:
        by_resource.setdefault(tuple(sorted(resource.items())), []).append(span)
    requests = [otlp_request(spans, dict(resource)) for resource, spans in by_resource.items()]
    return {"resourceSpans": [r["resourceSpans"][0] for r in requests]}


def _us(seconds: float) -> int:
    return T0_NS // 1000 + round(seconds * 1_000_000)


class SentRuns:
    """What was sent, as the rows docs/metrics.md counts: a stand-in for tests.factories.Dataset.

    Identities are their names (ids only need to be distinct); users first seen in
    telemetry join team "Unassigned" and exist from their first trace on. A run
    starts at its earliest span; its status, user, session and agent are its root's.
    """

    def __init__(self, runs: list[dict], created_us: int) -> None:
        self.org_id = 1
        self.teams = {"Unassigned": "Unassigned"}
        self.traces: list[dict] = []
        self.observations: list[dict] = []
        self.users: dict[str, dict] = {}
        for run in runs:
            starts = [run["root_start"], *(c["start"] for c in run["calls"]), *run["tools"]]
            context = {
                "org_id": 1,
                "team_id": "Unassigned" if run["user"] else None,
                "environment": run["environment"],
                "user_id": run["user"],
                "session_id": run["session"],
                "module": run["module"],
                "agent": run["agent"],
            }
            status = "running" if run["end"] is None else run["ending"]
            self.traces.append({**context, "start_us": _us(min(starts)), "status": status})
            for call in run["calls"]:
                self.observations.append(self._call(context, call))
            if run["user"]:
                user = self.users.setdefault(
                    run["user"],
                    {"id": run["user"], "status": "active", "created_us": created_us,
                     "team_id": "Unassigned", "first_trace_us": None},
                )  # fmt: skip
                first = user["first_trace_us"]
                user["first_trace_us"] = min(_us(min(starts)), first or _us(min(starts)))

    @staticmethod
    def _call(context: dict, call: dict) -> dict:
        price = OWN_PRICES.get(call["model"])
        usage = TokenUsage(input=call["input"], output=call["output"])
        return {
            **context,
            "kind": "generation",
            "start_us": _us(call["start"]),
            "provider": "acme",
            "model": call["model"],
            "input_tokens": call["input"],
            "output_tokens": call["output"],
            "cache_read_tokens": 0,
            "cache_write_tokens": 0,
            "reasoning_tokens": 0,
            "cost_usd": 0.0 if price is None else price.cost(usage),
            "cost_source": "unpriced" if price is None else "override",
        }


def test_metrics_right_after_http_export_equal_the_oracle(engine, monkeypatch, capsys):
    """Three exporters send shuffled spans of 60 runs in batches of 1-7 (some twice);
    as soon as the last answer is in, ``metrics --json`` equals docs/metrics.md computed
    in plain Python over what was sent (tests/metrics_oracle.py)."""
    for model, price in OWN_PRICES.items():
        set_model_price(engine, "default", model, price, reprice=False)
    key, _ = create_key(engine, "default", "oracle")
    runs = random_runs(seed=3, count=60)
    spans = [pair for run in runs for pair in run_spans(run)]
    rng = random.Random(4)
    rng.shuffle(spans)
    bodies = []
    at = 0
    while at < len(spans):
        size = rng.randrange(1, 8)
        body = json.dumps(request_of(spans[at : at + size])).encode()
        at += size
        bodies.extend([body] * (2 if rng.random() < 0.1 else 1))
    created_before = now_us()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    with running_server(engine) as url, ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda body: post(f"{url}/v1/traces", body, headers), bodies))
    assert {status for status, _, _ in answers} == {200}

    sent = SentRuns(runs, created_before)
    monkeypatch.setenv(DATABASE_URL_ENV, engine.url.render_as_string(hide_password=False))
    for first, last in ((DAY_ONE, DAY_ONE), (DAY_TWO, DAY_TWO), (DAY_ONE, DAY_TWO)):
        assert main(["metrics", "--json", "--from", str(first), "--to", str(last)]) == 0
        metrics = json.loads(capsys.readouterr().out)
        oracle = Oracle(sent, Filters(start=first, end=last))
        expected = oracle.scalars()
        cost = expected.pop("cost_usd")
        assert {k: metrics[k] for k in expected} == expected, (first, last)
        assert metrics["cost_usd"] == pytest.approx(cost, abs=1e-6)
        by_model = {(m["provider"], m["model"]): m for m in metrics["by_model"]}
        assert set(by_model) == set(oracle.by_model())
        for name, want in oracle.by_model().items():
            got = by_model[name]
            assert (got["calls"], got["input_tokens"], got["output_tokens"]) == (
                want["calls"],
                want["input_tokens"],
                want["output_tokens"],
            )
            assert got["cost_usd"] == pytest.approx(want["cost_usd"], abs=1e-6)
        teams = {t["team"]: t for t in metrics["by_team"]}
        assert set(teams) == set(oracle.by_team())
        for name, want in oracle.by_team().items():
            assert (teams[name]["traces"], teams[name]["users_active"]) == (
                want["traces"],
                want["users_active"],
            )
    assert rollup_drift_of(engine) == []


def test_the_unique_key_migration_rebuilds_rollups_holding_a_key_twice(engine):
    with engine.connect() as conn:
        org = org_id(conn, "default")
    context = mapping_context(engine, org, Limits())
    SpanWriter(engine, org, source="test", pricer=context.pricer).write(
        records_of(scenario(), context)
    )
    table = ROLLUPS[0].table
    with engine.begin() as conn:
        for rollup in ROLLUPS:
            conn.execute(text(f'DROP INDEX "ux_{rollup.table.name}_key"'))
        conn.execute(text("DELETE FROM schema_migration WHERE name = 'm015_rollup_unique_keys'"))
        row = conn.execute(select(table).limit(1)).mappings().one()
        conn.execute(table.insert().values({k: v for k, v in row.items() if k != "id"}))
    assert any("stored twice" in line for line in drift(engine, org))
    assert init_store(engine) == ["m015_rollup_unique_keys"]
    assert drift(engine, org) == []
    with pytest.raises(IntegrityError), engine.begin() as conn:
        row = conn.execute(select(table).limit(1)).mappings().one()
        conn.execute(table.insert().values({k: v for k, v in row.items() if k != "id"}))


# --- group commit: concurrent batches of one organization share a transaction ------------


def test_batches_waiting_for_the_writer_are_stored_together_each_with_its_outcome(engine):
    with engine.connect() as conn:
        org = org_id(conn, "default")
    context = mapping_context(engine, org, Limits())
    identities = Identities(org)
    parts = [
        records_of([(_root(1, 0, 60), {}), (_chat(1, 2, 10, 7), {})], context),
        records_of([(_chat(1, 2, 10, 7), {}), (_tool(1, 3, 20, "search"), {})], context),
        records_of([(_root(2, 100, 160), {})], context),
    ]
    bad = Rejection("request 3", "not a span", "{}")
    SpanWriter(engine, org, source="first", identities=identities).write()  # the lock row exists
    commits: list[int] = []

    def count_commit(conn) -> None:
        commits.append(1)

    event.listen(engine, "commit", count_commit)
    results: dict[int, object] = {}

    def send(number: int) -> None:
        writer = SpanWriter(
            engine, org, source=f"source {number}", identities=identities, pricer=context.pricer
        )
        results[number] = writer.write(parts[number], [bad] if number == 2 else [])

    identities.lock.acquire()  # a writer is busy: the three batches queue up
    threads = [threading.Thread(target=send, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    while len(identities.waiting) < 3:
        time.sleep(0.01)
    identities.lock.release()
    for thread in threads:
        thread.join()
    event.remove(engine, "commit", count_commit)

    assert len(commits) == 1
    stored = sorted(
        (n, r.spans_stored, r.duplicates, len(r.rejections)) for n, r in results.items()
    )
    # The chat span sent by batches 0 and 1 is stored once, for whichever came first.
    assert sum(s for _, s, _, _ in stored) == 4 and sum(d for _, _, d, _ in stored) == 1
    assert [(n, rejected) for n, _, _, rejected in stored] == [(0, 0), (1, 0), (2, 1)]
    with engine.connect() as conn:
        sources = conn.execute(select(IngestError.source)).scalars().all()
    assert sources == ["source 2"]
    assert drift(engine, org) == []


def test_a_batch_the_store_refuses_fails_alone_not_the_batches_waiting_with_it(engine, monkeypatch):
    with engine.connect() as conn:
        org = org_id(conn, "default")
    context = mapping_context(engine, org, Limits())
    identities = Identities(org)
    real_store = SpanStore.store

    def refuses_trace_2(self, records, outcome):
        if any(record["trace_id"] == trace_hex(2) for record in records):
            raise RuntimeError("the store cannot hold trace 2")
        return real_store(self, records, outcome)

    monkeypatch.setattr(SpanStore, "store", refuses_trace_2)
    results: dict[int, str] = {}

    def send(trace: int) -> None:
        writer = SpanWriter(engine, org, source="s", identities=identities, pricer=context.pricer)
        try:
            writer.write(records_of([(_root(trace, 0, 60), {})], context))
            results[trace] = "stored"
        except RuntimeError as error:
            results[trace] = str(error)

    identities.lock.acquire()  # a writer is busy: the three batches queue up
    threads = [threading.Thread(target=send, args=(n,)) for n in (1, 2, 3)]
    for thread in threads:
        thread.start()
    while len(identities.waiting) < 3:
        time.sleep(0.01)
    identities.lock.release()
    for thread in threads:
        thread.join()
    assert results == {1: "stored", 2: "the store cannot hold trace 2", 3: "stored"}
    with engine.connect() as conn:
        stored = conn.execute(select(Trace.trace_id).order_by(Trace.trace_id)).scalars().all()
    assert stored == [trace_hex(1), trace_hex(3)]
    assert drift(engine, org) == []


# --- the writer's cached ids: kept between its own batches, dropped after anyone else's ----


def test_a_writer_reuses_its_cached_ids_until_someone_else_writes(engine):
    with engine.connect() as conn:
        org = org_id(conn, "default")
    context = mapping_context(engine, org, Limits())
    mine = Identities(org)

    def my_write(trace: int) -> None:
        span = _root(trace, trace * 100, trace * 100 + 60, **{"user.id": "ana", "session.id": "s1"})
        writer = SpanWriter(engine, org, source="mine", identities=mine, pricer=context.pricer)
        writer.write(records_of([(span, {})], context))

    lookups: list[str] = []

    def count_lookups(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT") and (
            "FROM end_user" in statement or "FROM session" in statement
        ):
            lookups.append(statement)

    SpanWriter(engine, org, source="directory").write(
        directory=[DirectoryUser("ana", team="alpha")]
    )
    my_write(1)
    event.listen(engine, "before_cursor_execute", count_lookups)
    try:
        my_write(2)  # nobody else wrote: ana and her session come from the cache
        assert lookups == []
        # Another writer (another request's cache, another process) moves ana to beta:
        # the next batch finds a version it did not leave, and looks everything up again.
        other = SpanWriter(engine, org, source="directory", identities=Identities(org))
        other.write(directory=[DirectoryUser("ana", team="beta")])
        my_write(3)
        assert lookups != []
    finally:
        event.remove(engine, "before_cursor_execute", count_lookups)
    with engine.connect() as conn:
        teams = dict(
            conn.execute(
                text("SELECT t.trace_id, team.name FROM trace t JOIN team ON team.id = t.team_id")
            ).all()
        )
    # A team move takes the user's stored traces along; trace 3 was written with beta, not
    # with the team a stale cache still held.
    assert teams == {trace_hex(n): "beta" for n in (1, 2, 3)}
    assert drift(engine, org) == []


def test_a_full_cache_of_ids_is_emptied_before_the_next_batch(engine, monkeypatch):
    monkeypatch.setattr(Identities, "MAX_CACHED", 6)
    with engine.connect() as conn:
        org = org_id(conn, "default")
    context = mapping_context(engine, org, Limits())
    mine = Identities(org)
    sizes = []
    for trace in range(1, 9):  # each batch: one user, one new session
        attrs = {"user.id": "ana", "session.id": f"s{trace}"}
        span = _root(trace, trace * 100, trace * 100 + 60, **attrs)
        writer = SpanWriter(engine, org, source="mine", identities=mine, pricer=context.pricer)
        writer.write(records_of([(span, {})], context))
        sizes.append(len(mine.teams) + len(mine.users) + len(mine.sessions))
    # The first batch creates ana, her team (Unassigned) and a session; each next one a
    # session. Full at 6: emptied, and the next batch looks up ana (her team comes with
    # her) and creates its session.
    assert sizes == [3, 4, 5, 6, 2, 3, 4, 5]
    with engine.connect() as conn:
        sessions = conn.execute(text("SELECT count(*), count(DISTINCT session_key) FROM session"))
        assert tuple(sessions.one()) == (8, 8)
    assert drift(engine, org) == []
