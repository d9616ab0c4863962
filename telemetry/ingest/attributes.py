"""The attribute mapping table of docs/ingest.md, and a one-pass lookup of a span's mapped values.

For each field the attribute names are listed in order of precedence (current
OpenTelemetry GenAI names, then older ones, then OpenInference and OpenLLMetry);
the first one present wins. :func:`mapped_values` reads every attribute of a span
once instead of probing each name, which matters at a million spans.
"""

from __future__ import annotations

from typing import Any

from telemetry.models import ObservationKind

MAPPING: dict[str, tuple[str, ...]] = {
    # OpenInference: llm.model_name is the response model when known (else the request's).
    "model": (
        "gen_ai.response.model",
        "gen_ai.request.model",
        "llm.response.model_name",
        "llm.model_name",
        "llm.request.model_name",
        "embedding.model_name",
    ),
    # JSON of the request; its "model" names the model when no attribute above does
    # (OpenInference gives failed calls no llm.model_name).
    "invocation_parameters": ("llm.invocation_parameters", "embedding.invocation_parameters"),
    "provider": ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"),
    "operation": ("gen_ai.operation.name",),
    "openinference_kind": ("openinference.span.kind",),
    "request_type": ("llm.request.type",),  # OpenLLMetry before gen_ai.operation.name
    "traceloop_kind": ("traceloop.span.kind",),  # OpenLLMetry workflow/task/agent/tool
    "input_tokens": (
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.prompt_tokens",  # GenAI before July 2024; OpenLLMetry
        "llm.token_count.prompt",
    ),
    "output_tokens": (
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.completion_tokens",  # GenAI before July 2024; OpenLLMetry
        "llm.token_count.completion",
    ),
    # Only to derive input or output when one of them is missing (see mapping._set_usage).
    "total_tokens": (
        "gen_ai.usage.total_tokens",  # OpenLLMetry
        "llm.usage.total_tokens",  # OpenLLMetry, older
        "llm.token_count.total",
    ),
    "cache_read_tokens": (
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_read_input_tokens",  # OpenLLMetry, older
        "llm.token_count.prompt_details.cache_read",
    ),
    "cache_write_tokens": (
        "gen_ai.usage.cache_write.input_tokens",  # GenAI, current
        "gen_ai.usage.cache_creation.input_tokens",  # GenAI, previous name
        "gen_ai.usage.cache_creation_input_tokens",  # OpenLLMetry, older
        "llm.token_count.prompt_details.cache_write",
    ),
    "reasoning_tokens": (
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.usage.reasoning_tokens",  # OpenLLMetry
        "llm.usage.reasoning_tokens",  # OpenLLMetry, older
        "llm.token_count.completion_details.reasoning",
    ),
    "cost": ("llm.cost.total", "gen_ai.usage.cost"),
    "session": ("gen_ai.conversation.id", "session.id"),
    "user": ("enduser.id", "user.id"),
    "user_email": ("user.email", "enduser.email"),
    "user_name": ("user.name",),
    "team": ("team.name",),
    "agent": ("gen_ai.agent.name",),
    "tool_name": ("gen_ai.tool.name", "tool.name"),
    "tool_type": ("gen_ai.tool.type",),
    "mcp_method": ("mcp.method.name",),
    "module": ("service.name",),
    "environment": ("deployment.environment.name", "deployment.environment"),
    "error_type": ("error.type",),
    "input_content": ("gen_ai.input.messages", "input.value", "gen_ai.tool.call.arguments"),
    "output_content": ("gen_ai.output.messages", "output.value", "gen_ai.tool.call.result"),
}
TOKEN_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)
USAGE_FIELDS = (*TOKEN_FIELDS, "total_tokens")  # a span naming any of these reports usage
# Older per-message content attributes (OpenLLMetry, OpenInference): kept as content.
INPUT_PREFIXES = ("gen_ai.prompt.", "llm.input_messages.")
OUTPUT_PREFIXES = ("gen_ai.completion.", "llm.output_messages.")
CONTENT_KEYS = frozenset(MAPPING["input_content"] + MAPPING["output_content"])
CONTENT_PREFIXES = INPUT_PREFIXES + OUTPUT_PREFIXES

OPERATION_KINDS = {
    "chat": ObservationKind.GENERATION,
    "text_completion": ObservationKind.GENERATION,
    "generate_content": ObservationKind.GENERATION,
    "embeddings": ObservationKind.EMBEDDING,
    "execute_tool": ObservationKind.TOOL,
    "invoke_agent": ObservationKind.AGENT,
    "create_agent": ObservationKind.AGENT,
}
OPENINFERENCE_KINDS = {
    "LLM": ObservationKind.GENERATION,
    "EMBEDDING": ObservationKind.EMBEDDING,
    "TOOL": ObservationKind.TOOL,
    "AGENT": ObservationKind.AGENT,
    "RETRIEVER": ObservationKind.RETRIEVER,
    "CHAIN": ObservationKind.SPAN,
}
REQUEST_TYPE_KINDS = {
    "chat": ObservationKind.GENERATION,
    "completion": ObservationKind.GENERATION,
    "embedding": ObservationKind.EMBEDDING,
}
TRACELOOP_KINDS = {
    "tool": ObservationKind.TOOL,
    "agent": ObservationKind.AGENT,
    "workflow": ObservationKind.SPAN,
    "task": ObservationKind.SPAN,
}

# attribute name -> (field, precedence); lower precedence wins
_FIELD_OF = {key: (field, rank) for field, keys in MAPPING.items() for rank, key in enumerate(keys)}


def mapped_values(attrs: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """field -> (attribute name, value) of the winning attribute of each mapped field."""
    found: dict[str, tuple[str, Any]] = {}
    ranks: dict[str, int] = {}
    for key, value in attrs.items():
        hit = _FIELD_OF.get(key)
        if hit is None or value is None or value == "":
            continue
        field, rank = hit
        if rank < ranks.get(field, 99):
            found[field] = (key, value)
            ranks[field] = rank
    return found


def observation_kind(found: dict[str, tuple[str, Any]]) -> tuple[ObservationKind, str]:
    """The kind of step a span is, and the operation name it was told by."""
    if "operation" in found:
        operation = str(found["operation"][1])
        return OPERATION_KINDS.get(operation, ObservationKind.SPAN), operation
    if "openinference_kind" in found:
        span_kind = str(found["openinference_kind"][1]).upper()
        return OPENINFERENCE_KINDS.get(span_kind, ObservationKind.SPAN), span_kind.lower()
    if "request_type" in found:
        request_type = str(found["request_type"][1])
        return REQUEST_TYPE_KINDS.get(request_type, ObservationKind.SPAN), request_type
    if "traceloop_kind" in found:
        traceloop_kind = str(found["traceloop_kind"][1])
        return TRACELOOP_KINDS.get(traceloop_kind, ObservationKind.SPAN), traceloop_kind
    if "mcp_method" in found and found["mcp_method"][1] == "tools/call":
        return ObservationKind.TOOL, "tools/call"
    # No operation at all: a span naming a model and counting tokens is an LLM call.
    if "model" in found and ("input_tokens" in found or "output_tokens" in found):
        return ObservationKind.GENERATION, ""
    return ObservationKind.SPAN, ""
