"""Two dashboard processes on one PostgreSQL database stay exact under concurrent OTLP load.

Both run the product's own server (the command the README gives, kept in
bench/common.py). Exporters send the spans of the same organization and day to
either process, a trace's spans split between them, some requests sent to both.
The writers of an organization take turns on its lock row, whichever process
they run in: afterwards every total equals what was sent and the rollups equal
their base rows.
"""

from __future__ import annotations

import json
import random
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from bench.common import product_server
from telemetry.apikeys import create_key
from telemetry.db import init_store
from telemetry.models import Observation, Trace
from tests.conftest import _fresh_postgres_engine
from tests.ingest_support import otlp_request, otlp_span, post, rollup_drift_of

RUNS = 120


def runs_to_send(seed: int) -> tuple[list[list[dict]], dict[str, int]]:
    """Agent runs of one day, split into requests; and the totals that were sent."""
    rng = random.Random(seed)
    requests, totals = [], {"traces": RUNS, "calls": 0, "input": 0, "output": 0, "spans": 0}
    for trace in range(1, RUNS + 1):
        start = rng.randrange(0, 10 * 3_600)
        user = {"enduser.id": f"u{rng.randrange(6)}", "gen_ai.conversation.id": f"s{trace % 9}"}
        spans = [otlp_span(trace, 1, name="run", start_s=start, end_s=start + 30, attrs=user)]
        for n in range(rng.randrange(1, 5)):
            tokens_in, tokens_out = rng.randrange(1, 4_000), rng.randrange(1, 500)
            chat = {
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": tokens_in,
                "gen_ai.usage.output_tokens": tokens_out,
            }
            begin = start + 1 + n
            spans.append(
                otlp_span(trace, 2 + n, parent=1, start_s=begin, end_s=begin + 1, attrs=chat)
            )
            totals["calls"] += 1
            totals["input"] += tokens_in
            totals["output"] += tokens_out
        totals["spans"] += len(spans)
        rng.shuffle(spans)
        cut = rng.randrange(1, len(spans) + 1)  # the trace's spans in two requests
        requests += [spans[:cut], spans[cut:]] if cut < len(spans) else [spans]
    rng.shuffle(requests)
    return [r for r in requests if r], totals


@pytest.fixture
def postgres_store(postgres_admin_url):
    engine, drop = _fresh_postgres_engine(postgres_admin_url)
    init_store(engine)
    try:
        yield engine
    finally:
        drop()


def test_two_server_processes_on_one_postgresql_stay_exact(postgres_store, tmp_path):
    engine = postgres_store
    key, _ = create_key(engine, "default", "replicas")
    url = engine.url.render_as_string(hide_password=False)
    requests, sent = runs_to_send(seed=8)
    bodies = [json.dumps(otlp_request(spans)).encode() for spans in requests]
    bodies += bodies[:: len(bodies) // 10]  # some exporters retry: the same request again
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        product_server(url, tmp_path / "a") as first,
        product_server(url, tmp_path / "b") as second,
        ThreadPoolExecutor(6) as pool,
    ):
        targets = [(first, second)[n % 2].url for n in range(len(bodies))]
        answers = list(
            pool.map(lambda t, b: post(f"{t}/v1/traces", b, headers)[0], targets, bodies)
        )
    assert set(answers) == {200}
    with engine.connect() as conn:
        traces = conn.execute(select(func.count()).select_from(Trace)).scalar()
        spans = conn.execute(select(func.count()).select_from(Observation)).scalar()
        calls = conn.execute(
            select(
                func.count(),
                func.sum(Observation.input_tokens),
                func.sum(Observation.output_tokens),
            ).where(Observation.kind == "generation")
        ).one()
        running = conn.execute(select(func.count()).where(Trace.status != "ok")).scalar()
    assert (traces, spans, running) == (sent["traces"], sent["spans"], 0)
    assert tuple(calls) == (sent["calls"], sent["input"], sent["output"])
    assert rollup_drift_of(engine) == []
