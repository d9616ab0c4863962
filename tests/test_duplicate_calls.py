"""One call counts once: an LLM-call span nested under another of the same model and usage.

The spans are shaped as the libraries emit them: an instrumentation's span around
an SDK's own span (with an HTTP span between), OpenInference's LangChain span
around its OpenAI span. Whatever order and batching they arrive in, the stored
rollups agree with their base rows after every batch (``rollups check``), and
``metrics --json`` equals a plain-Python sum over the calls the test data counts.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from telemetry.cli import main
from telemetry.db import DATABASE_URL_ENV
from telemetry.ingest.limits import Limits
from telemetry.ingest.mapping import MappingContext, map_spans
from telemetry.ingest.otlp_json import decode_json
from telemetry.ingest.writer import SpanWriter
from telemetry.models import Observation, Trace
from telemetry.pricing import Price, Pricer
from telemetry.queries.trace_tree import build_tree
from telemetry.rollups import rollup_drift
from telemetry.store import org_id
from tests.ingest_support import otlp_request, otlp_span, span_hex, trace_hex

PRICES = {
    "claude-sonnet-4-5": Price(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75),
    "gpt-4o-mini": Price(input=0.15, output=0.6, cache_read=0.075),
}
CONTEXT = MappingContext(Pricer(PRICES), Limits())

OPENLLMETRY_ANTHROPIC = {  # the instrumentation's span around the SDK call
    "gen_ai.operation.name": "chat",
    "gen_ai.system": "anthropic",
    "gen_ai.request.model": "claude-sonnet-4-5",
    "gen_ai.usage.input_tokens": 2600,
    "gen_ai.usage.output_tokens": 80,
    "gen_ai.usage.total_tokens": 2680,
    "gen_ai.usage.cache_read.input_tokens": 2000,
    "gen_ai.usage.cache_creation.input_tokens": 500,
}
ANTHROPIC_SDK = {  # the SDK tracing its own call, current GenAI names
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "anthropic",
    "gen_ai.request.model": "claude-sonnet-4-5",
    "gen_ai.usage.input_tokens": 2600,
    "gen_ai.usage.output_tokens": 80,
    "gen_ai.usage.cache_read.input_tokens": 2000,
    "gen_ai.usage.cache_write.input_tokens": 500,
}


def _openinference(prompt: int, completion: int) -> dict:
    return {
        "openinference.span.kind": "LLM",
        "llm.system": "openai",
        "llm.model_name": "gpt-4o-mini",
        "llm.token_count.prompt": prompt,
        "llm.token_count.completion": completion,
        "llm.token_count.total": prompt + completion,
    }


def _root(trace: int, user: str) -> dict:
    attrs = {"gen_ai.operation.name": "invoke_agent", "enduser.id": user}
    return otlp_span(trace, 1, name=f"run-{trace}", start_s=trace * 100, end_s=trace * 100 + 30,
                     attrs=attrs)  # fmt: skip


def _span(trace: int, span: int, parent: int, attrs: dict, name: str = "chat") -> dict:
    start = trace * 100 + span
    return otlp_span(trace, span, parent=parent, name=name, start_s=start, end_s=start + 5,
                     attrs=attrs)  # fmt: skip


SPANS = {
    # 1: instrumentation span > HTTP span > the SDK's own span: one call.
    (1, 1): _root(1, "ana"),
    (1, 2): _span(1, 2, 1, OPENLLMETRY_ANTHROPIC, "anthropic.chat"),
    (1, 3): _span(1, 3, 2, {"http.request.method": "POST"}, "POST"),
    (1, 4): _span(1, 4, 3, ANTHROPIC_SDK, "chat claude-sonnet-4-5"),
    # 2: OpenInference's LangChain LLM span with its OpenAI span as child: one call.
    (2, 1): _root(2, "bob"),
    (2, 2): _span(2, 2, 1, _openinference(1200, 40), "ChatOpenAI"),
    (2, 3): _span(2, 3, 2, _openinference(1200, 40), "ChatCompletion"),
    # 3: nested calls whose usage differs, and a sibling repeating its neighbour's
    # usage: three calls.
    (3, 1): _root(3, "ana"),
    (3, 2): _span(3, 2, 1, _openinference(500, 50)),
    (3, 3): _span(3, 3, 2, _openinference(500, 49)),
    (3, 4): _span(3, 4, 1, _openinference(500, 50)),
}
# What the test data says: each duplicate and the call it repeats.
DUPLICATES = {(1, 4): (1, 2), (2, 3): (2, 2)}
# The counted calls' usage, written out: (model, input, output, cache read, cache write).
COUNTED = [
    ("claude-sonnet-4-5", 2600, 80, 2000, 500),
    ("gpt-4o-mini", 1200, 40, 0, 0),
    ("gpt-4o-mini", 500, 50, 0, 0),
    ("gpt-4o-mini", 500, 49, 0, 0),
    ("gpt-4o-mini", 500, 50, 0, 0),
]
ALL = list(SPANS)
ORDERS = {
    "one batch": [ALL],
    "outer first": [
        [k for k in ALL if k not in DUPLICATES and k != (3, 3)],
        [(1, 4), (2, 3), (3, 3)],
    ],
    "inner first": [
        [(1, 4), (2, 3), (3, 3), (1, 1), (2, 1)],
        [(2, 2), (1, 2), (3, 4), (3, 1), (3, 2)],
        [(1, 3)],  # the HTTP span that shows span 4 of trace 1 is inside span 2
    ],
    "one by one, reversed": [[k] for k in reversed(ALL)],
}


def expected_metrics() -> dict:
    """Tokens, cost and calls by plain Python over the counted calls."""
    tokens = [0, 0, 0, 0]
    cost = 0.0
    calls: dict[str, int] = {}
    for model, fresh_and_cached, output, read, write in COUNTED:
        price = PRICES[model]
        read_rate = price.input if price.cache_read is None else price.cache_read
        write_rate = price.input if price.cache_write is None else price.cache_write
        fresh = fresh_and_cached - read - write
        cost += (
            fresh * price.input + read * read_rate + write * write_rate + output * price.output
        ) / 1e6
        for at, value in enumerate((fresh_and_cached, output, read, write)):
            tokens[at] += value
        calls[model] = calls.get(model, 0) + 1
    return {
        "input_tokens": tokens[0],
        "output_tokens": tokens[1],
        "cache_read_tokens": tokens[2],
        "cache_write_tokens": tokens[3],
        "cost_usd": cost,
        "calls": calls,
    }


def _write(engine, order: str) -> int:
    with engine.connect() as conn:
        org = org_id(conn, "default")
    writer = SpanWriter(engine, org, source="test", pricer=CONTEXT.pricer)
    for number, batch in enumerate(ORDERS[order]):
        raws, rejected = decode_json(otlp_request([SPANS[key] for key in batch]))
        records, unmapped = map_spans(raws, CONTEXT)
        assert not rejected and not unmapped
        writer.write(records)
        with engine.connect() as conn:  # what `python -m telemetry rollups check` runs
            assert rollup_drift(conn, org) == [], f"{order}: after batch {number}"
    return org


def _metrics(capsys, monkeypatch, engine, *argv: str) -> dict:
    monkeypatch.setenv(DATABASE_URL_ENV, engine.url.render_as_string(hide_password=False))
    assert main(["metrics", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _compare(metrics: dict, expected: dict) -> None:
    for key in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"):
        assert metrics[key] == expected[key], key
    assert metrics["cost_usd"] == pytest.approx(expected["cost_usd"], abs=1e-6)
    calls = {row["model"]: row["calls"] for row in metrics["by_model"]}
    assert calls == expected["calls"]


@pytest.mark.parametrize("order", list(ORDERS))
def test_one_call_counts_once_whatever_order_the_spans_arrive_in(
    engine, order, capsys, monkeypatch
):
    org = _write(engine, order)
    with engine.connect() as conn:
        rows = conn.execute(
            select(Trace.trace_id, Observation.span_id, Observation.kind, Observation.duplicate_of)
            .join(Trace, Trace.id == Observation.trace_pk)
            .where(Observation.org_id == org)
        ).all()
    marked = {(trace, span): of for trace, span, kind, of in rows if kind == "duplicate" or of}
    assert marked == {
        (trace_hex(t), span_hex(s)): span_hex(of[1]) for (t, s), of in DUPLICATES.items()
    }
    expected = expected_metrics()
    # Whole days come from the daily rollups, a window of hours from the base rows.
    _compare(_metrics(capsys, monkeypatch, engine, "--from", "2025-06-01", "--to", "2025-06-01"),
             expected)  # fmt: skip
    window = ("--last", "2h", "--until", "2025-06-01T13:00:00Z")
    _compare(_metrics(capsys, monkeypatch, engine, *window), expected)


def test_the_trace_keeps_both_spans_and_counts_the_call_once(engine):
    org = _write(engine, "inner first")
    with engine.connect() as conn:
        trace = conn.execute(
            select(Trace).where(Trace.org_id == org, Trace.trace_id == trace_hex(1))
        ).one()
        rows = [
            dict(row._mapping)
            for row in conn.execute(select(Observation).where(Observation.trace_pk == trace.id))
        ]
    assert (trace.generations, trace.input_tokens, trace.cache_write_tokens) == (1, 2600, 500)
    nodes, _events = build_tree(rows, trace.start_us, include_content=False)
    inner = next(node for node in nodes if node.span_id == span_hex(4))
    assert (inner.kind, inner.duplicate_of, inner.is_llm_call) == ("duplicate", span_hex(2), False)
    assert (inner.model, inner.input_tokens, inner.output_tokens) == ("claude-sonnet-4-5", 2600, 80)


def test_the_trace_view_marks_the_duplicate_and_names_the_call_it_repeats(sqlite_engine):
    from types import SimpleNamespace

    from ui.trace_view import steps_frame

    org = _write(sqlite_engine, "one batch")
    with sqlite_engine.connect() as conn:
        trace = conn.execute(
            select(Trace).where(Trace.org_id == org, Trace.trace_id == trace_hex(1))
        ).one()
        rows = [
            dict(row._mapping)
            for row in conn.execute(select(Observation).where(Observation.trace_pk == trace.id))
        ]
    nodes, _events = build_tree(rows, trace.start_us, include_content=False)
    frame = steps_frame(SimpleNamespace(observations=nodes))
    names = [name.strip("\u2003 ") for name in frame["Name"]]
    assert names == [
        "run-1",
        "anthropic.chat",
        "POST",
        'chat claude-sonnet-4-5 (duplicate of step 2 "anthropic.chat", not counted)',
    ]
    assert list(frame["Tokens"])[1] == list(frame["Tokens"])[3] == "2,680"  # both shown
