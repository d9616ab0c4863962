"""Spans as each library emits them (attribute sets written from the published conventions).

OpenTelemetry GenAI (current and previous names), OpenInference, OpenLLMetry; and
docs/ingest.md lists exactly the attribute names the mapping reads.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from telemetry.ingest.attributes import MAPPING
from telemetry.ingest.limits import Limits
from telemetry.ingest.mapping import MappingContext, map_span
from telemetry.ingest.otlp_json import decode_json
from telemetry.pricing import Price, Pricer
from tests.ingest_support import otlp_request, otlp_span

# USD per million tokens, as an organization's own prices: the expected costs below
# are computed by hand from these, not by the catalog.
PRICE = Price(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75)
CONTEXT = MappingContext(
    Pricer({"claude-sonnet-4-5": PRICE, "gpt-4o-mini": PRICE, "text-embedding-3-small": PRICE}),
    Limits(),
)
DOC = Path(__file__).resolve().parent.parent / "docs" / "ingest.md"


def mapped(attrs: dict, *, status: int = 1) -> dict:
    raws, rejections = decode_json(otlp_request([otlp_span(1, 2, attrs=attrs, status=status)]))
    assert rejections == []
    return map_span(raws[0], CONTEXT)


def usage(record: dict) -> tuple:
    fields = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
    return tuple(record[f] for f in fields)


def by_hand(fresh: int, read: int, write: int, output: int) -> float:
    """Cost of a call from its token counts and PRICE (input excludes the cache here)."""
    return (fresh * 3.0 + read * 0.3 + write * 3.75 + output * 15.0) / 1_000_000


# An Anthropic call: 100 fresh input tokens, 2,000 read from and 500 written to the
# cache, 80 output tokens. GenAI input tokens include the cached ones: 2,600.
ANTHROPIC_COST = by_hand(100, 2000, 500, 80)


def test_current_genai_cache_write_name_is_read_and_priced():
    # The anthropic SDK's own tracing, current GenAI conventions.
    record = mapped(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "anthropic",
            "gen_ai.request.model": "claude-sonnet-4-5",
            "gen_ai.usage.input_tokens": 2600,
            "gen_ai.usage.output_tokens": 80,
            "gen_ai.usage.cache_read.input_tokens": 2000,
            "gen_ai.usage.cache_write.input_tokens": 500,
        }
    )
    assert (record["kind"], record["provider"]) == ("generation", "anthropic")
    assert usage(record) == (2600, 80, 2000, 500)
    assert record["cost_usd"] == pytest.approx(ANTHROPIC_COST)
    assert record["cost_source"] == "override"


def test_previous_genai_cache_write_name_gives_the_same_record():
    current = mapped(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "anthropic",
            "gen_ai.request.model": "claude-sonnet-4-5",
            "gen_ai.usage.input_tokens": 2600,
            "gen_ai.usage.output_tokens": 80,
            "gen_ai.usage.cache_read.input_tokens": 2000,
            "gen_ai.usage.cache_write.input_tokens": 500,
        }
    )
    # OpenLLMetry's anthropic instrumentation (2026): input summed with the cache,
    # the cache write under the previous GenAI name, a total beside.
    previous = mapped(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "anthropic",
            "gen_ai.request.model": "claude-sonnet-4-5",
            "gen_ai.response.model": "claude-sonnet-4-5",
            "gen_ai.usage.input_tokens": 2600,
            "gen_ai.usage.output_tokens": 80,
            "gen_ai.usage.total_tokens": 2680,
            "gen_ai.usage.cache_read.input_tokens": 2000,
            "gen_ai.usage.cache_creation.input_tokens": 500,
        }
    )
    keys = ("kind", "model", "provider", "input_tokens", "output_tokens", "cache_read_tokens")
    keys += ("cache_write_tokens", "cost_usd", "cost_source")
    assert {k: previous[k] for k in keys} == {k: current[k] for k in keys}


def test_current_name_wins_over_the_previous_one():
    record = mapped(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "claude-sonnet-4-5",
            "gen_ai.usage.input_tokens": 2600,
            "gen_ai.usage.output_tokens": 80,
            "gen_ai.usage.cache_write.input_tokens": 500,
            "gen_ai.usage.cache_creation.input_tokens": 7,
        }
    )
    assert record["cache_write_tokens"] == 500


def test_official_openai_instrumentation_chat_span():
    # opentelemetry-instrumentation-openai-v2: older gen_ai.system, cached input read.
    record = mapped(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.system": "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.response.model": "gpt-4o-mini",
            "gen_ai.response.id": "chatcmpl-1",
            "gen_ai.response.finish_reasons": ["stop"],
            "gen_ai.usage.input_tokens": 1200,
            "gen_ai.usage.output_tokens": 40,
            "gen_ai.usage.cache_read.input_tokens": 1024,
            "server.address": "api.openai.com",
        }
    )
    assert (record["kind"], record["provider"], record["model"]) == (
        "generation",
        "openai",
        "gpt-4o-mini",
    )
    assert usage(record) == (1200, 40, 1024, 0)
    assert record["cost_usd"] == pytest.approx(by_hand(176, 1024, 0, 40))


def test_openinference_llm_span_with_cache_details_and_total():
    # The OpenInference spec's LLM span, with Anthropic cache details.
    record = mapped(
        {
            "openinference.span.kind": "LLM",
            "llm.system": "anthropic",
            "llm.provider": "anthropic",
            "llm.model_name": "claude-sonnet-4-5",
            "llm.invocation_parameters": json.dumps({"max_tokens": 1024}),
            "llm.token_count.prompt": 2600,
            "llm.token_count.completion": 80,
            "llm.token_count.total": 2680,
            "llm.token_count.prompt_details.cache_read": 2000,
            "llm.token_count.prompt_details.cache_write": 500,
            "input.mime_type": "application/json",
        }
    )
    assert (record["kind"], record["operation"], record["model"]) == (
        "generation",
        "llm",
        "claude-sonnet-4-5",
    )
    assert usage(record) == (2600, 80, 2000, 500)
    assert record["cost_usd"] == pytest.approx(ANTHROPIC_COST)


def test_openinference_failed_call_takes_its_model_from_the_invocation_parameters():
    # A failed call: no llm.model_name, no token counts; the request names the model.
    record = mapped(
        {
            "openinference.span.kind": "LLM",
            "llm.system": "openai",
            "llm.invocation_parameters": json.dumps({"model": "gpt-4o-mini", "temperature": 0}),
        },
        status=2,
    )
    assert (record["kind"], record["model"], record["status"]) == (
        "generation",
        "gpt-4o-mini",
        "error",
    )
    assert record["cost_source"] == "override"  # priced (at zero tokens), not "unpriced"


@pytest.mark.parametrize(
    "parameters, model",
    [
        ('{"model_name": "gpt-4o-mini"}', "gpt-4o-mini"),  # the spec's example key
        ("not json", ""),
        ('["gpt-4o-mini"]', ""),
        ('{"model": 4}', ""),
    ],
)
def test_invocation_parameters_that_name_no_model_leave_it_empty(parameters, model):
    record = mapped({"openinference.span.kind": "LLM", "llm.invocation_parameters": parameters})
    assert record["model"] == model


def test_model_name_wins_over_the_invocation_parameters():
    record = mapped(
        {
            "openinference.span.kind": "LLM",
            "llm.model_name": "gpt-4o-mini-2024-07-18",
            "llm.invocation_parameters": '{"model": "gpt-4o-mini"}',
        }
    )
    assert record["model"] == "gpt-4o-mini-2024-07-18"


def test_openinference_embedding_span():
    record = mapped(
        {
            "openinference.span.kind": "EMBEDDING",
            "embedding.model_name": "text-embedding-3-small",
            "llm.token_count.prompt": 12,
            "llm.token_count.total": 12,
        }
    )
    assert (record["kind"], record["model"], usage(record)) == (
        "embedding",
        "text-embedding-3-small",
        (12, 0, 0, 0),
    )


def test_openllmetry_legacy_chat_span():
    # OpenLLMetry before its move to the GenAI names (semconv_ai LLM_* attributes).
    record = mapped(
        {
            "llm.request.type": "chat",
            "gen_ai.system": "Anthropic",
            "gen_ai.request.model": "claude-sonnet-4-5",
            "gen_ai.response.model": "claude-sonnet-4-5",
            "gen_ai.usage.prompt_tokens": 2600,
            "gen_ai.usage.completion_tokens": 80,
            "llm.usage.total_tokens": 2680,
            "gen_ai.usage.cache_read_input_tokens": 2000,
            "gen_ai.usage.cache_creation_input_tokens": 500,
            "llm.usage.reasoning_tokens": 0,
        }
    )
    assert (record["kind"], record["operation"]) == ("generation", "chat")
    assert usage(record) == (2600, 80, 2000, 500)
    assert record["cost_usd"] == pytest.approx(ANTHROPIC_COST)


def test_openllmetry_embedding_with_prompt_and_total_only():
    record = mapped(
        {
            "llm.request.type": "embedding",
            "gen_ai.system": "openai",
            "gen_ai.request.model": "text-embedding-3-small",
            "gen_ai.usage.prompt_tokens": 9,
            "llm.usage.total_tokens": 9,
        }
    )
    assert (record["kind"], usage(record)) == ("embedding", (9, 0, 0, 0))


@pytest.mark.parametrize(
    "attrs, expected",
    [
        ({"gen_ai.usage.input_tokens": 30, "gen_ai.usage.total_tokens": 50}, (30, 20)),
        ({"gen_ai.usage.output_tokens": 20, "llm.usage.total_tokens": 50}, (30, 20)),
        ({"llm.token_count.total": 50}, (0, 0)),  # a chat call: input and output unknown
        ({"gen_ai.usage.input_tokens": 60, "gen_ai.usage.total_tokens": 50}, (60, 0)),
    ],
)
def test_a_total_fills_in_only_the_missing_side(attrs, expected):
    record = mapped({"gen_ai.operation.name": "chat", "gen_ai.request.model": "m", **attrs})
    assert (record["input_tokens"], record["output_tokens"]) == expected


def test_openllmetry_reasoning_and_tool_spans():
    reasoning = mapped(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "o3",
            "gen_ai.usage.input_tokens": 10,
            "gen_ai.usage.output_tokens": 90,
            "gen_ai.usage.reasoning_tokens": 64,
        }
    )
    assert reasoning["reasoning_tokens"] == 64
    tool = mapped({"traceloop.span.kind": "tool", "traceloop.entity.name": "search"})
    assert (tool["kind"], tool["operation"]) == ("tool", "tool")
    workflow = mapped({"traceloop.span.kind": "workflow"})
    assert workflow["kind"] == "span"


def _documented_names() -> set[str]:
    """Backticked attribute names of the "Attribute mapping" section of docs/ingest.md."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index("## Attribute mapping")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end != -1 else None]
    return set(re.findall(r"`([a-z_]+(?:\.[a-z_0-9]+)+)`", section))


def test_docs_list_every_attribute_the_mapping_reads():
    read = {name for names in MAPPING.values() for name in names}
    missing = read - _documented_names()
    assert not missing, f"docs/ingest.md does not list: {sorted(missing)}"


def test_docs_list_no_attribute_the_mapping_does_not_read():
    read = {name for names in MAPPING.values() for name in names}
    # Named in the docs but read outside MAPPING: content prefixes, span events.
    elsewhere = {
        "gen_ai.prompt",
        "gen_ai.completion",
        "llm.input_messages",
        "llm.output_messages",
        "gen_ai.evaluation.result",
        "gen_ai.evaluation.name",
        "gen_ai.evaluation.score.value",
        "gen_ai.evaluation.score.label",
        "gen_ai.evaluation.explanation",
        "exception.type",
        "exception.message",
        "task.outcome",
        "code.lines_added",
        "code.lines_removed",
    }
    extra = _documented_names() - read - elsewhere
    assert not extra, f"docs/ingest.md lists names the mapping does not read: {sorted(extra)}"
