"""The spans the ingest benches send: deterministic agent runs as OTLP JSON lines or protobuf.

An agent run is 5 spans: a root agent span (user, session, agent), two LLM calls
with cached tokens, two tool calls, one in twenty failing; 200 users, 5,000
sessions, 5 services, runs spread evenly over the days asked for.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from bench.common import CACHE

SPANS_PER_RUN = 5
RUNS_PER_LINE = 100
HTTP_BATCH = 512
T0_NS = 1_761_955_200 * 1_000_000_000  # 2025-11-01 00:00 UTC, fixed so the data never changes
DAY_NS = 86_400 * 1_000_000_000
MODULES = ("code-review", "support-bot", "triage", "docs-writer", "sql-agent")
MODELS = (("gpt-4o", "openai"), ("claude-3-5-sonnet", "anthropic"), ("gpt-4o-mini", "openai"))


def agent_runs(
    count: int, days: int, seed: int = 7, *, first_day: int = 0, first_run: int = 0
) -> Iterator[tuple[str, list[tuple]]]:
    """(module, spans) per run, runs spread evenly over ``days`` days from T0 + ``first_day``.

    A span is (trace, span, parent, name, start, end, status code, attributes). Runs of
    another ``first_day`` get other trace ids; so do runs numbered from another
    ``first_run`` (below 10,000,000), for more runs on a day that already has some.
    """
    rng = random.Random(seed)
    step_ns = days * DAY_NS // count
    for number in range(count):
        run = first_run + number + first_day * 10_000_000
        trace = f"{run + 1:032x}"
        start = T0_NS + first_day * DAY_NS + number * step_ns
        module = MODULES[run % len(MODULES)]
        root = f"{run * 8 + 1:016x}"
        spans = [
            (
                trace, root, "", "agent-run", start, start + 9_000_000_000, 1,
                {
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": f"{module}-agent",
                    "enduser.id": f"user-{rng.randrange(200)}",
                    "gen_ai.conversation.id": f"session-{rng.randrange(5000)}",
                },
            )
        ]  # fmt: skip
        for step in range(2):
            model, provider = MODELS[rng.randrange(len(MODELS))]
            tokens_in = rng.randrange(200, 20_000)
            begin = start + (1 + 4 * step) * 1_000_000_000
            spans.append(
                (
                    trace, f"{run * 8 + 2 + step:016x}", root, f"chat {model}", begin,
                    begin + rng.randrange(300, 3000) * 1_000_000, 1,
                    {
                        "gen_ai.operation.name": "chat",
                        "gen_ai.request.model": model,
                        "gen_ai.provider.name": provider,
                        "gen_ai.usage.input_tokens": tokens_in,
                        "gen_ai.usage.cache_read.input_tokens": tokens_in // 3,
                        "gen_ai.usage.output_tokens": rng.randrange(10, 2000),
                        "gen_ai.input.messages": "Summarise the change set and list risks. " * 2,
                    },
                )
            )  # fmt: skip
        for step in range(2):
            begin = start + (3 + 4 * step) * 1_000_000_000
            failed = rng.random() < 0.05
            spans.append(
                (
                    trace, f"{run * 8 + 4 + step:016x}", root, "execute_tool", begin,
                    begin + rng.randrange(5, 800) * 1_000_000, 2 if failed else 1,
                    {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": f"tool-{step}"},
                )
            )  # fmt: skip
        yield module, spans


def _json_value(value) -> dict:
    if isinstance(value, int):
        return {"intValue": str(value)}
    return {"stringValue": value}


def _json_request(runs: list[tuple[str, list[tuple]]]) -> dict:
    resources = []
    for module, spans in runs:
        resources.append(
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": module}}]
                },
                "scopeSpans": [
                    {"scope": {"name": "bench"}, "spans": [_json_span(s) for s in spans]}
                ],
            }
        )
    return {"resourceSpans": resources}


def _json_span(span: tuple) -> dict:
    trace, span_id, parent, name, start, end, code, attrs = span
    return {
        "traceId": trace,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": name,
        "kind": 1,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(end),
        "attributes": [{"key": k, "value": _json_value(v)} for k, v in attrs.items()],
        "status": {"code": code},
    }


def otlp_json_file(spans: int, days: int = 365) -> Path:
    """The deterministic OTLP JSON file of ``spans`` spans (written once, then reused)."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"otlp-{spans}-{days}d.jsonl"
    if path.exists():
        return path
    print(f"writing {path} (once)", flush=True)
    runs = list(agent_runs(spans // SPANS_PER_RUN, days))
    partial = path.with_suffix(".partial")
    with partial.open("w") as handle:
        for at in range(0, len(runs), RUNS_PER_LINE):
            handle.write(json.dumps(_json_request(runs[at : at + RUNS_PER_LINE])) + "\n")
    partial.rename(path)
    return path


def protobuf_requests(spans: int, days: int = 365, *, sdk_order: bool = False) -> list[bytes]:
    """Binary ExportTraceServiceRequests of 512 spans (pre-encoded: the client costs nothing).

    ``sdk_order``: spans in the order they end, as an SDK's batch processor exports
    them (children before their root, runs interleaved), not run by run.
    """
    flat = [
        (module, span)
        for module, run in agent_runs(spans // SPANS_PER_RUN, days, seed=11)
        for span in run
    ]
    if sdk_order:
        flat.sort(key=lambda pair: pair[1][5])
    return encode_requests(flat)


def encode_requests(flat: list[tuple[str, tuple]], batch: int = HTTP_BATCH) -> list[bytes]:
    """(module, span) pairs as binary ExportTraceServiceRequests of ``batch`` spans each."""
    bodies = []
    for at in range(0, len(flat), batch):
        request = ExportTraceServiceRequest()
        by_module: dict[str, object] = {}
        for module, (trace, span_id, parent, name, start, end, code, attrs) in flat[
            at : at + batch
        ]:
            if module not in by_module:
                resource_spans = request.resource_spans.add()
                resource_spans.resource.attributes.append(
                    KeyValue(key="service.name", value=AnyValue(string_value=module))
                )
                by_module[module] = resource_spans.scope_spans.add()
            pb = by_module[module].spans.add()
            pb.trace_id = bytes.fromhex(trace)
            pb.span_id = bytes.fromhex(span_id)
            pb.parent_span_id = bytes.fromhex(parent)
            pb.name = name
            pb.kind = Span.SPAN_KIND_INTERNAL
            pb.start_time_unix_nano = start
            pb.end_time_unix_nano = end
            pb.status.CopyFrom(Status(code=code))
            for key, value in attrs.items():
                any_value = (
                    AnyValue(int_value=value)
                    if isinstance(value, int)
                    else AnyValue(string_value=value)
                )
                pb.attributes.append(KeyValue(key=key, value=any_value))
        bodies.append(request.SerializeToString())
    return bodies
